"""Perspective correction to the page's true shape.

The measured outline gives the page's apparent aspect, which perspective distorts; the
page is snapped to the nearest known paper size (A4, A5, B5, common certificate sizes)
when that is within ``SNAP_TOLERANCE``, otherwise the measured aspect is kept. The
output's longer side is ``long_side`` pixels (A4 at about 150 dpi by default).
"""

from __future__ import annotations

import cv2
import numpy as np

from hardware.docscan.detect import check_frame, order_corners
from hardware.docscan.errors import BadImage

# name -> long side / short side
PAPER_SIZES: dict[str, float] = {
    "a4": 297 / 210,          # forms, household register pages (户口簿 inner pages are near A5/B5)
    "a5": 210 / 148,
    "b5": 250 / 176,
    "cert_large": 297 / 210,  # most certificates are A4 or these
    "cert_16k": 270 / 195,    # 16开 certificates
    "letter": 279 / 216,
}
SNAP_TOLERANCE = 0.06
DEFAULT_LONG_SIDE = 1754  # A4 at 150 dpi


def _side_lengths(quad: np.ndarray) -> tuple[float, float]:
    top = np.linalg.norm(quad[1] - quad[0])
    bottom = np.linalg.norm(quad[2] - quad[3])
    left = np.linalg.norm(quad[3] - quad[0])
    right = np.linalg.norm(quad[2] - quad[1])
    return float(max(top, bottom)), float(max(left, right))


def page_aspect(quad: np.ndarray, size: str | None = None) -> tuple[float, bool]:
    """(long/short ratio, landscape?) of the page: the named size, the nearest known one, or measured."""
    width, height = _side_lengths(order_corners(quad))
    landscape = width > height
    measured = max(width, height) / max(1.0, min(width, height))
    if size:
        if size not in PAPER_SIZES:
            raise ValueError(f"unknown paper size {size!r}; one of {', '.join(PAPER_SIZES)}")
        return PAPER_SIZES[size], landscape
    nearest = min(PAPER_SIZES.values(), key=lambda r: abs(r - measured))
    if abs(nearest - measured) / nearest <= SNAP_TOLERANCE:
        return nearest, landscape
    return measured, landscape


def rectify(frame: np.ndarray, quad: np.ndarray, size: str | None = None,
            long_side: int = DEFAULT_LONG_SIDE) -> np.ndarray:
    """The page inside ``quad`` seen straight on, upright as it lies (BGR uint8)."""
    frame = check_frame(frame)
    quad = np.asarray(quad, np.float32)
    if quad.shape != (4, 2) or not np.isfinite(quad).all():
        raise BadImage("an outline needs four finite corners")
    quad = order_corners(quad)
    ratio, landscape = page_aspect(quad, size)
    long_side = int(long_side)
    short = max(1, round(long_side / ratio))
    out_w, out_h = (long_side, short) if landscape else (short, long_side)
    target = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]], np.float32)
    matrix = cv2.getPerspectiveTransform(quad, target)
    return cv2.warpPerspective(frame, matrix, (out_w, out_h), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)
