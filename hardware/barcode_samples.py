"""Synthetic photographs of codes, for the benchmark and the tests.

``make_sample(rng, kind, difficulty)`` draws one code the way a villager holds it up to
the kiosk's camera: printed on a slip, turned, tilted in perspective, on a cluttered
background, with uneven or low light, defocus or motion blur, sensor noise and JPEG
artefacts, sometimes small in the frame. ``difficulty`` (0–1) scales every distortion;
which ones apply and how strongly is drawn from ``rng``, so a seed fixes the whole set.

Kinds: ``qr_utf8`` and ``qr_gbk`` (Chinese payloads in byte mode, encoded in UTF-8 or
GBK), ``qr_url`` (e-government and receipt URLs), ``code128_id`` (an ID number),
``ean13``, ``code39``, and ``code128_slanted`` (an ID number held at 20–45° to the
camera, either way, at any difficulty). Every name, number and URL here is made up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from hardware.interfaces import gb11643_check_character

KINDS = ("qr_utf8", "qr_gbk", "qr_url", "code128_id", "ean13", "code39", "code128_slanted")
FRAME_W, FRAME_H = 1280, 720

_CHINESE = (
    "广东政务服务网 办件查询 受理号 K0007-20261128-0012",
    "城乡居民基本养老保险参保登记 已受理，请留意短信通知。",
    "粤省事 电子证照 居民户口簿 核验码 4A7C-19E2",
    "新寨村便民服务站 农村宅基地建房申请 材料已收齐",
    "高龄津贴申领 办理进度：审核中 承诺时限15个工作日",
    "惠州市龙门县 医疗救助 临时救助 申请回执",
)
_URLS = (
    "https://www.gdzwfw.gov.cn/portal/v2/guide/11441423MB2C905847344211700400?region=441423",
    "http://127.0.0.1:8400/track/K0007-20261128-0012",
    "https://hall.example.gov.cn/track/K0103-20270305-0450",
    "https://zwfw.example.gov.cn/qr?c=441423&t=1732780800&s=9f86d081884c7d65",
)


@dataclass(frozen=True)
class Sample:
    kind: str
    type: str  # the symbology name a decoder should report
    text: str  # what it must read, exactly
    difficulty: float
    bgr: np.ndarray
    # What the generator applied (px per module, blur sigma or motion length, noise sigma,
    # light, JPEG quality, tilt): to tell a photo no decoder could read from a decoder's miss.
    params: dict[str, float] = field(default_factory=dict, compare=False)


def fictional_id_number(rng: np.random.Generator) -> str:
    """A well-formed GB 11643 number for a person who does not exist."""
    year, month, day = int(rng.integers(1930, 2010)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
    body = f"441423{year:04d}{month:02d}{day:02d}{int(rng.integers(0, 1000)):03d}"
    return body + gb11643_check_character(body)


def _payload(kind: str, rng: np.random.Generator) -> tuple[str, str, bytes]:
    """(symbology, expected text, bytes to encode)."""
    if kind in ("qr_utf8", "qr_gbk"):
        text = _CHINESE[int(rng.integers(len(_CHINESE)))]
        return "QRCODE", text, text.encode("utf-8" if kind == "qr_utf8" else "gbk")
    if kind == "qr_url":
        text = _URLS[int(rng.integers(len(_URLS)))]
        return "QRCODE", text, text.encode("ascii")
    if kind in ("code128_id", "code128_slanted"):
        text = fictional_id_number(rng)
        return "CODE128", text, text.encode("ascii")
    if kind == "ean13":
        import barcode

        digits = "69" + "".join(str(int(d)) for d in rng.integers(0, 10, 10))
        text = barcode.get("ean13", digits).get_fullcode()
        return "EAN13", text, text.encode("ascii")
    if kind == "code39":
        text = f"GD-{int(rng.integers(440000, 450000))}-{int(rng.integers(0, 10000)):04d}"
        return "CODE39", text, text.encode("ascii")
    raise ValueError(f"unknown kind {kind!r}")


def code_modules(symbology: str, data: bytes) -> np.ndarray:
    """The code as a 2-D array of modules, 1 = dark, with its quiet zone."""
    if symbology == "QRCODE":
        import qrcode

        qr = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
        qr.add_data(data)  # bytes: byte mode, no ECI — as most printed codes are made
        qr.make(fit=True)
        return np.array(qr.get_matrix(), dtype=np.uint8)
    import barcode

    name = {"CODE128": "code128", "EAN13": "ean13", "CODE39": "code39"}[symbology]
    options = {"add_checksum": False} if name == "code39" else {}
    code = barcode.get_barcode_class(name)(data.decode("ascii"), **options)
    row = np.array([int(c) for c in "".join(code.build())], dtype=np.uint8)
    quiet = np.zeros(10, np.uint8)
    row = np.concatenate([quiet, row, quiet])
    return np.repeat(row[None, :], max(12, len(row) // 4), axis=0)


def _background(rng: np.random.Generator) -> np.ndarray:
    base = rng.integers(40, 200, 3).astype(np.float32)
    y, x = np.mgrid[0:FRAME_H, 0:FRAME_W].astype(np.float32)
    wave = np.sin(x / rng.uniform(20, 200) + np.sin(y / rng.uniform(30, 300)) * 2.0)
    frame: np.ndarray = base[None, None, :] * (0.85 + 0.15 * wave[..., None])
    frame = np.clip(frame, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(3, 9))):  # clutter: boxes and strokes
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        p1 = (int(rng.integers(0, FRAME_W)), int(rng.integers(0, FRAME_H)))
        p2 = (p1[0] + int(rng.integers(-300, 300)), p1[1] + int(rng.integers(-200, 200)))
        if rng.random() < 0.5:
            cv2.rectangle(frame, p1, p2, colour, -1)
        else:
            cv2.line(frame, p1, p2, colour, int(rng.integers(2, 12)))
    return frame


def _slip(modules: np.ndarray, module_px: float, is_2d: bool, rng: np.random.Generator) -> np.ndarray:
    """The code printed on a white slip, as greyscale, with a little text around it."""
    mh, mw = modules.shape
    bar_h = mh if is_2d else max(mh, int(mw * rng.uniform(0.25, 0.45)))
    w, h = max(8, round(mw * module_px)), max(8, round(bar_h * module_px))
    code = cv2.resize((1 - modules) * 255, (w, h), interpolation=cv2.INTER_NEAREST)
    pad_x, pad_top, pad_bottom = int(w * 0.12) + 6, int(h * 0.18) + 6, int(h * 0.35) + 10
    paper = np.full((h + pad_top + pad_bottom, w + 2 * pad_x), 245, np.uint8)
    paper[pad_top:pad_top + h, pad_x:pad_x + w] = code
    for i in range(int(rng.integers(1, 4))):  # lines of "text" under the code
        y = pad_top + h + 6 + i * max(4, pad_bottom // 4)
        x2 = pad_x + int(w * rng.uniform(0.3, 1.0))
        if y < paper.shape[0] - 2:
            cv2.line(paper, (pad_x, y), (x2, y), 60, max(1, int(module_px)))
    return paper


def make_sample(rng: np.random.Generator, kind: str, difficulty: float) -> Sample:
    """One photographed code (BGR, FRAME_W×FRAME_H); see the module docstring."""
    d = float(np.clip(difficulty, 0.0, 1.0))
    symbology, text, data = _payload(kind, rng)
    modules = code_modules(symbology, data)
    is_2d = symbology == "QRCODE"

    # Size: 6–8 px per module when easy, down to ~1.4 px when hard ("small in the frame").
    module_px = float(rng.uniform(6.0, 8.0) - d * rng.uniform(3.5, 6.6))
    module_px = max(module_px, 1.4)
    if module_px * modules.shape[1] > FRAME_W * 0.85:
        module_px = FRAME_W * 0.85 / modules.shape[1]
    paper = _slip(modules, module_px, is_2d, rng)
    ph, pw = paper.shape
    if pw > FRAME_W * 0.95 or ph > FRAME_H * 0.95:
        scale = min(FRAME_W * 0.95 / pw, FRAME_H * 0.95 / ph)
        paper = cv2.resize(paper, (int(pw * scale), int(ph * scale)), interpolation=cv2.INTER_AREA)
        ph, pw = paper.shape

    # Pose: rotation (any angle for QR, a held barcode is mostly upright) and perspective.
    if is_2d:
        angle = float(rng.uniform(-180, 180)) * min(1.0, 0.2 + d)
    elif kind == "code128_slanted":  # an ID slip held at 20–45° to the camera, either way
        angle = float(rng.uniform(20, 45) * rng.choice([-1, 1]))
    else:
        angle = float(rng.normal(0, 8 + 30 * d))
    tilt = d * rng.uniform(0.0, 0.22)
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    corners = src - np.array([pw / 2, ph / 2], np.float32)
    corners += rng.uniform(-tilt, tilt, (4, 2)).astype(np.float32) * np.array([pw, ph], np.float32)
    rad = np.deg2rad(angle)
    rot = np.array([[np.cos(rad), -np.sin(rad)], [np.sin(rad), np.cos(rad)]], np.float32)
    corners = corners @ rot.T
    span = corners.max(axis=0) - corners.min(axis=0)
    fit = min(1.0, (FRAME_W - 20) / span[0], (FRAME_H - 20) / span[1])
    corners *= fit
    span *= fit
    lo = -corners.min(axis=0) + 10
    hi = np.array([FRAME_W, FRAME_H], np.float32) - corners.max(axis=0) - 10
    centre = np.array([rng.uniform(lo[0], max(lo[0], hi[0])), rng.uniform(lo[1], max(lo[1], hi[1]))],
                      np.float32)
    dst = (corners + centre).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    frame = _background(rng)
    warped = cv2.warpPerspective(paper, matrix, (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR,
                                 borderValue=0)
    mask = cv2.warpPerspective(np.full_like(paper, 255), matrix, (FRAME_W, FRAME_H)) > 127
    tint = rng.uniform(0.85, 1.0, 3).astype(np.float32)
    frame[mask] = np.clip(warped[mask][:, None] * tint[None, :], 0, 255).astype(np.uint8)

    # Light: a gradient across the frame, darker overall when hard.
    img: np.ndarray = frame.astype(np.float32)
    y, x = np.mgrid[0:FRAME_H, 0:FRAME_W].astype(np.float32)
    gx, gy = rng.uniform(-1, 1, 2)
    shade = 1.0 - d * 0.45 * (gx * (x / FRAME_W - 0.5) + gy * (y / FRAME_H - 0.5) + 0.5)
    light = 1.0 - d * rng.uniform(0.0, 0.8)
    img *= (shade * light)[..., None]

    # Focus and motion.
    params = {"module_px": module_px, "angle": angle, "tilt": tilt, "light": light, "blur_sigma": 0.0,
              "motion_px": 0.0, "motion_deg": 0.0}
    if rng.random() < 0.25 + 0.75 * d:
        if rng.random() < 0.6:
            sigma = d * rng.uniform(0.4, 2.0) * max(0.5, module_px / 4)
            if sigma > 0.2:
                img = cv2.GaussianBlur(img, (0, 0), sigma)
                params["blur_sigma"] = sigma
        else:
            length = int(round(2 + d * rng.uniform(0, 7)))
            params["motion_px"] = length
            kernel: np.ndarray = np.zeros((length, length), np.float32)
            kernel[length // 2, :] = 1.0 / length
            centre_k = (length / 2 - 0.5, length / 2 - 0.5)
            params["motion_deg"] = float(rng.uniform(0, 180))  # the streak's direction, as drawn
            turn = cv2.getRotationMatrix2D(centre_k, params["motion_deg"], 1.0)
            kernel = cv2.warpAffine(kernel, turn, (length, length)).astype(np.float32)
            kernel /= max(kernel.sum(), 1e-6)
            img = cv2.filter2D(img, -1, kernel)

    # Sensor noise (worse in the dark), then JPEG.
    noise = d * rng.uniform(2.0, 14.0) * (1.0 + (1.0 - light))
    img += rng.normal(0, noise, img.shape).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    quality = int(95 - d * rng.uniform(30, 75))
    params.update(noise=noise, jpeg_quality=quality)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    assert bgr is not None
    return Sample(kind=kind, type=symbology, text=text, difficulty=d, bgr=bgr,
                  params={k: float(v) for k, v in params.items()})


def make_set(seed: int, count: int) -> list[Sample]:
    """``count`` samples cycling through the kinds, difficulty uniform on [0, 1]."""
    rng = np.random.default_rng(seed)
    return [make_sample(rng, KINDS[i % len(KINDS)], float(rng.uniform(0, 1))) for i in range(count)]
