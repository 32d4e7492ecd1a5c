"""How well a found page outline matches the true one (the benchmark, the fit and the tests)."""

from __future__ import annotations

import cv2
import numpy as np

from hardware.docscan.detect import order_corners


def _convex(quad: np.ndarray) -> np.ndarray:
    a = order_corners(quad).astype(np.float32)
    if not cv2.isContourConvex(a.reshape(-1, 1, 2)):
        return np.asarray(cv2.convexHull(a)).reshape(-1, 2)
    return a


def _clip(poly: np.ndarray, shape: tuple[int, ...] | None) -> np.ndarray:
    """The part of a convex outline inside the frame (a page partly off the frame)."""
    if shape is None:
        return poly
    h, w = shape[:2]
    frame = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    area, inter = cv2.intersectConvexConvex(poly, frame)
    if inter is None or area <= 0:
        return poly
    # Rounded: a vertex at y = 1e-16 from the clipping makes the next intersectConvexConvex
    # return the other polygon's whole area (Jaccard 1.12 on a page running off the frame).
    return np.round(inter.reshape(-1, 2), 3).astype(np.float32)


def jaccard(found: np.ndarray | None, truth: np.ndarray | None,
            shape: tuple[int, ...] | None = None) -> float:
    """SmartDoc's measure; with ``shape``, both outlines are first cut to the frame."""
    if truth is None:
        return 1.0 if found is None else 0.0
    if found is None:
        return 0.0
    a, b = _clip(_convex(found), shape), _clip(_convex(truth), shape)
    inter, _ = cv2.intersectConvexConvex(a, b)
    area_a, area_b = cv2.contourArea(a), cv2.contourArea(b)
    inter = min(inter, area_a, area_b)
    union = area_a + area_b - inter
    return float(inter / union) if union > 0 else 0.0
