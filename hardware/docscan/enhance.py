"""Clean-up of a straightened page: ``colour``, ``grey`` and ``text`` (black and white).

All three first flatten the light: the paper's own brightness is estimated by a
morphological closing (which removes the ink) and a blur, and each pixel is divided by
it, so a shadow or a lamp's gradient across the page disappears and the paper turns
white. ``colour`` keeps the ink's colours (a red seal stays red), ``grey`` drops them,
``text`` thresholds the flattened grey into crisp black and white for printed and
handwritten text.
"""

from __future__ import annotations

import cv2
import numpy as np

from hardware.docscan.detect import check_frame

MODES = ("colour", "grey", "text")


def _paper_level(grey: np.ndarray) -> np.ndarray:
    """The paper's brightness at each pixel, ink removed."""
    h, w = grey.shape
    scale = 400 / max(h, w) if max(h, w) > 400 else 1.0
    small = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA)
    size = max(3, int(min(small.shape) * 0.04) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    level = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    level = cv2.GaussianBlur(level, (0, 0), size)
    level = cv2.resize(level, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.maximum(level.astype(np.float32), 1.0)


def flatten(page: np.ndarray) -> np.ndarray:
    """``page`` (BGR) with shadows and lighting gradients divided out: paper near white."""
    page = check_frame(page)
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    level = _paper_level(grey)
    out = page.astype(np.float32) * (245.0 / level)[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def enhance(page: np.ndarray, mode: str = "colour") -> np.ndarray:
    """The cleaned page: BGR for ``colour``, one channel for ``grey`` and ``text``."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
    flat = flatten(page)
    if mode == "colour":
        # paper to white; ink keeps its colour and depth (a red seal stays red, not black)
        lab = cv2.cvtColor(flat, cv2.COLOR_BGR2LAB)
        l_chan = lab[..., 0].astype(np.float32)
        high = max(1.0, float(np.percentile(l_chan, 95)))
        lab[..., 0] = np.clip(l_chan * (250.0 / high), 0, 255).astype(np.uint8)
        return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)
    grey = cv2.cvtColor(flat, cv2.COLOR_BGR2GRAY)
    if mode == "grey":
        low = float(np.percentile(grey, 1))
        scale = 255.0 / max(1.0, 250.0 - low)
        stretched: np.ndarray = np.clip((grey.astype(np.float32) - low) * scale, 0, 255).astype(np.uint8)
        return stretched
    block = max(15, int(min(grey.shape) * 0.03) | 1)
    text = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 12)
    return cv2.medianBlur(text, 3)
