"""Labelled synthetic photos of pages, for the benchmark, the tests and the demo.

``make_scene(rng, kind)`` draws one 1280×720 BGR frame and the page's true outline (four
corners clockwise from top-left, float pixels) or None for a frame with no page. Every
random choice comes from the ``numpy.random.Generator`` handed in, so a seed gives the
same set again. What varies: the background (wood, cloth, clutter, a pale table, plain),
the page (A4 form, certificate, household register page, with red seals), its size,
rotation and perspective, a lighting gradient, glare, a shadow, a thumb or finger over
an edge, blur, noise and JPEG artefacts.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

WIDTH, HEIGHT = 1280, 720
BACKGROUNDS = ("wood", "cloth", "clutter", "pale", "plain")
PAGE_ASPECTS = (297 / 210, 297 / 210, 297 / 210, 257 / 182, 210 / 148, 270 / 190)


@dataclass(frozen=True)
class Scene:
    image: np.ndarray
    quad: np.ndarray | None  # 4×2 float, clockwise from top-left; None: no page
    background: str
    effects: tuple[str, ...]


def _wood(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    u = x * np.cos(angle) + y * np.sin(angle)
    v = -x * np.sin(angle) + y * np.cos(angle)
    freq = rng.uniform(0.03, 0.09)
    warp = 12 * np.sin(v * rng.uniform(0.004, 0.012) + rng.uniform(0, 6))
    grain = 0.5 + 0.5 * np.sin((u + warp) * freq)
    base = np.array([rng.uniform(40, 90), rng.uniform(80, 140), rng.uniform(120, 200)], np.float32)
    img: np.ndarray = base * (0.75 + 0.35 * grain[..., None])
    return img


def _cloth(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    period = rng.uniform(3, 8)
    weave = 0.5 + 0.25 * (np.sin(x * 2 * np.pi / period) + np.sin(y * 2 * np.pi / period))
    colour = rng.uniform(30, 220, 3).astype(np.float32)
    img: np.ndarray = colour * (0.8 + 0.3 * weave[..., None])
    if rng.random() < 0.5:  # a check or stripe pattern
        stripe = ((x // rng.integers(20, 60) + y // rng.integers(20, 60)) % 2).astype(np.float32)
        img = img * (0.8 + 0.25 * stripe[..., None])
    return img


def _pale(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    tone = rng.uniform(165, 215)
    tint = rng.uniform(-12, 12, 3)
    img = np.empty((h, w, 3), np.float32)
    img[:] = tone + tint
    noise = cv2.GaussianBlur(rng.normal(0, 6, (h, w)).astype(np.float32), (0, 0), 6)
    return img + noise[..., None]


def _plain(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    img = np.empty((h, w, 3), np.float32)
    img[:] = rng.uniform(20, 160, 3)
    return img


def _clutter(rng: np.random.Generator, h: int, w: int, avoid: np.ndarray | None) -> np.ndarray:
    img = _wood(rng, h, w) if rng.random() < 0.5 else _plain(rng, h, w)
    canvas = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(6, 16))):
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        kind = rng.integers(0, 4)
        cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
        if kind == 0:  # a pen, a cable
            x2, y2 = cx + int(rng.integers(-300, 300)), cy + int(rng.integers(-300, 300))
            cv2.line(canvas, (cx, cy), (x2, y2), colour, int(rng.integers(3, 14)), cv2.LINE_AA)
        elif kind == 1:  # a cup, a coin
            cv2.circle(canvas, (cx, cy), int(rng.integers(15, 70)), colour, -1, cv2.LINE_AA)
        elif kind == 2:  # a phone, a box, a small card (smaller than any page)
            rect = ((cx, cy), (float(rng.uniform(30, 170)), float(rng.uniform(30, 120))),
                    float(rng.uniform(0, 180)))
            box = cv2.boxPoints(rect).astype(np.int32)
            cv2.fillConvexPoly(canvas, box, colour, cv2.LINE_AA)
        else:  # a text scrap
            cv2.putText(canvas, "ABC 123", (cx, cy), cv2.FONT_HERSHEY_SIMPLEX, rng.uniform(0.8, 2.0),
                        colour, int(rng.integers(2, 5)), cv2.LINE_AA)
    return np.asarray(canvas.astype(np.float32))


def _page_texture(rng: np.random.Generator, pw: int, ph: int) -> np.ndarray:
    paper = np.array([rng.uniform(205, 250)] * 3, np.float32) + rng.uniform(-10, 4, 3)
    page = np.empty((ph, pw, 3), np.uint8)
    page[:] = np.clip(paper, 0, 255).astype(np.uint8)
    ink = (float(rng.uniform(10, 60)),) * 3
    margin = int(pw * rng.uniform(0.06, 0.12))
    if rng.random() < 0.5:  # a printed border (certificates, register pages)
        cv2.rectangle(page, (margin // 2, margin // 2), (pw - margin // 2, ph - margin // 2), ink,
                      int(rng.integers(2, 6)))
    cv2.putText(page, "SAMPLE PAGE", (margin, margin + 40), cv2.FONT_HERSHEY_DUPLEX, pw / 500, ink, 2,
                cv2.LINE_AA)
    y = margin + 90
    table = rng.random() < 0.5
    while y < ph - margin:
        if table:
            cv2.line(page, (margin, y), (pw - margin, y), ink, 2)
        x = margin + 8
        while x < pw - margin - 40:
            word = int(rng.integers(15, 70))
            cv2.rectangle(page, (x, y - 18), (min(x + word, pw - margin), y - 8), ink, -1)
            x += word + int(rng.integers(8, 18))
        y += int(rng.integers(32, 48))
    if rng.random() < 0.7:  # a red seal
        r = int(pw * rng.uniform(0.08, 0.13))
        c = (int(pw * rng.uniform(0.55, 0.8)), int(ph * rng.uniform(0.6, 0.85)))
        red = (40.0, 40.0, 200.0)
        cv2.circle(page, c, r, red, max(3, r // 10), cv2.LINE_AA)
        cv2.circle(page, c, r // 4, red, -1, cv2.LINE_AA)
    return page.astype(np.float32)


def _order(quad: np.ndarray) -> np.ndarray:
    """Corners clockwise (in image coordinates) starting from the top-left one."""
    centre = quad.mean(axis=0)
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    quad = quad[np.argsort(angles)]  # clockwise on screen (y down)
    start = int(np.argmin(quad[:, 0] + quad[:, 1]))
    return np.roll(quad, -start, axis=0)


def _page_quad(rng: np.random.Generator, aspect: float) -> np.ndarray:
    """Where the page lands: size, rotation, perspective, fully inside the frame."""
    for _ in range(200):
        height = rng.uniform(0.55, 0.97) * HEIGHT
        portrait = rng.random() < 0.8
        pw, ph = (height / aspect, height) if portrait else (height, height / aspect)
        if pw > WIDTH * 0.9:
            continue
        angle = np.deg2rad(rng.normal(0, 12) if rng.random() < 0.85 else rng.uniform(-45, 45))
        c, s = np.cos(angle), np.sin(angle)
        base = np.array([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2], [-pw / 2, ph / 2]])
        quad = base @ np.array([[c, s], [-s, c]])
        tilt = rng.uniform(0, 0.18)  # perspective: one side shorter than the other
        side = int(rng.integers(0, 4))
        a, b = side, (side + 1) % 4
        mid = (quad[a] + quad[b]) / 2
        quad[a] += (mid - quad[a]) * tilt
        quad[b] += (mid - quad[b]) * tilt
        quad += rng.normal(0, 0.012 * height, (4, 2))
        centre = np.array([rng.uniform(0.3, 0.7) * WIDTH, rng.uniform(0.4, 0.6) * HEIGHT])
        quad += centre
        if quad[:, 0].min() > 8 and quad[:, 0].max() < WIDTH - 8 and quad[:, 1].min() > 8 \
                and quad[:, 1].max() < HEIGHT - 8:
            return np.asarray(quad.astype(np.float32))
    raise RuntimeError("no page placement found")


def _finger(rng: np.random.Generator, img: np.ndarray, quad: np.ndarray) -> None:
    """A thumb or finger reaching over one edge of the page from outside."""
    side = int(rng.integers(0, 4))
    p, q = quad[side], quad[(side + 1) % 4]
    t = rng.uniform(0.25, 0.75)
    at = p + (q - p) * t
    inward = quad.mean(axis=0) - at
    inward /= np.linalg.norm(inward) + 1e-6
    width = rng.uniform(38, 70)
    tip = at + inward * rng.uniform(15, 55)
    root = at - inward * 400
    skin = (float(rng.uniform(90, 140)), float(rng.uniform(130, 170)), float(rng.uniform(180, 230)))
    mask = np.zeros(img.shape[:2], np.uint8)
    cv2.line(mask, tuple(int(v) for v in root), tuple(int(v) for v in tip), 255, int(width), cv2.LINE_AA)
    cv2.circle(mask, tuple(int(v) for v in tip), int(width / 2), 255, -1, cv2.LINE_AA)
    alpha = cv2.GaussianBlur(mask, (5, 5), 0).astype(np.float32)[..., None] / 255
    shade = cv2.GaussianBlur(mask, (0, 0), width / 3).astype(np.float32)[..., None] / 255
    finger = np.empty_like(img)
    finger[:] = skin
    finger *= 0.85 + 0.15 * shade
    img[:] = img * (1 - alpha) + finger * alpha


def _lighting(rng: np.random.Generator, img: np.ndarray, effects: list[str]) -> None:
    h, w = img.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.random() < 0.7:
        angle = rng.uniform(0, 2 * np.pi)
        ramp = (x * np.cos(angle) + y * np.sin(angle)) / np.hypot(w, h)
        ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min() + 1e-6)
        strength = rng.uniform(0.15, 0.5)
        img *= (1 - strength * ramp)[..., None]
        effects.append("gradient")
    if rng.random() < 0.35:  # a soft shadow from a head or a hand
        mask: np.ndarray = np.zeros((h, w), np.float32)
        pts = np.array([[rng.uniform(0, w), rng.uniform(0, h)] for _ in range(5)], np.int32)
        cv2.fillConvexPoly(mask, cv2.convexHull(pts), 1.0)
        mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(8, 40))
        img *= (1 - rng.uniform(0.25, 0.5) * mask)[..., None]
        effects.append("shadow")
    if rng.random() < 0.3:  # glare from a lamp
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        r = rng.uniform(25, 90)
        spot = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
        img += (spot * rng.uniform(120, 255))[..., None]
        effects.append("glare")


def make_scene(rng: np.random.Generator, kind: str | None = None, page: bool = True) -> Scene:
    """One labelled frame; ``kind`` picks the background (random when None)."""
    kind = kind or str(rng.choice(BACKGROUNDS))
    effects: list[str] = []
    if kind == "wood":
        img = _wood(rng, HEIGHT, WIDTH)
    elif kind == "cloth":
        img = _cloth(rng, HEIGHT, WIDTH)
    elif kind == "pale":
        img = _pale(rng, HEIGHT, WIDTH)
    elif kind == "clutter":
        img = _clutter(rng, HEIGHT, WIDTH, None)
    else:
        img = _plain(rng, HEIGHT, WIDTH)
    img = img.astype(np.float32)
    quad = None
    if page:
        aspect = float(rng.choice(PAGE_ASPECTS))
        quad = _page_quad(rng, aspect)
        quad = _order(quad)
        pw = 900
        ph = int(round(pw * aspect))
        texture = _page_texture(rng, pw, ph)
        # The page's own corners in texture space follow the quad's orientation.
        src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
        top = np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])
        left = np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])
        if (top > left) != (pw > ph):
            src = np.roll(src, 1, axis=0)
        matrix = cv2.getPerspectiveTransform(src, quad)
        warped = cv2.warpPerspective(texture, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_AREA)
        mask = np.zeros((HEIGHT * 4, WIDTH * 4), np.uint8)  # 4× supersampled coverage
        cv2.fillConvexPoly(mask, np.round(quad * 4).astype(np.int32), 255, cv2.LINE_8)
        alpha = cv2.resize(mask, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        if rng.random() < 0.6:  # the page casts a thin shadow on the table
            offset = rng.uniform(2, 8, 2)
            drop: np.ndarray = np.zeros((HEIGHT, WIDTH), np.float32)
            cv2.fillConvexPoly(drop, np.round(quad + offset).astype(np.int32), 1.0)
            drop = cv2.GaussianBlur(drop, (0, 0), 4)
            img *= (1 - 0.35 * drop)[..., None]
        img = img * (1 - alpha[..., None]) + warped * alpha[..., None]
        if rng.random() < 0.3:
            _finger(rng, img, quad)
            effects.append("finger")
    _lighting(rng, img, effects)
    img = np.clip(img, 0, 255)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.8, 2.2))
        effects.append("blur")
    img += rng.normal(0, rng.uniform(1, 6), img.shape).astype(np.float32)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 75))])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        effects.append("jpeg")
    return Scene(image=out, quad=quad, background=kind, effects=tuple(effects))


def make_set(seed: int, count: int, empty_share: float = 0.1) -> list[Scene]:
    """``count`` scenes from ``seed``; about ``empty_share`` of them hold no page."""
    rng = np.random.default_rng(seed)
    scenes = []
    for i in range(count):
        kind = BACKGROUNDS[i % len(BACKGROUNDS)]
        scenes.append(make_scene(rng, kind, page=rng.random() >= empty_share))
    return scenes
