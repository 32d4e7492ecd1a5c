"""The villager's signature: finger strokes made into a small PNG sealed with the application.

The pad (``screens/widgets/signature_pad.py``) hands over its strokes as lists of points
in the pad's own unit square (0…1, y up), so that the picture does not depend on the
screen size. ``render_signature`` draws them black on white at ``WIDTH``×``HEIGHT`` in
grey levels (OpenCV, anti-aliased lines) and encodes a PNG of a few kilobytes.

A signature must be a signature: fewer than ``MIN_POINTS`` points or strokes shorter, in
all, than ``MIN_LENGTH`` of the pad's width is refused as empty (``SignatureEmpty``,
``signature.empty``: "请先用手指签上您的名字"), as is anything that is not a list of points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from kiosk.errors import KioskError

WIDTH, HEIGHT = 800, 300  # the pad is about 8:3 on every supported screen
MIN_POINTS = 6
MIN_LENGTH = 0.3  # the strokes together must cross at least 30 % of the pad's width
MAX_POINTS = 20_000  # a finger on a pad for a minute at 60 Hz, with room to spare
LINE_PX = 5
SIGNATURE_MATERIAL = "signature"  # the attachment's material in the sealed application
SIGNATURE_MEDIA_TYPE = "image/png"

Stroke = Sequence[tuple[float, float]]


class SignatureEmpty(KioskError):
    message_key = "signature.empty"


def _clean(strokes: Sequence[Stroke]) -> list[list[tuple[float, float]]]:
    clean: list[list[tuple[float, float]]] = []
    count = 0
    for stroke in strokes:
        points = []
        for point in stroke:
            x, y = float(point[0]), float(point[1])
            if not (math.isfinite(x) and math.isfinite(y)):
                continue
            points.append((min(1.0, max(0.0, x)), min(1.0, max(0.0, y))))
        count += len(points)
        if count > MAX_POINTS:
            break
        if points:
            clean.append(points)
    return clean


def stroke_length(strokes: Sequence[Stroke]) -> float:
    """The strokes' length in pad widths (y scaled by the pad's aspect)."""
    total = 0.0
    for stroke in strokes:
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False):
            total += math.hypot(x1 - x0, (y1 - y0) * HEIGHT / WIDTH)
    return total


def render_signature(strokes: Sequence[Stroke]) -> bytes:
    """The PNG of ``strokes``; ``SignatureEmpty`` when they are too little to be a signature."""
    try:
        clean = _clean(strokes)
    except (TypeError, ValueError, IndexError) as exc:
        raise SignatureEmpty("the pad sent no usable points") from exc
    if sum(len(s) for s in clean) < MIN_POINTS or stroke_length(clean) < MIN_LENGTH:
        raise SignatureEmpty("too little drawn to be a signature")
    import cv2  # here, not at the top: OpenCV is not needed before the kiosk's first frame

    image = np.full((HEIGHT, WIDTH), 255, np.uint8)
    for stroke in clean:
        pts = np.array([[round(x * (WIDTH - 1)), round((1 - y) * (HEIGHT - 1))] for x, y in stroke], np.int32)
        if len(pts) == 1:
            cv2.circle(image, (int(pts[0][0]), int(pts[0][1])), LINE_PX // 2, 0, -1, cv2.LINE_AA)
        else:
            cv2.polylines(image, [pts.reshape(-1, 1, 2)], False, 0, LINE_PX, cv2.LINE_AA)
    ok, png = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:  # pragma: no cover - OpenCV encodes a plain grey image
        raise SignatureEmpty("the signature could not be encoded")
    return png.tobytes()
