"""A second, harder generator of labelled page photos: real desks no one tuned to.

Written apart from ``synthetic.py`` (which the detector was first fitted on) so that the
detector can be checked on scenes it was not shaped by. ``make_scene(rng, kind)`` draws one
1280×720 BGR frame and the page's true outline (four corners clockwise from top-left, float
pixels; a page partly off the frame keeps its true corners outside it) or None.

Grounds (``KINDS``): ``stripes`` (striped cloth, any angle and period), ``plaid``,
``pattern`` (printed plates and tablecloths: dots and flowers), ``wood`` (grain from a few
pixels to a few hundred, knots) and ``desk`` (a cluttered desk). On every ground other
things may lie about, and on a desk many: folders and books of every colour (as large as
a page), ID cards and phones, pens. Then: a hand or a finger over a corner or an edge, a
curled or folded (dog-eared) page, a page partly off the frame, shadows, low light with
sensor noise, motion blur and JPEG artefacts. About ``empty_share`` of the frames hold
no page but all the rest.

``TRAINING_SEEDS`` may be used for tuning and fitting; ``HELD_OUT_SEEDS`` never are.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

WIDTH, HEIGHT = 1280, 720
KINDS = ("stripes", "plaid", "pattern", "wood", "desk")
TRAINING_SEEDS = (11, 12, 13, 14)
HELD_OUT_SEEDS = (17, 52, 2036)
_ASPECTS = (297 / 210, 297 / 210, 257 / 182, 210 / 148, 270 / 190)


@dataclass(frozen=True)
class Scene:
    image: np.ndarray
    quad: np.ndarray | None  # 4×2 float32 clockwise from top-left; may reach outside the frame
    background: str
    effects: tuple[str, ...]


_GRID: list[np.ndarray] = []


def _grid() -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates x, y of the frame (made once; callers must not write to them)."""
    if not _GRID:
        y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
        _GRID.extend((x, y))
    return _GRID[0], _GRID[1]


