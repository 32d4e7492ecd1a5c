"""Which of two close candidates is the page: a small pairwise model over the scoring's features.

The linear scoring (``detect.SCORE_WEIGHTS``) rates each candidate on its own. Its most common
mistake on the desk generator's training seeds is a part of the page taken for the page,
or the page taken with a strip of table: the lit half of a page half in a hard shadow, a
block of text or the part of a page one side of a fold, all with straight, sharp edges and
paper inside, scored within a few hundredths of the whole page. Told apart they are only by
what one has that the other lacks, so the two best candidates are compared side by side:
their features, the difference of both, how much of each the other covers and their areas'
ratio, their print (``detect.print_level``). A logistic regression (``PAIR_WEIGHTS``, fitted
with ``benchmarks/fit_scan_scoring.py`` on the training seeds of both generators, never the
held-out ones) gives the odds that the first is the better outline; below even, the second
wins.

It is asked only when the second candidate is scored within ``PAIR_GAP`` of the first: a
wider gap is the linear scoring's own confident choice, and on the first generator's pale
tables the pairs further apart were mostly a page against the page with a strip of table,
which this model got wrong (``docs/scanning.md``, "Measured: issue 13").
"""

from __future__ import annotations

import cv2
import numpy as np

BASE_FEATURES = 17   # the first numbers of ``detect._features``: the measures, before their squares
PAIR_GAP = 0.08      # a second candidate scored further below the first is not compared
# Logistic regression over ``pair_features`` (60 numbers, the last a constant): positive = the
# first candidate is the better outline. Fitted by ``benchmarks/fit_scan_scoring.py``.
PAIR_WEIGHTS = np.array([
    0.4216, -0.1522, 1.0709, 0.6201, -0.0658, 0.8327, -1.4362, -1.0586, -1.9528,
    -0.4409, 0.0925, 3.1814, 0.9033, -0.4747, 0.0877, -1.7525, -0.4621, -0.4216,
    0.1522, -1.0709, -0.6201, 0.0658, -0.8327, 1.4362, 1.0586, 1.9528, 0.4409,
    -0.0925, -3.1814, -0.9033, 0.4747, -0.0877, 1.7525, 0.4621, 0.3645, -0.1593,
    1.0303, 0.5073, -0.0672, 0.7754, -1.3729, -1.0285, -4.3802, -2.5937, 0.3901,
    4.8698, 1.8355, -5.4082, 0.1968, -2.6775, -0.8683, 3.5541, 0.0000, -1.9775,
    1.9775, 1.5461, 3.5943, -3.5943, 3.6745, -0.0000,
])


def pair_features(quad_a: np.ndarray, features_a: np.ndarray, score_a: float, print_a: float,
                  quad_b: np.ndarray, features_b: np.ndarray, score_b: float, print_b: float) -> np.ndarray:
    """Two candidates side by side (quads on the small copy, as the scoring sees them)."""
    area_a = float(cv2.contourArea(quad_a))
    area_b = float(cv2.contourArea(quad_b))
    inter, _ = cv2.intersectConvexConvex(np.asarray(quad_a, np.float32), np.asarray(quad_b, np.float32))
    inter = min(float(inter), area_a, area_b)
    fa, fb = features_a[:BASE_FEATURES], features_b[:BASE_FEATURES]
    area_a, area_b = max(area_a, 1e-6), max(area_b, 1e-6)
    relation = [score_a - score_b, inter / (area_a + area_b - inter), inter / area_a, inter / area_b,
                float(np.log(area_a / area_b)), print_a, print_b, print_a - print_b, 1.0]
    return np.concatenate([fa, fb, fa - fb, relation])


def first_is_better(pair: np.ndarray, weights: np.ndarray | None = None) -> bool:
    """Whether the pair model prefers the first candidate of ``pair_features``."""
    w = PAIR_WEIGHTS if weights is None else weights
    return bool(float(pair @ w) >= 0.0)
