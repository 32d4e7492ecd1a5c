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
    0.4246, -0.1497, 1.0785, 0.6176, -0.0654, 0.8337, -1.4307, -1.0488, -1.8719,
    -0.4585, 0.0933, 3.1803, 0.9024, -0.4852, 0.0883, -1.7989, -0.4604, -0.4246,
    0.1497, -1.0785, -0.6176, 0.0654, -0.8337, 1.4307, 1.0488, 1.8719, 0.4585,
    -0.0933, -3.1803, -0.9024, 0.4852, -0.0883, 1.7989, 0.4604, 0.3673, -0.1567,
    1.0376, 0.5056, -0.0668, 0.7763, -1.3678, -1.0189, -4.1850, -2.6587, 0.3905,
    4.8610, 1.8343, -5.3168, 0.1992, -2.7258, -0.8648, 3.5529, -0.0000, -1.8825,
    1.8825, 1.5759, 3.6181, -3.6181, 3.6907, 0.0000,
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