def _soft(mask: np.ndarray, sigma: float) -> np.ndarray:
    """A wide Gaussian blur, done on a quarter-size copy (wide blurs cost much at full size)."""
    if sigma < 6:
        return cv2.GaussianBlur(mask, (0, 0), sigma)
    small = cv2.resize(mask, (WIDTH // 4, HEIGHT // 4), interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), sigma / 4)
    return cv2.resize(blurred, (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR)


def _colour(rng: np.random.Generator, lo: float = 0, hi: float = 255) -> np.ndarray:
    return rng.uniform(lo, hi, 3).astype(np.float32)


def _turned(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x, y = _grid()
    a = rng.uniform(0, np.pi)
    return x * np.cos(a) + y * np.sin(a), -x * np.sin(a) + y * np.cos(a)


def _stripes(rng: np.random.Generator) -> np.ndarray:
    u, _ = _turned(rng)
    period = rng.choice([rng.uniform(4, 14), rng.uniform(14, 90)])
    a, b = _colour(rng), _colour(rng)
    if rng.random() < 0.4:  # one of the colours close to paper white: the hard case
        b = _colour(rng, 200, 250)
    duty = rng.uniform(0.3, 0.7)
    if rng.random() < 0.5:
        mix = ((u / period) % 1.0 < duty).astype(np.float32)
        mix = cv2.GaussianBlur(mix, (0, 0), 0.8)
    else:
        mix = 0.5 + 0.5 * np.sin(u * 2 * np.pi / period)
    return np.asarray(a * (1 - mix[..., None]) + b * mix[..., None])


def _plaid(rng: np.random.Generator) -> np.ndarray:
    u, v = _turned(rng)
    img = np.empty((HEIGHT, WIDTH, 3), np.float32)
    img[:] = _colour(rng, 60, 240)
    for coord in (u, v):
        period = rng.uniform(30, 140)
        width = rng.uniform(0.15, 0.45) * period
        band = (((coord / period) % 1.0) * period < width).astype(np.float32)[..., None]
        img = img * (1 - 0.5 * band) + 0.5 * band * _colour(rng)
        thin = (np.abs(((coord + period / 2) % period) - period / 2) < rng.uniform(1, 3)).astype(np.float32)
        img = img * (1 - thin[..., None]) + thin[..., None] * _colour(rng, 150, 255)
    return img


def _pattern(rng: np.random.Generator) -> np.ndarray:
    """A printed cloth or a plate: dots or little flowers on a ground, in a grid."""
    img = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    img[:] = _colour(rng, 30, 250).astype(np.uint8)
    step = int(rng.integers(18, 90))
    r = max(2, int(step * rng.uniform(0.12, 0.35)))
    colours = [tuple(float(c) for c in _colour(rng)) for _ in range(3)]
    flower = rng.random() < 0.5
    for j, cy in enumerate(range(-step, HEIGHT + step, step)):
        for cx in range(-step + (j % 2) * step // 2, WIDTH + step, step):
            c = colours[(cx // step + j) % 3]
            if flower:
                for k in range(5):
                    a = k * 2 * np.pi / 5
                    cv2.circle(img, (int(cx + r * np.cos(a)), int(cy + r * np.sin(a))), max(1, r // 2), c, -1,
                               cv2.LINE_AA)
                cv2.circle(img, (cx, cy), max(1, r // 3), colours[(j + 1) % 3], -1, cv2.LINE_AA)
            else:
                cv2.circle(img, (cx, cy), r, c, -1, cv2.LINE_AA)
    return img.astype(np.float32)


def _wood(rng: np.random.Generator) -> np.ndarray:
    u, v = _turned(rng)
    period = float(np.exp(rng.uniform(np.log(3), np.log(250))))
    warp = rng.uniform(2, 30) * np.sin(v * rng.uniform(0.002, 0.02) + rng.uniform(0, 6))
    ring = 0.5 + 0.5 * np.sin((u + warp) * 2 * np.pi / period)
    fine = 0.5 + 0.5 * np.sin((u + warp * 0.3) * 2 * np.pi / max(2.0, period / 5))
    base = np.array([rng.uniform(30, 120), rng.uniform(60, 170), rng.uniform(100, 230)], np.float32)
    img = base * (0.7 + 0.3 * ring[..., None] + 0.1 * fine[..., None])
    x, y = _grid()
    for _ in range(int(rng.integers(0, 3))):  # knots
        cx, cy, r = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT), rng.uniform(8, 40)
        d = np.sqrt((x - cx) ** 2 + ((y - cy) * 1.8) ** 2)
        img *= (1 - 0.35 * np.exp(-(d / r) ** 2))[..., None]
    return img


def _plain_desk(rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.5:
        return _wood(rng)
    img = np.empty((HEIGHT, WIDTH, 3), np.float32)
    img[:] = _colour(rng, 20, 235)
    return img


def _rect(centre: np.ndarray, w: float, h: float, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    base = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    return np.asarray((base @ np.array([[c, s], [-s, c]]) + centre).astype(np.float32))


def _not_paper(rng: np.random.Generator) -> tuple[float, float, float]:
    """A colour that a page cannot be: saturated, or dark, or mid grey."""
    choice = rng.integers(0, 3)
    if choice == 0:
        hsv = np.array([[[rng.integers(0, 180), rng.integers(90, 256), rng.integers(60, 256)]]], np.uint8)
        bgr = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    else:
        bgr = _colour(rng, 0, 90) if choice == 1 else _colour(rng, 90, 165)
    return float(bgr[0]), float(bgr[1]), float(bgr[2])


def _objects(rng: np.random.Generator, img: np.ndarray, count: int, effects: list[str]) -> None:
    """Folders, books, ID cards, phones and pens, drawn on the desk."""
    canvas = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(count):
        kind = rng.choice(["folder", "book", "card", "phone", "pen", "box"], p=[.25, .2, .2, .15, .1, .1])
        centre = np.array([rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT)])
        angle = rng.normal(0, 0.25) if rng.random() < 0.7 else rng.uniform(0, np.pi)
        if kind in ("folder", "book", "box"):
            h = rng.uniform(0.35, 0.9) * HEIGHT
            w = h * rng.uniform(0.6, 1.4)
            quad = _rect(centre, w, h, angle)
            colour = _not_paper(rng)
            cv2.fillConvexPoly(canvas, np.round(quad).astype(np.int32), colour, cv2.LINE_AA)
            if kind == "book":  # a title block and a spine
                inner = _rect(centre + rng.normal(0, 10, 2), w * 0.5, h * 0.12, angle)
                cv2.fillConvexPoly(canvas, np.round(inner).astype(np.int32), _colour(rng).tolist(),
                                   cv2.LINE_AA)
                cv2.line(canvas, tuple(np.round(quad[0]).astype(int)), tuple(np.round(quad[3]).astype(int)),
                         (20, 20, 20), int(rng.integers(4, 12)), cv2.LINE_AA)
            elif kind == "folder":  # a tab and a paler edge
                cv2.polylines(canvas, [np.round(quad).astype(np.int32)], True,
                              tuple(min(255.0, c + 40) for c in colour), 3, cv2.LINE_AA)
        elif kind == "card":  # an ID card: pale, printed, small
            h = rng.uniform(0.12, 0.2) * HEIGHT
            quad = _rect(centre, h * 1.58, h, angle)
            cv2.fillConvexPoly(canvas, np.round(quad).astype(np.int32), _colour(rng, 150, 245).tolist(),
                               cv2.LINE_AA)
            photo = _rect(centre + np.array([h * 0.45, 0]), h * 0.4, h * 0.55, angle)
            cv2.fillConvexPoly(canvas, np.round(photo).astype(np.int32), _colour(rng, 40, 200).tolist())
        elif kind == "phone":
            h = rng.uniform(0.2, 0.35) * HEIGHT
            quad = _rect(centre, h * 0.5, h, angle)
            cv2.fillConvexPoly(canvas, np.round(quad).astype(np.int32), _colour(rng, 0, 60).tolist(),
                               cv2.LINE_AA)
            if rng.random() < 0.5:  # a lit screen
                screen = _rect(centre, h * 0.44, h * 0.85, angle)
                cv2.fillConvexPoly(canvas, np.round(screen).astype(np.int32), _colour(rng, 120, 255).tolist())
        else:
            end = centre + rng.uniform(-250, 250, 2)
            cv2.line(canvas, tuple(np.round(centre).astype(int)), tuple(np.round(end).astype(int)),
                     _colour(rng).tolist(), int(rng.integers(4, 14)), cv2.LINE_AA)
    img[:] = canvas.astype(np.float32)
    if count:
        effects.append("objects")


def _page_texture(rng: np.random.Generator, pw: int, ph: int) -> np.ndarray:
    paper = rng.uniform(215, 252) + rng.uniform(-14, 3, 3)
    page = np.empty((ph, pw, 3), np.uint8)
    page[:] = np.clip(paper, 0, 255).astype(np.uint8)
    ink = tuple(float(c) for c in rng.uniform(0, 70, 3))
    margin = int(pw * rng.uniform(0.05, 0.14))
    style = rng.integers(0, 3)
    y = margin + int(rng.integers(20, 60))
    cv2.putText(page, "FORM", (margin, y), cv2.FONT_HERSHEY_COMPLEX, pw / 450, ink, 2, cv2.LINE_AA)
    y += 50
    while y < ph - margin:
        if style == 1:  # a form with boxes
            cv2.rectangle(page, (margin, y - 24), (pw - margin, y + 6), ink, 1)
        x = margin + 6
        while x < pw - margin - 30:
            word = int(rng.integers(10, 60))
            cv2.rectangle(page, (x, y - 14), (min(x + word, pw - margin), y - 6), ink, -1)
            x += word + int(rng.integers(6, 16))
        y += int(rng.integers(26, 44)) if style != 2 else int(rng.integers(40, 90))
    if rng.random() < 0.5:  # a red seal
        r = int(pw * rng.uniform(0.07, 0.12))
        c = (int(pw * rng.uniform(0.5, 0.8)), int(ph * rng.uniform(0.55, 0.85)))
        cv2.circle(page, c, r, (50, 40, 210), max(3, r // 10), cv2.LINE_AA)
    return page.astype(np.float32)


def _page_quad(rng: np.random.Generator, aspect: float, off_frame: bool) -> np.ndarray:
    for _ in range(300):
        height = rng.uniform(0.5, 0.98) * HEIGHT
        pw, ph = (height / aspect, height) if rng.random() < 0.75 else (height, height / aspect)
        if pw > WIDTH * 0.85:
            continue
        angle = np.deg2rad(rng.normal(0, 15) if rng.random() < 0.8 else rng.uniform(-50, 50))
        quad = _rect(np.zeros(2), pw, ph, angle).astype(np.float64)
        a = int(rng.integers(0, 4))
        b = (a + 1) % 4
        mid = (quad[a] + quad[b]) / 2
        tilt = rng.uniform(0, 0.2)
        quad[a] += (mid - quad[a]) * tilt
        quad[b] += (mid - quad[b]) * tilt
        quad += rng.normal(0, 0.01 * height, (4, 2))
        quad += np.array([rng.uniform(0.2, 0.8) * WIDTH, rng.uniform(0.3, 0.7) * HEIGHT])
        lo, hi = quad.min(axis=0), quad.max(axis=0)
        inside = lo[0] > 6 and lo[1] > 6 and hi[0] < WIDTH - 6 and hi[1] < HEIGHT - 6
        if not off_frame and inside:
            return quad.astype(np.float32)
        if off_frame and not inside:
            clipped, _ = cv2.intersectConvexConvex(
                quad.astype(np.float32),
                np.array([[0, 0], [WIDTH, 0], [WIDTH, HEIGHT], [0, HEIGHT]], np.float32))
            if clipped >= 0.88 * cv2.contourArea(quad.astype(np.float32)):  # at most an eighth cut off
                return quad.astype(np.float32)
    raise RuntimeError("no page placement found")


def _order(quad: np.ndarray) -> np.ndarray:
    centre = quad.mean(axis=0)
    quad = quad[np.argsort(np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0]))]
    return np.roll(quad, -int(np.argmin(quad[:, 0] + quad[:, 1])), axis=0)


def _curl(rng: np.random.Generator, warped: np.ndarray, alpha: np.ndarray, quad: np.ndarray) -> None:
    """Bend the page near one corner: the corner lifts towards the page's middle."""
    corner = quad[int(rng.integers(0, 4))]
    toward = quad.mean(axis=0) - corner
    reach = rng.uniform(0.15, 0.35) * np.linalg.norm(toward)
    lift = toward / np.linalg.norm(toward) * rng.uniform(6, 22)
    x, y = _grid()
    d = np.sqrt((x - corner[0]) ** 2 + (y - corner[1]) ** 2)
    weight = np.clip(1 - d / reach, 0, 1) ** 2
    map_x = x - lift[0] * weight
    map_y = y - lift[1] * weight
    warped[:] = cv2.remap(warped, map_x, map_y, cv2.INTER_LINEAR)
    alpha[:] = cv2.remap(alpha, map_x, map_y, cv2.INTER_LINEAR)
    warped *= (1 - 0.25 * weight)[..., None]  # the lifted part faces away from the light


def _fold(rng: np.random.Generator, img: np.ndarray, under: np.ndarray, quad: np.ndarray) -> None:
    """A dog-eared corner: a triangle of the page folded back, the desk showing under it."""
    i = int(rng.integers(0, 4))
    c, a, b = quad[i], quad[i - 1], quad[(i + 1) % 4]
    s = rng.uniform(0.06, 0.18)
    p, q = c + (a - c) * s, c + (b - c) * s
    tri = np.round(np.array([c, p, q])).astype(np.int32)
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    cv2.fillConvexPoly(mask, tri, 255, cv2.LINE_AA)
    m = mask.astype(np.float32)[..., None] / 255
    img[:] = img * (1 - m) + under * m
    mirrored = np.round(np.array([p + q - c, p, q])).astype(np.int32)  # the flap, lying on the page
    flap = np.zeros_like(mask)
    cv2.fillConvexPoly(flap, mirrored, 255, cv2.LINE_AA)
    f = flap.astype(np.float32)[..., None] / 255
    img[:] = img * (1 - f) + f * rng.uniform(170, 225)


def _hand(rng: np.random.Generator, img: np.ndarray, quad: np.ndarray | None) -> None:
    """A hand (palm and fingers) or one finger over a corner or an edge of the page."""
    if quad is not None:
        i = int(rng.integers(0, 4))
        along = 0.0 if rng.random() < 0.5 else rng.uniform(0.2, 0.8)  # a corner or an edge
        at = quad[i] + (quad[(i + 1) % 4] - quad[i]) * along
        inward = quad.mean(axis=0) - at
    else:
        at = np.array([rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT)])
        inward = np.array([WIDTH / 2, HEIGHT / 2]) - at
    inward = inward / (np.linalg.norm(inward) + 1e-6)
    skin = (rng.uniform(80, 150), rng.uniform(120, 180), rng.uniform(170, 235))
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    side = np.array([-inward[1], inward[0]])
    if rng.random() < 0.5:  # one finger
        tip = at + inward * rng.uniform(15, 60)
        w = rng.uniform(35, 65)
        cv2.line(mask, tuple(np.round(at - inward * 500).astype(int)), tuple(np.round(tip).astype(int)), 255,
                 int(w), cv2.LINE_AA)
        cv2.circle(mask, tuple(np.round(tip).astype(int)), int(w / 2), 255, -1, cv2.LINE_AA)
    else:  # a palm outside, fingers reaching over
        palm = at - inward * rng.uniform(90, 160)
        axes = (int(rng.uniform(70, 110)), int(rng.uniform(90, 130)))
        cv2.ellipse(mask, tuple(np.round(palm).astype(int)), axes,
                    float(np.degrees(np.arctan2(inward[1], inward[0]))), 0, 360, 255, -1, cv2.LINE_AA)
        for k in range(4):
            base = palm + side * (k - 1.5) * 28
            tip = base + inward * rng.uniform(110, 210)
            cv2.line(mask, tuple(np.round(base).astype(int)), tuple(np.round(tip).astype(int)), 255,
                     int(rng.uniform(22, 32)), cv2.LINE_AA)
    alpha = cv2.GaussianBlur(mask, (5, 5), 0).astype(np.float32)[..., None] / 255
    shade = 0.75 + 0.25 * _soft(mask.astype(np.float32) / 255, 15)[..., None]
    # the hand's shadow on what lies under it
    shadow = _soft(np.roll(mask, (12, 10), axis=(0, 1)).astype(np.float32) / 255, 10)
    img *= (1 - 0.4 * shadow)[..., None]
    img[:] = img * (1 - alpha) + np.array(skin, np.float32) * shade * alpha


def _light(rng: np.random.Generator, img: np.ndarray, effects: list[str]) -> float:
    """Shadows, gradients and low light; returns the light level (1 = bright)."""
    x, y = _grid()
    if rng.random() < 0.6:
        a = rng.uniform(0, 2 * np.pi)
        ramp = x * np.cos(a) + y * np.sin(a)
        ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min())
        img *= (1 - rng.uniform(0.1, 0.45) * ramp)[..., None]
    if rng.random() < 0.45:  # a hard or soft shadow of a head, an arm, the camera's post
        mask = np.zeros((HEIGHT, WIDTH), np.float32)
        pts = np.array([[rng.uniform(-200, WIDTH + 200), rng.uniform(-200, HEIGHT + 200)] for _ in range(6)])
        cv2.fillConvexPoly(mask, cv2.convexHull(pts.astype(np.int32)), 1.0)
        mask = _soft(mask, rng.uniform(3, 45))
        img *= (1 - rng.uniform(0.2, 0.55) * mask)[..., None]
        effects.append("shadow")
    light = 1.0
    if rng.random() < 0.25:
        light = rng.uniform(0.25, 0.55)
        img *= light
        effects.append("low_light")
    return light


def make_scene(rng: np.random.Generator, kind: str | None = None, page: bool = True) -> Scene:
    """One labelled frame on the ground ``kind`` (random when None)."""
    kind = kind or str(rng.choice(KINDS))
    effects: list[str] = []
    img: np.ndarray = {"stripes": _stripes, "plaid": _plaid, "pattern": _pattern, "wood": _wood,
           "desk": _plain_desk}[kind](rng).astype(np.float32)
    count = int(rng.integers(3, 9)) if kind == "desk" else int(rng.integers(0, 3)) * (rng.random() < 0.5)
    _objects(rng, img, count, effects)
    quad = None
    if page:
        off = rng.random() < 0.15
        aspect = float(rng.choice(_ASPECTS))
        quad = _order(_page_quad(rng, aspect, off))
        if off:
            effects.append("off_frame")
        pw = 800
        ph = int(round(pw * aspect))
        src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
        top = np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])
        left = np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])
        if (top > left) != (pw > ph):
            src = np.roll(src, 1, axis=0)
        matrix = cv2.getPerspectiveTransform(src, quad)
        texture = _page_texture(rng, pw, ph)
        warped = cv2.warpPerspective(texture, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_AREA)
        mask = np.zeros((HEIGHT * 4, WIDTH * 4), np.uint8)
        cv2.fillConvexPoly(mask, np.round(quad * 4).astype(np.int32), 255)
        alpha = cv2.resize(mask, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        if rng.random() < 0.2:
            _curl(rng, warped, alpha, quad)
            effects.append("curl")
        if rng.random() < 0.5:  # the page's own thin shadow
            drop = np.zeros((HEIGHT, WIDTH), np.float32)
            cv2.fillConvexPoly(drop, np.round(quad + rng.uniform(1, 7, 2)).astype(np.int32), 1.0)
            img *= (1 - 0.3 * cv2.GaussianBlur(drop, (0, 0), 3))[..., None]
        under = img.copy()
        img = img * (1 - alpha[..., None]) + warped * alpha[..., None]
        if rng.random() < 0.12:
            _fold(rng, img, under, quad)
            effects.append("fold")
    if rng.random() < 0.3:
        _hand(rng, img, quad)
        effects.append("hand")
    light = _light(rng, img, effects)
    img = np.clip(img, 0, 255)
    if rng.random() < 0.2:
        length = int(rng.integers(5, 15))
        kernel: np.ndarray = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        turn = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
        kernel = cv2.warpAffine(kernel, turn, (length, length)).astype(np.float32)
        img = cv2.filter2D(img, -1, kernel / max(float(kernel.sum()), 1e-6))
        effects.append("motion_blur")
    noise = rng.uniform(1, 5) * (1 + 3 * (1 - light))
    img += rng.standard_normal(img.shape, dtype=np.float32) * np.float32(noise)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(20, 80))])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        effects.append("jpeg")
    return Scene(image=out, quad=quad, background=kind, effects=tuple(effects))


def make_set(seed: int, count: int, empty_share: float = 0.15) -> list[Scene]:
    """``count`` scenes from ``seed``, the grounds in turn; about ``empty_share`` hold no page."""
    rng = np.random.default_rng(seed)
    return [make_scene(rng, KINDS[i % len(KINDS)], page=rng.random() >= empty_share) for i in range(count)]
