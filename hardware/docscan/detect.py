"""Find a page's four corners in a camera frame.

The method, in three steps (``docs/scanning.md`` has the measured figures):

1. **Candidates, on a small copy** (``work_width`` pixels wide, 320 by default). Several
   binary maps, each good at a different scene: Canny edges of every colour channel at
   two strengths (clutter, wood grain, colour-only contrast), Otsu thresholds of
   brightness and of "paperness" (bright and unsaturated: pale tables, shadows), the
   whitest unsaturated pixels after a median filter (a page on stripes or print), the least
   saturated region after a wide median (a page in shadow on patterned cloth), and what
   does not look like the cloth along the frame's border once its stripes are blurred into
   one colour (a page on plaid or stripes whose edges swamp the edge maps). Every
   outline big enough to be a page becomes its convex hull, and the hull becomes the
   smallest enclosing four-sided shape (corner cut off by a thumb: the corner comes back).
2. **Scoring.** Each candidate is first snapped to the edges near it, then described by
   a few measures: per side, the share of points where the colour a little inside
   differs from the colour a little outside *in the same direction* as along the rest
   of the side (at two distances: a page edge is a sharp step, a shadow or glare a soft
   one; texture and clutter do not line up), how busy the band just inside each side is
   (a page has a blank margin there, the edge of a block of text has ink), its share
   of the frame, how saturated its inside is, how bright inside against outside,
   what paper is (unsaturated, about as bright as the brightest things in the frame,
   some ink), whether paper lies just outside too (a block of text), and how much of the
   outline lies off the frame; a side the frame hides counts neither for nor against
   (``_neutral``: a page running off the frame has no edge there). A linear model over
   these (``SCORE_WEIGHTS``, fitted on both synthetic generators' training seeds by
   ``benchmarks/fit_scan_scoring.py``) predicts the outline's Jaccard index with the
   true page; the best candidate above ``MIN_SCORE``, with edges under its sides, print
   inside (``print_level``: a blank folder or book is no page) and the ink of text
   (``ink_level``: nor is a folder with a card or a hand's shadow on it), wins; none → no
   page. When the next such candidate is scored close behind, a pairwise model
   (``paper_model``) chooses between the two: a part of the page against the whole page.
   A larger candidate holding the winner, whose rest is paper of the winner's colour with
   text on it, is the whole page the winner is the lit (or shadowed) part of
   (``_whole_across_shadow``: a hard shadow across the page, which the scoring takes for an
   edge). The grow step moves a side out only over paper of the inside's colour.
3. **Refinement on the full frame.** Along each side, profiles across the edge are read
   from the full-resolution frame in the colour direction that best separates page and
   table; the strongest step near the coarse edge is taken to sub-pixel precision (the
   centre of the derivative's run above half its peak: a blurred edge has a flat top); a
   robust line fit (Huber) through those points ignores a finger over the edge (a side whose
   points all lie near their least-squares line has nothing to ignore, and gets that line); the
   corners are where neighbouring lines meet.

``detect_page(frame)`` returns a ``Detection`` (corners clockwise from top-left, in the
frame's own pixels; a page running off the frame has corners outside it) or None. A frame
that is not a picture raises ``BadImage``.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from hardware.docscan.errors import BadImage
from hardware.docscan.paper_model import PAIR_GAP, first_is_better, pair_features

WORK_WIDTH = 320
MIN_AREA = 0.08          # of the frame: smaller outlines are not a page held to the camera
MAX_AREA = 0.995
STEP_LEVELS = 9.0        # the least colour step (0–255 scale) that counts as an edge
MAX_CANDIDATES = 24
MAX_SCORED = 12
MIN_SCORE = 0.55         # a candidate's predicted Jaccard below this is not a page (0.5 let a stale
                         # outline over a shadow on a pale table through at 0.502)
MIN_SUPPORT = 0.25       # … nor one whose sides have a colour step along less than this on average
MIN_PRINT = 0.012        # ``print_level`` below this: a blank folder or book, not a page (on the
                         # desk training seeds the pages found measure 0.018 and up, two of the
                         # four false pages 0.001 and 0.006)
PRESCORED = MAX_SCORED   # candidates snapped and scored per frame, the pre-score's best (``_prune``):
                         # off; the top 4–6 saved 7–19 % but lowered the training frames' mean
                         # Jaccard by 0.0002–0.0012 (docs/scanning.md)
MIN_INK = 0.03           # ``ink_level`` below this: no text on it, not a page (on the training seeds
                         # pages 0.065 and up, the outlines found on empty frames 0.011 and less but
                         # a dim, noisy folder's 0.06)
PAPER_CHROMA = 0.006     # one sheet of paper has one colour (normalised to sum 1; brightness apart): on
                         # the desk training seeds, a page's lit and shadowed parts differ by 0.004 at
                         # most, a page and the cloth or desk beyond it by 0.008 and more
SHADOW_INK = 0.1         # the share of ink strokes beyond the part (text runs on under the shadow)
SHADOW_INSIDE = 0.93     # the part lies this much inside the whole …
SHADOW_PART = (0.3, 0.92)  # … and is this share of the whole's area
SHADOW_MIN_SCORE = 0.3   # the whole may score this low: the scoring takes a shadowed page for less
SHADOW_ALIGN = 10.0      # degrees: the texture beyond the part runs along one of its sides within this
                         # (text beyond a shadow's edge: 0.0-3.7 on the 15 training frames the rule
                         # mends; a striped cloth beside the page: 19.7 and 31.0 on the two it spoilt)
FIRST_MAPS = (1, 2, 3)   # ``_MapMaker``'s maps of the detector's first look: the strong edges, Otsu of
                         # grey and of paperness (the weak edges, the whiteness, least-saturated and
                         # unlike-the-border maps are most of the maps' time and for harder grounds)
SURE_SCORE = 0.97        # a page the first look finds scored this high is taken without the other maps
                         # (training frames: on desks 11-14 frames 0-59 and first 1-6 frames 0-39 the same
                         # mean Jaccard as every map's choice at 0.93-0.97, 0.0008 less at 0.90; on desks
                         # 11-13 frames 120-219, 0.0009 less at 0.93, 0.0003 at 0.95, the same at 0.97)
SECOND_MAPS = (1, 2, 3, 4, 5)  # a second look adds the whiteness and least-saturated maps, cheap, and
                         # on the training frames the map that most often brings the page the first look
                         # missed; the weak edges and unlike-the-border are the dearest (with their
                         # contours and candidates, about half of a full look's time)
SECOND_SCORE = 0.90      # a page the second look finds scored this high is taken (training frames: on
                         # desks 11-14 frames 0-59 and first 1-6 frames 0-39, every map's choice changed
                         # on no frame but one, for the better, at 0.90; 0.00009 less at 0.88, 0.0005 at
                         # 0.85; on desks 11-14 frames 120-219 none changed at 0.88-0.92, one at 0.85)
GROW_BELOW = 0.93        # a winner scored below this: look for the page's edges further out
GROW_GAIN = 0.02         # … and take a move only when it scores this much better (not noise)
BORDER_BLUR = 6.0         # σ (small-copy pixels) that averages a cloth's stripes into one colour
BORDER_RING = 0.06        # the frame's border ring (share of its height) that models the cloth
BORDER_COLOURS = 4        # k-means centres of the ring's blurred colours
BORDER_MIN_DISTANCE = 2.5  # Lab units (lightness halved): nearer than this to the cloth is the cloth
BORDER_SPREAD = 2.0        # … or than this × the border ring's own median distance to its centres
SEARCH_LEVELS = 6.0      # the least step when looking further out for the page's edge
FRAME_MARGIN = 1.0       # small-copy pixels: a sample nearer the frame's edge reads the edge itself
SEEN_SIDE = 0.25         # a side with fewer of its points inside the frame is hidden by the frame
CLEAN_FIT = 0.75         # px: a side's steps all this near their least-squares line need no robust fit
                         # (``_fit_lines``; the Huber fit kept every point of such a side on the training
                         # frames up to 1.0 px, and dropped one at 1.25)
# Candidate scoring: a linear model over ``_features`` (42 numbers) predicting the
# outline's Jaccard index with the true page (-0.5 on frames without one). Fitted by
# ridge regression on the training seeds only, of both generators (synthetic.py 1–6, 60
# frames each; synthetic_desks.py 11–14, 200 frames each: ``benchmarks/fit_scan_scoring.py``).
SCORE_WEIGHTS = np.array([
    0.1564, -0.0326, 0.3637, -0.0584, -0.1127, -0.0368, 0.0063, 0.1416, -0.0306,
    -0.1348, 0.0169, 1.5531, 0.1151, 0.5143, 0.1909, -0.0006, -0.0722, -0.1206,
    0.0686, -0.5751, -0.0409, 0.0968, 0.1549, -0.1126, 0.0226, -0.0624, 0.0721,
    -0.0067, -1.0667, -0.0290, -0.4796, -0.0612, 0.0036, 0.0012, 0.1564, 0.1001,
    -0.2735, 0.2346, 0.4863, -0.3570, 0.0435, -0.4716,
])

# The pre-score: a linear model over ``prescore_features`` predicting the snapped candidate's
# Jaccard index, fitted by ``benchmarks/fit_scan_prescore.py`` on training frames only.
PRESCORE_WEIGHTS = np.array([
    -0.0265, -0.1996, 0.4045, 0.2426, -0.0389, 0.0712, 0.3265,
    -0.0241, -0.0484, 0.0548, 0.2845, -0.2687, -0.0287, 0.1254,
])


@dataclass(frozen=True)
class Detection:
    """A page outline: ``quad`` is 4×2 float32, clockwise from top-left, in frame pixels.

    Corners of a page running off the frame lie outside it (``clip_to_frame`` for drawing).
    """

    quad: np.ndarray
    score: float      # mean share of each side with an edge under it (0–1)
    coverage: float   # the share of the frame the page covers (its part inside the frame, 0–1)

    def as_list(self) -> list[list[float]]:
        return [[round(float(x), 1), round(float(y), 1)] for x, y in self.quad]


def check_frame(frame: object) -> np.ndarray:
    """The frame as an H×W×3 uint8 array, or ``BadImage``."""
    if not isinstance(frame, np.ndarray) or frame.size == 0 or frame.ndim not in (2, 3):
        raise BadImage("not a picture (empty or not an array)")
    if frame.ndim == 3 and frame.shape[2] not in (1, 3, 4):
        raise BadImage(f"a picture with {frame.shape[2]} channels")
    if min(frame.shape[:2]) < 16:
        raise BadImage("picture too small")
    if frame.dtype != np.uint8:
        if frame.dtype == np.uint16:
            frame = (frame >> 8).astype(np.uint8)
        else:
            raise BadImage(f"pixels of type {frame.dtype}")
    if frame.ndim == 2 or frame.shape[2] == 1:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    elif frame.shape[2] == 4:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return frame


def order_corners(quad: np.ndarray) -> np.ndarray:
    """Corners clockwise on screen (y down), starting from the one nearest the top-left."""
    quad = np.asarray(quad, np.float32).reshape(4, 2)
    # In plain Python floats: NumPy's overhead per call on four corners cost more than the
    # arithmetic (5 µs against 18; the detector orders ≈ 8 outlines a frame). The same order as
    # NumPy's float32 angles and sums (a stable sort, the first of equal sums) unless two corners'
    # angles or sums differ by less than float32's rounding: no such corners in 25 000 tried.
    pts = quad.tolist()
    cx, cy = sum(p[0] for p in pts) / 4, sum(p[1] for p in pts) / 4
    order = sorted(range(4), key=lambda i: math.atan2(pts[i][1] - cy, pts[i][0] - cx))
    sums = [pts[i][0] + pts[i][1] for i in order]
    start = sums.index(min(sums))
    return quad[order[start:] + order[:start]]


# -- step 1: candidates ---------------------------------------------------------------------


def _line_meet(p1: np.ndarray, p2: np.ndarray, p3: np.ndarray, p4: np.ndarray) -> np.ndarray | None:
    d1, d2 = p2 - p1, p4 - p3
    den = d1[0] * d2[1] - d1[1] * d2[0]
    if abs(den) < 1e-9:
        return None
    t = ((p3[0] - p1[0]) * d2[1] - (p3[1] - p1[1]) * d2[0]) / den
    meet: np.ndarray = p1 + t * d1
    return meet


def hull_to_quad(hull: np.ndarray) -> np.ndarray | None:
    """The four-sided shape around a convex polygon, found by dropping edges one by one.

    Each round removes the edge whose removal (extending its two neighbours to meet)
    adds the least area, until four sides remain.
    """
    outline = hull.reshape(-1, 2).astype(np.float32)   # a contour's whole pixels: float32 holds them exactly
    pts = cv2.approxPolyDP(outline, 0.01 * cv2.arcLength(outline, True), True).reshape(-1, 2)
    # In plain Python floats: after the approximation 5–8 points are usual, where NumPy's
    # overhead per call cost more than the arithmetic (the same float64 operations in the same
    # order, so the same corners to the last bit).
    p: list[tuple[float, float]] = [(x, y) for x, y in pts.tolist()]
    while len(p) > 4:
        n = len(p)
        best, best_cost, best_meet = -1, math.inf, (0.0, 0.0)
        for i in range(n):  # edge i, from b to c, with its neighbours' far points a and d
            (ax, ay), (bx, by), (cx, cy), (dx, dy) = p[i - 1], p[i], p[(i + 1) % n], p[(i + 2) % n]
            d1x, d1y, d2x, d2y = bx - ax, by - ay, dx - cx, dy - cy
            den = d1x * d2y - d1y * d2x
            if abs(den) < 1e-9:
                continue  # parallel neighbours never meet
            t = ((cx - ax) * d2y - (cy - ay) * d2x) / den
            mx, my = ax + t * d1x, ay + t * d1y
            # the new point must lie beyond the removed edge (outside the polygon)
            if (mx - bx) * (bx - ax) + (my - by) * (by - ay) < 0 \
                    or (mx - cx) * (cx - dx) + (my - cy) * (cy - dy) < 0:
                continue
            cost = 0.5 * abs((cx - bx) * (my - by) - (cy - by) * (mx - bx))
            if math.isnan(cost):
                return None  # as NumPy's argmin did: a NaN is the least
            if cost < best_cost:
                best, best_cost, best_meet = i, cost, (mx, my)
        if best < 0:
            return None
        p[best] = best_meet
        del p[(best + 1) % n]
    if len(p) != 4:
        return None
    return np.array(p, np.float32)


def _maps(small: np.ndarray) -> list[np.ndarray]:
    """Binary maps whose outlines may be the page: two edge maps, then region maps."""
    return _MapMaker(small).all()


class _MapMaker:
    """``_maps``' maps one at a time (index as in ``_maps``' list, None: no such map on this frame),
    so that the detector's first look (``FIRST_MAPS``) makes only the cheap ones; what they share
    (the blurred copy, its grey and HSV, the gradients) is made once."""

    def __init__(self, small: np.ndarray) -> None:
        self.small = small
        blur = cv2.GaussianBlur(small, (5, 5), 0)
        self.grey = cv2.cvtColor(blur, cv2.COLOR_BGR2GRAY)
        self.hsv = cv2.cvtColor(blur, cv2.COLOR_BGR2HSV)
        self._gradients: tuple[np.ndarray, np.ndarray] | None = None

    def all(self) -> list[np.ndarray]:
        maps = [self.make(i) for i in range(MAP_COUNT)]
        return [m for m in maps if m is not None]

    def make(self, index: int) -> np.ndarray | None:
        if index < 2:
            if self._gradients is None:
                self._gradients = _gradients(self.grey, self.hsv)
            return _edge_map(*self._gradients, EDGE_STRENGTHS[index])
        if index < 4:
            plane = self.grey if index == 2 else cv2.subtract(self.hsv[..., 2], self.hsv[..., 1])
            _, mask = cv2.threshold(plane, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
            return mask
        if index == 4:
            return _whiteness_map(self.hsv)
        if index == 5:
            return _least_saturated_map(self.small, self.hsv)
        return _unlike_border(self.small)


MAP_COUNT = 7   # ``_MapMaker``'s: weak and strong edges, Otsu of grey and of paperness, whiteness,
                # least saturated, unlike the border


EDGE_STRENGTHS = ((15, 45), (40, 110))   # Canny's thresholds: the weak edge map, the strong one


def _gradients(grey: np.ndarray, hsv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grey's and saturation's gradients (Canny's own 3×3 Sobel, border replicated), one plane
    above the other with two rows of nothing between (what Canny puts beyond a picture's edge),
    so that one Canny call finds both planes' edges: the same pixels as one call per plane, a
    fifth less time. Taken once for both strengths: the same edges."""
    h, w = grey.shape
    dx, dy = np.zeros((2 * h + 2, w), np.int16), np.zeros((2 * h + 2, w), np.int16)
    for plane, rows in ((grey, slice(0, h)), (np.ascontiguousarray(hsv[..., 1]), slice(h + 2, None))):
        # both 3×3 Sobel derivatives in one pass: the same numbers as two ``cv2.Sobel`` calls, 2/3 the time
        cv2.spatialGradient(plane, dx[rows], dy[rows], 3, cv2.BORDER_REPLICATE)
    return dx, dy


def _edge_map(dx: np.ndarray, dy: np.ndarray, strength: tuple[int, int]) -> np.ndarray:
    """Canny edges of grey or saturation (``_gradients``) at one strength, dilated."""
    h = (dx.shape[0] - 2) // 2
    both = cv2.Canny(dx, dy, *strength)
    edges: np.ndarray = cv2.dilate(np.bitwise_or(both[:h], both[h + 2:]), np.ones((3, 3), np.uint8))
    return edges


def _whiteness_map(hsv: np.ndarray) -> np.ndarray | None:
    """Paper on stripes, plaid or print: the whitest, least saturated pixels, with the thin
    stripes and dots of a cloth (and the page's own ink) smoothed out first."""
    # The cv2 stubs lack the scalar form of multiply that OpenCV accepts.
    whiteness = cv2.medianBlur(cv2.subtract(hsv[..., 2], cv2.multiply(hsv[..., 1], 2)), 5)  # type: ignore[call-overload]
    top = percentile_u8(whiteness, 97)
    if top <= 40:
        return None
    mask: np.ndarray = cv2.inRange(whiteness, top * 0.8, 255)
    return mask


def _least_saturated_map(small: np.ndarray, hsv: np.ndarray) -> np.ndarray:
    """Paper on patterned or plaid cloth, in a shadow or dim light, where neither the edges nor
    the whitest pixels hold it: the least saturated region once a wide median has smoothed
    the cloth's dots and checks (and the page's ink) away."""
    # On a half-size copy with a 5-wide median (about the 9-wide one on the small copy): OpenCV's
    # median wider than 5 takes a slower method, 2.1 ms here against 0.05 ms.
    h, w = small.shape[:2]
    half = cv2.resize(hsv[..., 1], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    _, mask = cv2.threshold(cv2.medianBlur(half, 5), 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    full: np.ndarray = cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
    return full


def _unlike_border(small: np.ndarray) -> np.ndarray | None:
    """Where the picture does not look like the cloth or table along the frame's border.

    A striped or plaid cloth swamps the edge maps with its own edges, and one of its colours
    may be as white as paper. Averaged over a few of its periods (a wide blur), though, a
    cloth is one steady mixed colour, and a page (paper with its ink) another. The page
    rarely covers the frame's border, so the border ring's blurred colours (a few k-means
    centres in Lab) model the cloth; pixels far from all of them (Otsu) are the map.
    """
    h, w = small.shape[:2]
    # at half the small copy's size: the map is blurred anyway, and this costs a quarter
    half = cv2.resize(small, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    mean = cv2.GaussianBlur(cv2.cvtColor(half, cv2.COLOR_BGR2Lab), (0, 0), BORDER_BLUR / 2).astype(np.float32)
    r = max(2, int(BORDER_RING * min(h, w) / 2))
    ring = np.concatenate([mean[:r].reshape(-1, 3), mean[-r:].reshape(-1, 3),
                           mean[r:-r, :r].reshape(-1, 3), mean[r:-r, -r:].reshape(-1, 3)])
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 8, 1.0)
    cv2.setRNGSeed(1)  # the same frame gives the same centres
    _, _, centres = cv2.kmeans(ring, BORDER_COLOURS, None, criteria, 1,  # type: ignore[call-overload]
                               cv2.KMEANS_PP_CENTERS)
    # lightness counts half: a shadow across the cloth darkens it but keeps its colours
    mean[..., 0] *= 0.5
    centres[:, 0] *= 0.5
    # per colour plane (contiguous): 0.1 ms against 1.7 ms for the H×W×3 differences, same sums
    planes = [np.ascontiguousarray(mean[..., i]) for i in range(3)]
    near = np.full(mean.shape[:2], np.inf, np.float32)
    for c in centres:
        d0, d1, d2 = planes[0] - c[0], planes[1] - c[1], planes[2] - c[2]
        np.minimum(near, d0 * d0 + d1 * d1 + d2 * d2, out=near)
    near = np.sqrt(near)
    scaled = np.clip(near * 4.0, 0, 255).astype(np.uint8)
    level, mask = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # The cloth's own spread along the border (what its model leaves unexplained: a shadow,
    # a coarse stripe, things lying on the border) sets how far is far.
    ring_far = float(np.median(np.concatenate([near[:r].ravel(), near[-r:].ravel()])))
    if level < 4.0 * max(BORDER_MIN_DISTANCE, BORDER_SPREAD * ring_far):
        return None  # nothing stands out from the border's colours
    mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
    return mask


def percentile_u8(image: np.ndarray, q: float, mask: np.ndarray | None = None) -> float:
    """``np.percentile(image, q)`` (linear) of a uint8 image, read from its histogram; with
    ``mask`` (uint8, non-zero where counted), of ``image[mask > 0]``.

    The same number as NumPy's, which sorts (or partitions) all the pixels: 0.23 ms on the
    small copy against 0.04 ms.
    """
    counts = cv2.calcHist([np.ascontiguousarray(image)], [0], mask, [256], [0, 256]).ravel().astype(np.int64)
    cumulative = np.cumsum(counts)
    index = q / 100.0 * float(cumulative[-1] - 1)
    low = int(np.floor(index))
    t = index - low
    a = float(np.searchsorted(cumulative, low, side="right"))         # the value at sorted[low]
    b = float(np.searchsorted(cumulative, min(low + 1, cumulative[-1] - 1), side="right"))
    # NumPy's lerp, from the nearer end
    return a + (b - a) * t if t < 0.5 else b - (b - a) * (1 - t)


def _outlines(binary: np.ndarray, mode: int, min_area: float) -> list[np.ndarray]:
    contours, _ = cv2.findContours(binary, mode, cv2.CHAIN_APPROX_SIMPLE)
    return [c for c in contours if cv2.contourArea(c) >= min_area]


def _every_and_outer(binary: np.ndarray, min_area: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``_outlines`` of ``binary`` with ``RETR_LIST`` and with ``RETR_EXTERNAL``, from one
    ``RETR_TREE`` call: the same contours (the outer ones are those without a parent, in
    ``RETR_EXTERNAL``'s order), the big ones put in ``RETR_LIST``'s order (the reverse of the
    raster order of their first points; their order only breaks ties of area later). Tracing
    an edge map's ≈ 350 contours once instead of twice: 0.95 → 0.60 ms on the weak edge map."""
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return [], []
    parents = hierarchy[0][:, 3]
    big = [(c, bool(parents[i] < 0)) for i, c in enumerate(contours) if cv2.contourArea(c) >= min_area]
    every = sorted((c for c, _ in big), key=lambda c: (-int(c[0, 0, 1]), -int(c[0, 0, 0])))
    return every, [c for c, outer in big if outer]


class _MapOutlines:
    """The outlines of a small copy's maps (``_MapMaker``), each map's made once, when first asked for."""

    def __init__(self, small: np.ndarray) -> None:
        h, w = small.shape[:2]
        self.min_area = MIN_AREA * float(h * w) * 0.6
        size = max(5, int(0.13 * min(h, w)) | 1)
        self.round_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
        self.maker = _MapMaker(small)
        self.by_map: dict[int, list[np.ndarray]] = {}

    def of(self, indices: Iterable[int]) -> list[np.ndarray]:
        """The outlines of these maps, in the maps' order (the order ``_candidates`` breaks ties by)."""
        outlines: list[np.ndarray] = []
        for index in sorted(indices):
            if index not in self.by_map:
                self.by_map[index] = self._outlines_of(index)
            outlines += self.by_map[index]
        return outlines

    def _outlines_of(self, index: int) -> list[np.ndarray]:
        binary = self.maker.make(index)
        if binary is None:
            return []
        if index < 2:  # edges: every closed outline, and the filled outer shapes less thin parts
            outlines, outer = _every_and_outer(binary, self.min_area)
            filled = np.zeros_like(binary)
            cv2.drawContours(filled, outer, -1, 255, -1)
            binary = filled
        else:
            outlines = _outlines(binary, cv2.RETR_EXTERNAL, self.min_area)
        # a finger, a pen or a shadow joined to the page: cut thin parts off
        opened = cv2.morphologyEx(binary, cv2.MORPH_OPEN, self.round_kernel)
        return outlines + _outlines(opened, cv2.RETR_EXTERNAL, self.min_area)


def _candidates(small: np.ndarray, outlines: list[np.ndarray] | None = None,
                known: dict[int, _Shape] | None = None) -> Iterator[np.ndarray]:
    """The candidate outlines, biggest first, without near-duplicates (at most ``MAX_CANDIDATES``;
    lazily: see ``_quads``, and ``known`` there), from every map's ``outlines`` (``_MapOutlines``)
    unless given."""
    h, w = small.shape[:2]
    frame_area = float(h * w)
    if outlines is None:
        outlines = _MapOutlines(small).of(range(MAP_COUNT))
    kept = np.empty((MAX_CANDIDATES, 4, 2), np.float32)
    u = 0
    for quad in _quads(outlines, frame_area, known):
        # new when some corner lies over 2 px from every corner of each quad kept so far
        apart = np.abs(quad[None, :, None, :] - kept[:u, None, :, :]).min(axis=2).max(axis=(1, 2))
        if (apart > 2.0).all():
            kept[u] = quad
            u += 1
            yield quad
        if u >= MAX_CANDIDATES:
            break


def _quads(outlines: list[np.ndarray], frame_area: float,
           known: dict[int, _Shape] | None = None) -> Iterator[np.ndarray]:
    """The four-sided shapes around the biggest outlines, biggest first (by their hulls' areas).

    Lazily: the hulls are ordered first, and a hull's quad (``hull_to_quad``) is worked out only
    when asked for. The scoring takes the first ``MAX_SCORED`` plausible candidates, often a
    third of those coming; the same quads in the same order as when all were worked out first.
    ``known``: each outline's area, hull and quad worked out already on this frame (by ``id``;
    the outlines must stay alive with it), filled in.
    """
    known = {} if known is None else known
    shapes = []
    for contour in outlines:
        if id(contour) not in known:
            known[id(contour)] = _Shape(cv2.contourArea(contour))
        shapes.append(known[id(contour)])
    order = sorted(range(len(outlines)), key=lambda i: -shapes[i].area)   # stable, as ``list.sort``
    hulls: list[tuple[float, _Shape]] = []
    for i in order[: MAX_CANDIDATES * 2]:
        shape = shapes[i]
        if shape.hull is None:
            shape.hull = cv2.convexHull(outlines[i])
            shape.hull_area = cv2.contourArea(shape.hull)
        if MIN_AREA * frame_area <= shape.hull_area <= MAX_AREA * frame_area:
            hulls.append((shape.hull_area, shape))
    hulls.sort(key=lambda item: -item[0])   # stable: ties in the outlines' order, as before
    for _, shape in hulls:
        if not shape.quad_known:
            shape.quad, shape.quad_known = hull_to_quad(shape.hull), True   # type: ignore[arg-type]
        if shape.quad is not None:
            yield shape.quad


@dataclass
class _Shape:
    """An outline's area, and when worked out, its hull (and the hull's area) and quad."""

    area: float
    hull: np.ndarray | None = None
    hull_area: float = 0.0
    quad: np.ndarray | None = None
    quad_known: bool = False


# -- step 2: scoring ------------------------------------------------------------------------


def _plausible(quad: np.ndarray, w: int, h: int) -> bool:
    if not cv2.isContourConvex(quad.reshape(-1, 1, 2)):
        return False
    # In plain Python floats, as ``order_corners``: four corners, where NumPy's overhead per call
    # was most of the time (the same answers as its float32 sums but at a bound's last bit)
    pts = quad.tolist()
    edges = [(pts[i - 3][0] - pts[i][0], pts[i - 3][1] - pts[i][1]) for i in range(4)]  # i to i+1
    sides = [math.sqrt(x * x + y * y) for x, y in edges]
    for i in range(4):  # the corner between edges i-1 and i
        (bx, by), (ex, ey) = edges[i - 1], edges[i]
        if abs((bx * ex + by * ey) / (sides[i - 1] * sides[i] + 1e-9)) > 0.6:
            return False  # corners between about 53° and 127° only
    shortest, longest = min(sides), max(sides)
    return not (shortest < 0.12 * max(w, h) or shortest / longest < 0.25)


_last_sides: tuple[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None


def _sides(quad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per side: start point, vector to the end point, unit normal pointing into the quad.

    The scoring asks for the same candidate's sides five times in a row: the last answer is
    kept (one tuple, replaced whole, so threads detecting at once cannot mix two quads').
    Callers must not write into the arrays.
    """
    global _last_sides
    key = np.asarray(quad, np.float32).tobytes()
    last = _last_sides
    if last is not None and last[0] == key:
        return last[1]
    sides = _compute_sides(quad)
    _last_sides = (key, sides)
    return sides


def _compute_sides(quad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p = quad.astype(np.float32)
    d = p[[1, 2, 3, 0]] - p
    n = np.empty_like(d)
    n[:, 0], n[:, 1] = -d[:, 1], d[:, 0]
    n /= np.sqrt((n * n).sum(axis=1, keepdims=True)) + 1e-9
    inward = ((p.mean(axis=0) - p) * n).sum(axis=1) >= 0
    n *= np.where(inward, 1.0, -1.0).astype(np.float32)[:, None]
    for array in (p, d, n):
        array.flags.writeable = False  # shared by ``_sides``' callers
    return p, d, n


def side_points(quad: np.ndarray, samples: int, margin: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Points along each side of a quad, and the sides' unit normals pointing into it.

    Per side, ``samples`` evenly spaced points (4 × samples × 2, float32) between its start
    and end corners, leaving ``margin`` of the side's length free at each end (the corners
    are where a thumb, a fold or the next side's edge spoils a measure).
    """
    p, d, n = _sides(quad)
    t = (np.arange(samples, dtype=np.float32) + 0.5) / samples * (1 - 2 * margin) + margin
    return p[:, None, :] + t[None, :, None] * d[:, None, :], n


_last_sides_many: tuple[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None


def _sides_many(quads: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_sides`` of several quads at once (m × 4 × 2 each). The scoring asks for the same
    candidates' sides five times in a row (snapped: their support at two distances, the texture
    inside, the ring outside, the part off the frame): the last answer is kept, as ``_sides`` keeps
    its own. Callers must not write into the arrays."""
    global _last_sides_many
    p = np.stack(quads).astype(np.float32)
    key = p.tobytes()
    last = _last_sides_many
    if last is not None and last[0] == key:
        return last[1]
    d = p[:, [1, 2, 3, 0]] - p
    n = np.empty_like(d)
    n[..., 0], n[..., 1] = -d[..., 1], d[..., 0]
    n /= np.sqrt((n * n).sum(axis=2, keepdims=True)) + 1e-9
    inward = ((p.mean(axis=1, keepdims=True) - p) * n).sum(axis=2) >= 0
    n *= np.where(inward, 1.0, -1.0).astype(np.float32)[..., None]
    for array in (p, d, n):
        array.flags.writeable = False  # shared by ``_sides_many``' callers
    _last_sides_many = (key, (p, d, n))
    return p, d, n


def _side_points_many(quads: list[np.ndarray], samples: int,
                      margin: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """``side_points`` of several quads at once (m × 4 × samples × 2, m × 4 × 2), the same numbers:
    per quad, the Python around ``_sides`` cost more than the arithmetic."""
    p, d, n = _sides_many(quads)
    t = (np.arange(samples, dtype=np.float32) + 0.5) / samples * (1 - 2 * margin) + margin
    return p[:, :, None, :] + t[None, None, :, None] * d[:, :, None, :], n


def _sample(image: np.ndarray, pts: np.ndarray, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """The image's colours at float points (any shape ending in 2): same shape ending in 3, float32."""
    flat = pts.reshape(1, -1, 2).astype(np.float32)
    vals = cv2.remap(image, flat[..., 0], flat[..., 1], interpolation, borderMode=cv2.BORDER_REPLICATE)
    return vals.reshape(*pts.shape[:-1], -1).astype(np.float32)


def _in_frame(pts: np.ndarray, width: int, height: int) -> np.ndarray:
    """Whether points (any shape ending in 2) lie inside the frame, at least ``FRAME_MARGIN`` from its edge.

    A point nearer the edge or beyond it reads the frame's edge pixels (replicated): no evidence.
    """
    x, y = pts[..., 0], pts[..., 1]
    inside: np.ndarray = ((x >= FRAME_MARGIN) & (y >= FRAME_MARGIN)
                          & (x <= width - 1 - FRAME_MARGIN) & (y <= height - 1 - FRAME_MARGIN))
    return inside


def _neutral(values: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Per-side values with the sides the frame hides (``seen`` under ``SEEN_SIDE``) set to the
    others' mean: a page running off the frame has no edge along the frame's border, and that
    must count neither for nor against it. At most two sides; with more there is nothing to judge."""
    hidden = seen < SEEN_SIDE
    if hidden.any() and hidden.sum() <= 2:
        values = values.copy()
        values[hidden] = values[~hidden].mean()
    return values


def _neutral_many(values: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """``_neutral`` of each row (m × 4 values, m × 4 seen shares) at once, the same numbers: the
    hidden sides' zeros add nothing to the sum of the seen ones (float32, in their order)."""
    hidden = seen < SEEN_SIDE
    rows = hidden.any(axis=1) & (hidden.sum(axis=1) <= 2)
    if not rows.any():
        return values
    values = values.copy()
    part, shown = values[rows], ~hidden[rows]
    means = np.where(shown, part, 0).sum(axis=1) / shown.sum(axis=1).astype(values.dtype)
    values[rows] = np.where(shown, part, means[:, None])
    return values


def _side_support(image: np.ndarray, quad: np.ndarray, offset: float, samples: int = 24) -> np.ndarray:
    """Per side, the share of points with a colour step across the side.

    Only points whose two samples lie inside the frame count; a side the frame hides gets the
    other sides' mean (``_neutral``).
    """
    h, w = image.shape[:2]
    base, n = side_points(quad, samples)                                   # 4 × samples × 2
    pts = np.stack([base + offset * n[:, None, :], base - offset * n[:, None, :]])
    seen = _in_frame(pts[0], w, h) & _in_frame(pts[1], w, h)               # 4 × samples
    count = np.maximum(seen.sum(axis=1), 1)
    vals = _sample(image, pts)                                             # 2 × 4 × samples × 3
    steps = vals[0] - vals[1]                                              # inside minus outside
    mean = (steps * seen[..., None]).sum(axis=1) / count[:, None]          # 4 × 3
    norm = np.linalg.norm(mean, axis=1)
    along = np.einsum("isc,ic->is", steps, mean / (norm[:, None] + 1e-9))
    shares: np.ndarray = (((along > STEP_LEVELS) & seen).sum(axis=1) / count).astype(np.float32)
    shares[norm < STEP_LEVELS * 0.5] = 0.0  # no steady step along this side: texture, or nothing
    return _neutral(shares, seen.mean(axis=1))


def _side_support_many(image: np.ndarray, quads: list[np.ndarray], offset: float,
                       samples: int = 24) -> np.ndarray:
    """``_side_support`` of several quads at once (m × 4): one ``cv2.remap`` for all of them."""
    supports: np.ndarray = _side_supports_many(image, quads, (offset,), samples)[0]
    return supports


def _side_supports_many(image: np.ndarray, quads: list[np.ndarray], offsets: tuple[float, ...],
                        samples: int = 24) -> np.ndarray:
    """``_side_support_many`` at each of ``offsets`` (k × m × 4): the scoring's two distances from the
    same points along the sides, in one ``cv2.remap`` and one pass of the arithmetic."""
    h, w = image.shape[:2]
    base, n = _side_points_many(quads, samples)                            # m × 4 × samples × 2
    n = n[:, :, None, :]
    away = np.array(offsets, np.float32)[:, None, None, None, None] * n    # k × m × 4 × 1 × 2
    pts = np.stack([base + away, base - away], axis=1)                     # k × 2 × m × 4 × samples × 2
    seen = _in_frame(pts[:, 0], w, h) & _in_frame(pts[:, 1], w, h)          # k × m × 4 × samples
    count = np.maximum(seen.sum(axis=3), 1)
    vals = _sample(image, pts)                                             # k × 2 × m × 4 × samples × 3
    steps = vals[:, 0] - vals[:, 1]
    mean = (steps * seen[..., None]).sum(axis=3) / count[..., None]        # k × m × 4 × 3
    norm = np.linalg.norm(mean, axis=3)
    along = np.einsum("kmisc,kmic->kmis", steps, mean / (norm[..., None] + 1e-9))
    shares = (((along > STEP_LEVELS) & seen).sum(axis=3) / count).astype(np.float32)
    shares[norm < STEP_LEVELS * 0.5] = 0.0
    seen_share = seen.mean(axis=3)
    return _neutral_many(shares.reshape(-1, 4), seen_share.reshape(-1, 4)).reshape(shares.shape)


def prescore_features(smooth: np.ndarray, hsv: np.ndarray, quads: list[np.ndarray],
                      brightest: float) -> np.ndarray:
    """A few cheap measures of each rough candidate (m × 14), before any snapping: its sides'
    support at ±2 px, its share of the frame, the saturation and brightness inside, the share
    of paper-like points inside and of the outline off the frame, their squares and a one.

    Snapping and describing a candidate (``_refine``, ``_features``) cost about 1 ms each; a
    linear model over these (``PRESCORE_WEIGHTS``, ``benchmarks/fit_scan_prescore.py``) picks the
    few worth that.
    """
    m = len(quads)
    h, w = smooth.shape[:2]
    sup = np.sort(_side_support_many(smooth, quads, offset=2.0), axis=1)   # m × 4
    q = np.stack(quads).astype(np.float32)                                  # m × 4 × 2
    g = (np.arange(6, dtype=np.float32) + 0.5) / 6 * 0.8 + 0.1
    u, v = (a.ravel()[None, :, None] for a in np.meshgrid(g, g))
    grid = ((1 - u) * (1 - v) * q[:, None, 0] + u * (1 - v) * q[:, None, 1] + u * v * q[:, None, 2]
            + (1 - u) * v * q[:, None, 3])                                  # m × 36 × 2
    flat = grid.reshape(1, -1, 2)
    vals = cv2.remap(hsv, flat[..., 0], flat[..., 1], cv2.INTER_NEAREST,
                     borderMode=cv2.BORDER_REPLICATE).reshape(m, -1, 3).astype(np.float32)
    ordered = np.sort(vals, axis=1)
    s_in = ordered[:, vals.shape[1] // 2, 1]
    v_in = ordered[:, (3 * vals.shape[1]) // 4, 2]
    paper = ((vals[..., 1] < 40) & (vals[..., 2] > 0.6 * v_in[:, None])).mean(axis=1)
    x, y = q[..., 0], q[..., 1]
    area = 0.5 * np.abs((x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y).sum(axis=1)) / float(h * w)
    corners_out = ((x < 0) | (y < 0) | (x > w - 1) | (y > h - 1)).mean(axis=1)
    base = np.column_stack([sup[:, 0], sup[:, 1], sup.mean(axis=1), area, np.minimum(s_in, 60.0) / 30.0,
                            v_in / brightest, paper, corners_out])
    return np.column_stack([base, base[:, :5] ** 2, np.ones(m)])


def edged(features: np.ndarray) -> bool:
    """Whether a candidate has edges under its sides (``_features``' third number: the mean
    side support). The paper-likeness measures weigh much in the scoring; without this a
    stale outline over a shadow on a pale table (the live path's prior) scored as a page."""
    return bool(features[2] >= MIN_SUPPORT)


def _brightest(hsv: np.ndarray) -> float:
    """The brightness of the brightest things in the frame (97th percentile of V), plus one."""
    return percentile_u8(hsv[::4, ::4, 2], 97) + 1.0


def _inside_texture_many(image: np.ndarray, quads: list[np.ndarray], offsets: tuple[float, ...] = (2.5, 4.5),
                         samples: int = 32) -> np.ndarray:
    """Per side of each quad (m × 4), the share of points just inside it that differ from their
    neighbours along it.

    A page has a blank margin inside its edge; the edge of a block of text (a wrong
    outline inside a page) has ink and paper alternating there.
    """
    h, w = image.shape[:2]
    base, n = _side_points_many(quads, samples)                             # m × 4 × samples × 2
    pts = np.stack([base + o * n[:, :, None, :] for o in offsets], axis=2)  # m × 4 × k × samples × 2
    seen = _in_frame(pts, w, h)[..., 1:-1]
    vals = _sample(image, pts)
    second = np.abs(vals[..., 1:-1, :] - (vals[..., :-2, :] + vals[..., 2:, :]) / 2).sum(axis=4)
    count = np.maximum(seen.sum(axis=(2, 3)), 1)
    busy = (((second > 20) & seen).sum(axis=(2, 3)) / count).astype(np.float32)
    seen_share = seen.mean(axis=(2, 3))
    return _neutral_many(busy, seen_share)


def _quantile_rows(values: np.ndarray, q: float | np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """``np.percentile(row, q)`` (linear) of each row of a few whole-number values (0–255), of
    the values where ``keep`` (all when None), float64 (``q``: one for all rows, or one per row):
    one sort for all the rows, without NumPy's general machinery. For the median and the 75th
    percentile the fraction is a multiple of ¼, so the numbers are NumPy's to the last bit also for
    float32 values."""
    values = values.astype(np.float64)
    ordered = np.sort(values if keep is None else np.where(keep, values, np.inf), axis=1)
    count = np.full(len(values), values.shape[1]) if keep is None else keep.sum(axis=1)
    index = q / 100.0 * (count - 1)
    low = np.floor(index).astype(np.int64)
    high = np.minimum(low + 1, count - 1)
    t = index - low
    rows = np.arange(len(values))
    a, b = ordered[rows, low], ordered[rows, high]
    result: np.ndarray = np.where(t < 0.5, a + (b - a) * t, b - (b - a) * (1 - t))
    return result


def _features(smooth: np.ndarray, hsv: np.ndarray, quad: np.ndarray, support: np.ndarray,
              brightest: float | None = None) -> np.ndarray:
    """What the candidate scoring looks at (see ``SCORE_WEIGHTS``); ``brightest``: the
    frame's ``_brightest``, when the caller has it already (it is the same for every candidate)."""
    features: np.ndarray = _features_many(smooth, hsv, [quad], support[None, :], brightest)[0]
    return features


# ``_features_many``' grid over a candidate's inside (10 × 10, away from its edges), as bilinear weights
_INSIDE_U, _INSIDE_V = (a.ravel()[None, :, None] for a in np.meshgrid(
    *[(np.arange(10, dtype=np.float32) + 0.5) / 10 * 0.8 + 0.1] * 2))


def _features_many(smooth: np.ndarray, hsv: np.ndarray, quads: list[np.ndarray],
                   supports: np.ndarray | None = None, brightest: float | None = None) -> np.ndarray:
    """``_features`` of several quads at once (m × 42; ``supports``: m × 4, the side support at 2 px,
    measured here with the one at 1 px when None), the same numbers: each measure is taken for all
    the candidates in one ``cv2.remap`` (one candidate at a time, the Python around the small calls
    cost more than the arithmetic)."""
    h, w = smooth.shape[:2]
    m = len(quads)
    q = np.stack(quads).astype(np.float32)                                  # m × 4 × 2
    if supports is None:
        supports, sup1 = _side_supports_many(smooth, quads, (2.0, 1.0))
    else:
        sup1 = _side_support_many(smooth, quads, offset=1.0)
    sup1 = np.sort(sup1, axis=1)
    sup = np.sort(supports, axis=1)
    tex = np.sort(_inside_texture_many(smooth, quads), axis=1)
    # brightness inside (a grid over the page, away from its edges) and just outside
    u, v = _INSIDE_U, _INSIDE_V
    grid = ((1 - u) * (1 - v) * q[:, None, 0] + u * (1 - v) * q[:, None, 1] + u * v * q[:, None, 2]
            + (1 - u) * v * q[:, None, 3]).astype(np.float32)              # m × 100 × 2
    base, n = _side_points_many(quads, 24, margin=0.0)                      # m × 4 × 24 × 2
    ring = np.concatenate([(base - o * n[:, :, None, :]).reshape(m, -1, 2) for o in (2.5, 4.5)],
                          axis=1).astype(np.float32)                        # m × 192 × 2
    # not the frame's edge: only the ring's points inside the frame, unless too few are
    keep = _in_frame(ring, w, h)
    keep[keep.mean(axis=1) <= 0.2] = True
    pts = np.concatenate([grid, ring], axis=1).reshape(1, -1, 2)
    vals = cv2.remap(hsv, pts[..., 0], pts[..., 1], cv2.INTER_NEAREST,
                     borderMode=cv2.BORDER_REPLICATE).reshape(m, -1, 3).astype(np.float32)
    inside, outside = vals[:, : grid.shape[1]], vals[:, grid.shape[1]:]
    kept = np.maximum(keep.sum(axis=1), 1)
    # the 75th percentile of brightness and the median of saturation, inside and outside: each
    # pair of rows in one sort
    quantiles = np.repeat([75.0, 50.0], m)
    v_in, s_in = _quantile_rows(np.concatenate([inside[..., 2], inside[..., 1]]), quantiles).reshape(2, m)
    v_out, s_out = _quantile_rows(np.concatenate([outside[..., 2], outside[..., 1]]), quantiles,
                                  np.concatenate([keep, keep])).reshape(2, m)
    area = np.array([cv2.contourArea(quad) for quad in quads]) / float(h * w)
    # What paper is: unsaturated and about as bright as the brightest things in the frame
    # (a folder, a book or a patterned cloth is not), with a little dark ink on it.
    # (The float32 pixels against float32 levels: as the single-candidate form compared them.)
    level = (0.6 * v_in).astype(np.float32)[:, None]
    paper = ((inside[..., 1] < 40) & (inside[..., 2] > level)).mean(axis=1)
    ink = (inside[..., 2] < level).mean(axis=1)
    brightest = _brightest(hsv) if brightest is None else brightest
    s_out = np.minimum(s_out, 120.0) / 60.0
    outline = _side_points_many(quads, 12, margin=0.0)[0]
    hidden = 1.0 - _in_frame(outline, w, h).mean(axis=(1, 2))           # off the frame
    # Paper just outside too: the outline is a block of text, a printed box or the lit part of the page.
    near = (np.abs(outside[..., 2] - v_in.astype(np.float32)[:, None])
            < (0.12 * v_in + 4).astype(np.float32)[:, None])
    paper_out = ((outside[..., 1] < 40) & near & keep).sum(axis=1) / kept
    b = np.column_stack([sup[:, 0], sup[:, 1], sup.mean(axis=1), sup1[:, 0], sup1[:, 1], sup1.mean(axis=1),
                         tex[:, -1], tex.mean(axis=1), area, np.minimum(s_in, 60.0) / 30.0,
                         np.clip((v_in - v_out) / 50.0, -2, 2), paper, np.minimum(ink, 0.5) * 2,
                         v_in / brightest, s_out, hidden, paper_out]).astype(np.float64)
    return np.column_stack([b, b ** 2, b[:, 0] * b[:, 3], b[:, 2] * b[:, 5], b[:, 2] * b[:, 7],
                            b[:, 11] * b[:, 13], b[:, 2] * b[:, 11], b[:, 2] * b[:, 15],
                            b[:, 11] * b[:, 16], np.ones(m)])


# -- step 3: refinement ---------------------------------------------------------------------


def _median_rows(values: np.ndarray) -> np.ndarray:
    """``np.median(values, axis=1)`` of a 2-D float array, without NumPy's general machinery
    (the same numbers: the middle value, or the mean of the two middle ones in the array's type)."""
    ordered = np.sort(values, axis=1)
    n = ordered.shape[1]
    if n % 2:
        return ordered[:, n // 2]
    result: np.ndarray = (ordered[:, n // 2 - 1] + ordered[:, n // 2]) / values.dtype.type(2)
    return result


def _refine(frame: np.ndarray, quad: np.ndarray, radius: float, samples: int = 48,
            keep_coarse: bool = False, centroid: bool = False) -> np.ndarray | None:
    """Each side moved to the strongest page-to-table step near it, a line fitted through each.

    A side with too few steps under it gives up the whole outline, unless ``keep_coarse``:
    then that side keeps its coarse line (one such side used to cost the other three their
    refinement). Only for the winner's full-frame refinement: in the snapping of candidates
    it let an empty desk's outline (objects, a hand, a shadow) snap into a page. A side the
    frame hides (along or beyond its border: a page running off the frame) always keeps its
    coarse line, in the snapping too; only points inside the frame count for the others.
    """
    return _refine_many(frame, [quad], radius, samples, keep_coarse, centroid)[0]


def _refine_many(frame: np.ndarray, quads: list[np.ndarray], radius: float, samples: int = 48,
                 keep_coarse: bool = False, centroid: bool = False) -> list[np.ndarray | None]:
    """``_refine`` of several quads on the same image, the same numbers for each.

    The sampling and the profile maths run once over all the quads (one ``cv2.remap``, one
    blur): snapping a frame's candidates one by one spent most of its time in the overhead
    of small NumPy and OpenCV calls. Only the robust first line fit stays per side (``_fit_sides_many``).
    """
    m = len(quads)
    if m == 0:
        return []
    offsets = np.arange(-radius, radius + 0.5, 1.0, dtype=np.float32)
    k = len(offsets)
    prior = np.exp(-0.5 * (offsets / (radius * 0.6)) ** 2)[1:-1]
    base, n = _side_points_many(quads, samples, margin=0.08)               # m × 4 × samples × 2, m × 4 × 2
    grid = base[:, :, :, None, :] + offsets[None, None, None, :, None] * n[:, :, None, None, :]
    vals = _sample(frame, grid)                                             # m × 4 × samples × k × 3
    # inside's mean colour minus outside's, from one sum along each side: a uint8 image's samples
    # are whole numbers, so their float32 sums are exact in any order (the numbers of the means)
    across = vals.sum(axis=2)                                               # m × 4 × k × 3
    far_in, far_out = across[:, :, k // 2 + 2:], across[:, :, : k // 2 - 1]
    direction = (far_in.sum(axis=2) / np.float32(samples * far_in.shape[2])
                 - far_out.sum(axis=2) / np.float32(samples * far_out.shape[2]))  # m × 4 × 3
    norm = np.linalg.norm(direction, axis=2, keepdims=True)
    direction = np.where(norm < 4.0, np.array([[[0.114, 0.587, 0.299]]], np.float32),
                         direction / (norm + 1e-9))
    profiles = np.einsum("qiskc,qic->qisk", vals, direction).astype(np.float32)  # m × 4 × samples × k
    if k >= 5:
        # The 5-tap blur runs along each side (across its profiles), reflected at the side's ends:
        # every side padded with its own reflection, all stacked, blurred once, pads dropped.
        padded = profiles[:, :, _reflected(samples)]
        blurred = cv2.GaussianBlur(padded.reshape(-1, k), (1, 5), 0, sigmaY=0)
        profiles = blurred.reshape(m, 4, samples + 4, k)[:, :, 2:-2]
    deriv = profiles[..., 2:] - profiles[..., :-2]                          # outside → inside
    j = np.argmax(deriv * prior, axis=3)                                    # m × 4 × samples
    flat = deriv.reshape(-1, deriv.shape[3])
    rows = np.arange(flat.shape[0]).reshape(j.shape)
    strength = flat[rows, j]
    jj = np.clip(j, 1, deriv.shape[3] - 2)
    y0, y1, y2 = flat[rows, jj - 1], flat[rows, jj], flat[rows, jj + 1]
    den = y0 - 2 * y1 + y2
    sub = np.where(np.abs(den) > 1e-6, 0.5 * (y0 - y2) / np.where(den == 0, 1, den), 0.0)
    pos = offsets[1:-1][jj] + np.clip(sub, -1, 1)
    if centroid:
        pos = _step_centres(deriv, j, strength, offsets[1:-1], pos)
    threshold = np.maximum(4.0, 0.35 * _median_rows(strength.reshape(m * 4, samples))).reshape(m, 4)
    fh, fw = frame.shape[:2]
    seen = _in_frame(base, fw, fh)                                          # m × 4 × samples
    good_sides = (strength > threshold[..., None]) & seen
    good_counts, seen_counts = good_sides.sum(axis=2), seen.sum(axis=2)
    seen_shares = seen_counts / samples
    # each profile's step as a point, for all sides at once (per side, the same float32 sums)
    steps = base + pos[..., None] * n[:, :, None, :]                          # m × 4 × samples × 2
    return _fit_sides_many(quads, steps, good_sides, good_counts, seen_counts, seen_shares, radius,
                           keep_coarse)


@functools.lru_cache(maxsize=8)
def _reflected(samples: int) -> np.ndarray:
    """Indices of ``samples`` values padded by 2 with their reflection (``np.pad``'s "reflect")."""
    indices: np.ndarray = np.r_[2, 1, 0:samples, samples - 2, samples - 3]
    return indices


def _step_centres(deriv: np.ndarray, j: np.ndarray, strength: np.ndarray, at: np.ndarray,
                  pos: np.ndarray) -> np.ndarray:
    """The centre of each profile's step: the derivative's centroid over the run around its peak
    that stays above half the peak. A blurred edge (motion, focus) has a flat top where the
    parabola through the peak lands anywhere; the run's centroid is the edge's middle."""
    half = 0.5 * strength[..., None]
    above = deriv >= half
    run = np.cumsum(~above, axis=-1)                                     # run ids, constant over a run
    peak_run = np.take_along_axis(run, j[..., None], axis=-1)
    inside = above & (run == peak_run)
    weight = np.where(inside, deriv - half, 0.0)
    total = weight.sum(axis=-1)
    centre = (weight * at).sum(axis=-1) / np.maximum(total, 1e-9)
    # a run of one or two samples: the parabola's sub-pixel place is the finer one
    wide = inside.sum(axis=-1) >= 3
    result: np.ndarray = np.where(wide & (total > 0), centre, pos).astype(np.float32)
    return result


def _fit_sides_many(quads: list[np.ndarray], steps: np.ndarray, good_sides: np.ndarray,
                    good_counts: np.ndarray, seen_counts: np.ndarray, seen_shares: np.ndarray,
                    radius: float, keep_coarse: bool) -> list[np.ndarray | None]:
    """``_refine``'s last part for every quad at once: a line through each side's steps (``steps``
    m × 4 × samples × 2, ``good_sides`` where a step was found), corners where neighbouring lines meet.

    Only the robust first fit stays per side (``cv2.fitLine``, Huber: OpenCV's restarts from random
    subsets are not worth copying); the rest runs over all sides at once: a side at a time, the
    Python around the small arrays cost twice the line fits (53 sides a frame)."""
    # The sides that give an outline up, known before any line is fitted: in the snapping (no
    # ``keep_coarse``) one in six quads is given up.
    hidden = seen_shares < SEEN_SIDE                                       # m × 4
    weak = (good_counts < np.maximum(seen_counts, 1) * 0.3) | hidden
    given_up = weak.sum(axis=1) > 2
    if not keep_coarse:
        given_up |= (weak & ~hidden).any(axis=1)
    q = np.stack(quads)
    # a weak side keeps its coarse line (the frame hides it, or ``keep_coarse``)
    start = q.astype(np.float64)
    end = start[:, [1, 2, 3, 0]].copy()
    fitted = ~weak & ~given_up[:, None]
    if fitted.any():
        line = _fit_lines(steps[fitted], good_sides[fitted])               # k × 4: vx, vy, x0, y0
        start[fitted] = line[:, 2:]
        end[fitted] = line[:, 2:] + line[:, :2]   # summed in float32, as the per-side form did
    # corner i where side i - 1's line meets side i's
    p1, p2 = start[:, [3, 0, 1, 2]], end[:, [3, 0, 1, 2]]
    d1, d2 = p2 - p1, end - start
    den = d1[..., 0] * d2[..., 1] - d1[..., 1] * d2[..., 0]
    parallel = np.abs(den) < 1e-9
    t = (((start[..., 0] - p1[..., 0]) * d2[..., 1] - (start[..., 1] - p1[..., 1]) * d2[..., 0])
         / np.where(parallel, 1.0, den))
    refined = (p1 + t[..., None] * d1).astype(np.float32)
    given_up |= parallel.any(axis=1) | (np.abs(refined - q).max(axis=(1, 2)) > radius * 2.5)
    return [None if given_up[i] else refined[i] for i in range(len(quads))]


def _fit_lines(points: np.ndarray, good: np.ndarray) -> np.ndarray:
    """A line through each row's good points (k × samples × 2, k × samples): a Huber fit, then the
    points far from it dropped (a finger, glare) and a least-squares line through the rest when
    6 or more are left. k × 4 (direction x, y, then a point on the line), float32.

    A row of 6 or more points all within ``CLEAN_FIT`` of their least-squares line has nothing to
    drop: every residual is in the Huber fit's quadratic part, where it is that same line, and the
    refit keeps every point. That line is the answer, without the Huber fit (OpenCV's, 20 restarts
    from random subsets: 30 µs a side, most of the snapping's line fits). On the training frames
    four sides in five are such; on each of them the Huber fit kept every point (2353 of 2353).
    """
    line = _least_squares_lines(points, good)
    vx, vy, x0, y0 = (line[:, i:i + 1] for i in range(4))
    farthest = np.where(good, np.abs((points[..., 0] - x0) * -vy + (points[..., 1] - y0) * vx), 0).max(axis=1)
    rough = np.flatnonzero((farthest >= CLEAN_FIT) | (good.sum(axis=1) < 6))
    if len(rough):
        line[rough] = _robust_lines(points[rough], good[rough])
    return line


def _robust_lines(points: np.ndarray, good: np.ndarray) -> np.ndarray:
    """``_fit_lines``' rows the long way: a Huber fit per row (``cv2.fitLine``), the points far from it
    dropped, a least-squares line through the rest when 6 or more are left."""
    k = len(points)
    huber = np.empty((k, 4), np.float32)
    for s in range(k):
        huber[s] = cv2.fitLine(points[s][good[s]], cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
    vx, vy, x0, y0 = (huber[:, i:i + 1] for i in range(4))
    resid = np.abs((points[..., 0] - x0) * -vy + (points[..., 1] - y0) * vx)
    count = good.sum(axis=1)
    ordered = np.sort(np.where(good, resid, np.inf), axis=1)
    rows = np.arange(k)
    median = (ordered[rows, (count - 1) // 2] + ordered[rows, count // 2]) / np.float32(2)
    # the bar in float32, as the per-side comparison with a Python float made it
    bar = np.maximum(1.5, 2.5 * median.astype(np.float64)).astype(np.float32)
    keep = good & (resid < bar[:, None])
    refit = keep.sum(axis=1) >= 6
    line = huber
    if refit.any():
        line = huber.copy()
        line[refit] = _least_squares_lines(points[refit], keep[refit])
    return line


def _least_squares_lines(points: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``cv2.fitLine(…, DIST_L2)`` of each row's kept points at once (k × 4, float32): the centroid
    and the principal axis, in OpenCV's arithmetic (float products summed in double, the angle
    rounded to float; on 3000 random lines within 6e-8 of it, 97 % to the bit)."""
    x, y = points[..., 0], points[..., 1]
    terms = np.stack([x, y, x * x, y * y, x * y], axis=2).astype(np.float64)   # float products, as OpenCV's
    sums = np.einsum("kn,knt->kt", keep.astype(np.float64), terms)
    mx, my, mxx, myy, mxy = (sums / keep.sum(axis=1)[:, None]).T
    twice = np.arctan2(2 * (mxy - mx * my), (mxx - mx * mx) - (myy - my * my))
    angle = (twice.astype(np.float32) / np.float32(2)).astype(np.float64)   # rounded as OpenCV rounds it
    return np.column_stack([np.cos(angle), np.sin(angle), mx, my]).astype(np.float32)


def _shift_side(quad: np.ndarray, side: int, distance: float, n: np.ndarray) -> np.ndarray | None:
    """The quad with one side's line moved ``distance`` outwards (against the inward normal)."""
    p = quad.astype(np.float64)
    a, b = p[side] - distance * n[side], p[(side + 1) % 4] - distance * n[side]
    before = _line_meet(p[side - 1], p[side], a, b)                        # with the previous side
    after = _line_meet(a, b, p[(side + 1) % 4], p[(side + 2) % 4])         # with the next side
    if before is None or after is None:
        return None
    out = p.copy()
    out[side], out[(side + 1) % 4] = before, after
    return out.astype(np.float32)


def _grow(small: np.ndarray, smooth: np.ndarray, hsv: np.ndarray, quad: np.ndarray,
          rank: float) -> tuple[float, np.ndarray, np.ndarray | None]:
    """Try each side further out (to the next straight edge); keep moves the scoring prefers.

    Side by side, the first move (nearest edge first) that the scoring prefers by ``GROW_GAIN``
    and that adds paper of the inside's colour (``_paper_strip``) is taken, and the next sides
    start from the moved outline. Every remaining side's moves are found and measured together
    (one sampling, one snapping, one set of features; a candidate's numbers do not depend on the
    others measured with it): a move is taken on one frame in a few, and only then are the sides
    after it measured again, from the moved outline. The colour test, half a millisecond a move,
    is made only for a move the scoring prefers: the same move is taken as when every move was
    tested first. The same outline as trying the moves one by one, in a third of the time.
    """
    sh, sw = small.shape[:2]
    features = None
    brightest = _brightest(hsv)
    side = 0
    while side < 4:
        moves = _side_moves_many(smooth, quad, range(side, 4), sw, sh)
        if not moves:
            break
        snapped = _refine_many(smooth, [moved for _, moved in moves], radius=4.0, samples=24)
        for i, snap in enumerate(snapped):
            if snap is not None and cv2.isContourConvex(snap.reshape(-1, 1, 2)):
                moves[i] = (moves[i][0], order_corners(snap))
        outlines = [moved for _, moved in moves]
        measured = _features_many(smooth, hsv, outlines, brightest=brightest)
        taken = next(((s, moved, f) for (s, moved), f in zip(moves, measured, strict=True)
                      if float(f @ SCORE_WEIGHTS) > rank + GROW_GAIN
                      and _paper_strip(smooth, quad, moved)),   # not onto the table, a folder, a hand
                     None)
        if taken is None:
            break
        side, quad, features = taken[0] + 1, taken[1], taken[2]
        rank = float(features @ SCORE_WEIGHTS)
    return rank, quad, features


def _side_moves_many(smooth: np.ndarray, quad: np.ndarray, sides: Iterable[int], sw: int,
                     sh: int) -> list[tuple[int, np.ndarray]]:
    """(side, ``quad`` with that side moved out to each straight edge beyond it, nearest first),
    side by side, where still plausible and inside the picture; the edges beyond every side found
    in one sampling (``_outer_edges_many``)."""
    sides = list(sides)
    p, d, n = _sides(quad)
    reaches = [min(0.8 * float(np.max((quad - p[side]) @ n[side])), 0.35 * sw) for side in sides]
    moves = []
    for side, distances in zip(sides, _outer_edges_many(smooth, quad, sides, reaches), strict=True):
        for distance in distances:
            moved = _shift_side(quad, side, distance, n)
            if moved is None or not _plausible(moved, sw, sh):
                continue
            if moved.min() < -1 or moved[:, 0].max() > sw or moved[:, 1].max() > sh:
                continue  # the page lies inside the picture
            moves.append((side, moved))
    return moves


def _outer_edges_many(image: np.ndarray, quad: np.ndarray, sides: list[int], reaches: list[float],
                      samples: int = 24) -> list[list[float]]:
    """Distances outwards from each of ``sides`` to lines parallel to it with a steady step across
    them (the outline found may be a block of text, a printed border or the lit part of a page half
    in shadow; the page's own edge is then further out). The profiles of every side are read in one
    ``cv2.remap`` (out to the furthest reach; a side's own offsets are the first ones); one side at
    a time, the sampling and the Python around it took 0.6 ms a side
    (tests/hardware/test_docscan_pipeline.py keeps that version to compare)."""
    if not sides:
        return []
    points, n = side_points(quad, samples)
    lengths = [len(np.arange(-2.0, reach + 3.0, 1.0, dtype=np.float32)) for reach in reaches]
    offsets = np.arange(-2.0, max(reaches) + 3.0, 1.0, dtype=np.float32)[: max(lengths)]
    base, normal = points[sides], n[sides]                                   # k × samples × 2, k × 2
    everything = _sample(image, base[:, :, None, :] - offsets[None, None, :, None] * normal[:, None, None, :])
    found = []
    for k, length in enumerate(lengths):
        vals = np.ascontiguousarray(everything[k, :, :length])
        found.append(_edges_in_profiles(vals, offsets[:length]))
    return found


def _edges_in_profiles(vals: np.ndarray, offsets: np.ndarray) -> list[float]:
    """The edge choice from one side's profiles (samples × offsets × 3): the two offsets
    with the most steady steps across them, further out than 3 px."""
    steps = vals[:, :-4] - vals[:, 4:]                          # inside minus outside, at offsets[2:-2]
    mean = steps.mean(axis=0)
    norm = np.linalg.norm(mean, axis=1)
    along = np.einsum("soc,oc->so", steps, mean / (norm[:, None] + 1e-9))
    share = np.where(norm >= SEARCH_LEVELS * 0.5, np.mean(along > SEARCH_LEVELS, axis=0), 0.0)
    at = offsets[2:-2]
    # the peaks (offsets 1 to len - 2), found at once: an offset at a time, the Python took most of the time
    middle, before, after = share[1:-1], share[:-2], share[2:]
    where = np.flatnonzero((at[1:-1] >= 3) & (middle >= 0.5) & (middle >= before) & (middle > after)) + 1
    peaks = list(zip(share[where].tolist(), at[where].tolist(), strict=True))
    return [o for _, o in sorted(peaks, reverse=True)[:2]]


def _paper_strip(small: np.ndarray, quad: np.ndarray, moved: np.ndarray) -> bool:
    """Whether what a side's move adds to ``quad`` is paper of the inside's colour (brightness apart)."""
    box, origin = _box_around(small, moved, 1)
    beyond, inside = _region_masks(box.shape, quad, moved, origin, np.ones(2, np.float32), 1)
    if np.count_nonzero(beyond) < 20 or np.count_nonzero(inside) < 20:
        return True  # too thin to tell
    grey = cv2.cvtColor(box, cv2.COLOR_BGR2GRAY)
    chroma = float(np.abs(_paper_colour(box, grey, beyond) - _paper_colour(box, grey, inside)).max())
    return chroma <= PAPER_CHROMA


@dataclass(frozen=True)
class _Inside:
    """The grey part of the frame under a candidate's inside (less a tenth at each side), which
    the print and the ink checks both draw from: made grey once for the two."""

    grey: np.ndarray
    quad: np.ndarray    # the inside, in ``grey``'s pixels


def _inside(frame: np.ndarray, quad: np.ndarray) -> _Inside:
    """Only the part of the frame under the outline (and 2 px around it for the interpolation)
    is made grey: the whole 1280×720 frame took a third of the print check. Where the outline
    runs off the frame the crop reaches the frame's edge, which the warp then repeats."""
    q = order_corners(quad).astype(np.float32)
    centre = q.mean(axis=0)
    q = centre + (q - centre) * 0.8
    fh, fw = frame.shape[:2]
    x0, y0 = (int(max(0, min(fw - 1, np.floor(v) - 2))) for v in q.min(axis=0))
    x1, y1 = (int(max(1, min(lim, np.ceil(v) + 3))) for v, lim in zip(q.max(axis=0), (fw, fh), strict=True))
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
    crop = frame[y0:y1, x0:x1]
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    return _Inside(grey, q - np.array([x0, y0], np.float32))


def _inside_patch(frame: np.ndarray | _Inside, quad: np.ndarray | None, width: int,
                  height: int) -> np.ndarray:
    """The inside of ``quad`` less a tenth at each side, drawn upright ``width``×``height`` in grey
    (from ``_inside``'s grey part when ``frame`` is one; ``quad`` is then not needed)."""
    inside = frame if isinstance(frame, _Inside) else _inside(frame, np.asarray(quad))
    grey = inside.grey
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32)
    warp = cv2.getPerspectiveTransform(inside.quad, target)
    patch: np.ndarray = cv2.warpPerspective(grey, warp, (width, height), flags=cv2.INTER_LINEAR,
                                            borderMode=cv2.BORDER_REPLICATE)
    return patch


def print_level(frame: np.ndarray | _Inside, quad: np.ndarray | None = None) -> float:
    """How much a candidate's inside varies from row to row or column to column: print.

    The inside (less a tenth at each side: edges, a thumb) is sampled on a 96×128 grid from
    the full frame; lines of text or a form's rows make the means along the grid's rows or
    columns rise and fall, while a blank folder's or book's stay flat (its noise averages
    out along each row). The larger of the two profiles' spreads about their running mean,
    against the paper's brightness.
    """
    patch_u8 = _inside_patch(frame, quad, 96, 128)
    patch = patch_u8.astype(np.float32)
    paper = percentile_u8(patch_u8, 90) + 1.0
    level = 0.0
    for profile in (patch.mean(axis=1), patch.mean(axis=0)):
        # the profile with its end values repeated 8 times (``np.pad``'s "edge", without its overhead)
        padded = np.concatenate([np.full(8, profile[0]), profile, np.full(8, profile[-1])])
        running = np.convolve(padded, np.ones(17) / 17, mode="same")[8:-8]
        level = max(level, float((profile - running).std()) / paper)
    return level


def ink_level(frame: np.ndarray | _Inside, quad: np.ndarray | None = None) -> float:
    """The share of a candidate's inside that is thin dark strokes: the ink of text.

    The inside (less a tenth at each side) is drawn 192×256 from the full frame, smoothed
    (σ = 1 px: a dim frame's sensor noise would otherwise pass for ink), and a black-hat
    (closing less the picture, 9 px square) keeps what is darker than its surroundings and
    narrower than 9 px: strokes of letters and lines of a form, not the edge of a card or
    the shadow of a hand lying on a folder. A stroke counts where it is darker by a tenth of
    the paper's brightness (90th percentile) and by 6 levels at least. On the training seeds
    the pages found measured 0.065 and more, the outlines found on empty frames (folders,
    books and cards, with things lying on them) 0.011 and less but one, a dim folder in
    strong sensor noise (0.06).
    """
    patch = _inside_patch(frame, quad, 192, 256)
    return float(np.count_nonzero(_strokes(patch))) / patch.size


def _strokes(grey: np.ndarray, region: np.ndarray | None = None) -> np.ndarray:
    """Where ``grey`` has ink strokes, by ``ink_level``'s rule (smoothed by σ = 1 px, a 9 px
    black-hat, darker by a tenth of the paper's brightness and 6 levels at least); the paper's
    brightness is the 90th percentile of ``region`` (a boolean mask) or of the whole picture."""
    grey = cv2.GaussianBlur(grey, (0, 0), 1.0)
    strokes = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
    paper = percentile_u8(grey if region is None else grey[region], 90)
    result: np.ndarray = strokes > max(0.1 * (paper + 1.0), 6.0)
    return result


def shrink(frame: np.ndarray, work_width: int = WORK_WIDTH) -> np.ndarray:
    """The small working copy of a checked frame (the frame itself when it is small already)."""
    h, w = frame.shape[:2]
    scale = min(1.0, work_width / w)
    if scale >= 1.0:
        return frame
    size = (max(16, round(w * scale)), max(16, round(h * scale)))
    if (w, h) == (4 * size[0], 4 * size[1]) and frame.ndim == 3:
        return _quarter(frame)
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def _quarter(frame: np.ndarray) -> np.ndarray:
    """``cv2.resize(frame, (w/4, h/4), interpolation=INTER_AREA)``, the same pixels, in half the time.

    OpenCV's area resize by 4 takes its slow general path (1.3 ms for 1280×720), by 2 a fast
    one (0.26 ms on 16 bits). Halving four times the values (16 bits) twice gives each 4×4
    block's exact sum; divided by 16 and rounded as the one-step resize rounds (half to even).
    """
    h, w = frame.shape[:2]
    strip = min(h, QUARTER_STRIP)
    values, pairs = _scratch((strip, w, 3), (h // 2, w // 2, 3))
    # A strip of rows at a time: its 16-bit values stay in the core's cache for the halving (the
    # whole frame's, 5.5 MB, went out to memory and back: 0.5 ms of the 2.5 on cold frames)
    for top in range(0, h, strip):
        rows = min(strip, h - top)
        np.left_shift(frame[top:top + rows], 2, out=values[:rows], dtype=np.uint16)   # one pass
        cv2.resize(values[:rows], (w // 2, rows // 2), dst=pairs[top // 2:(top + rows) // 2],
                   interpolation=cv2.INTER_AREA)                                     # 2×2 sums
    np.left_shift(pairs, 2, out=pairs)
    sums = cv2.resize(pairs, (w // 4, h // 4), interpolation=cv2.INTER_AREA)     # 4×4 sums
    small: np.ndarray = cv2.convertScaleAbs(sums, alpha=1.0 / 16)
    return small


QUARTER_STRIP = 72   # ``_quarter``'s rows at a time (a multiple of 4): 0.8 MB of a 1280-wide frame with
                     # its 16-bit values, well inside one core's 2 MB cache; 48-180 rows within 5 %
_scratch_space = threading.local()


def _scratch(*shapes: tuple[int, ...]) -> list[np.ndarray]:
    """``_quarter``'s 16-bit working arrays, kept for the next frame of the same size (one set per
    thread: threads detecting at once must not share them). A fresh array a frame cost its page
    faults each time: 0.3–0.4 ms of the small copy's 2 (cold frames, one thread)."""
    kept: list[np.ndarray] | None = getattr(_scratch_space, "arrays", None)
    if kept is None or [a.shape for a in kept] != list(shapes):
        kept = [np.empty(shape, np.uint16) for shape in shapes]
        _scratch_space.arrays = kept
    return kept


def _prune(smooth: np.ndarray, hsv: np.ndarray, quads: list[np.ndarray], fixed: int,
           brightest: float) -> list[np.ndarray]:
    """The ``PRESCORED`` candidates the pre-score likes best, in their order (the first ``fixed``
    ones, the live path's last outline, always stay)."""
    rest = quads[fixed:]
    if len(rest) <= PRESCORED:
        return quads
    predicted = prescore_features(smooth, hsv, rest, brightest) @ PRESCORE_WEIGHTS
    best = np.sort(np.argsort(-predicted, kind="stable")[:PRESCORED])
    return quads[:fixed] + [rest[i] for i in best]


def smoothed(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The small copy lightly blurred, and that in HSV: what the scoring and the grow step read."""
    smooth = cv2.GaussianBlur(small, (3, 3), 0)
    return smooth, cv2.cvtColor(smooth, cv2.COLOR_BGR2HSV)


@dataclass
class _Scoring:
    """What a frame's scoring has worked out so far, by quad (``tobytes``): each rough candidate's
    snapped outline and each outline's features. A candidate's snapping and features do not
    depend on the others measured with it, so the detector's second look (every map) takes the
    first look's candidates from here, the same numbers, and measures only the new ones."""

    snapped: dict[bytes, np.ndarray] = field(default_factory=dict)
    features: dict[bytes, np.ndarray] = field(default_factory=dict)
    checks: dict[bytes, tuple[float, bool]] = field(default_factory=dict)   # ``_choose``'s print level, pass
    shapes: dict[int, _Shape] = field(default_factory=dict)                # ``_quads``' by outline
    plausible: dict[bytes, bool] = field(default_factory=dict)
    same_paper: dict[bytes, bool] = field(default_factory=dict)            # ``_same_paper_beyond``'s
    brightest: float | None = None


def scored_candidates(small: np.ndarray, extra: tuple[np.ndarray, ...] = (),
                      smooth_hsv: tuple[np.ndarray, np.ndarray] | None = None,
                      outlines: list[np.ndarray] | None = None, scoring: _Scoring | None = None,
                      ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every plausible candidate on the small copy, snapped to its edges, with its features.

    ``extra`` quads (small-copy pixels) are tried first: the live path's last outline.
    ``smooth_hsv``: ``smoothed(small)``, when the caller has it already; ``outlines``: the maps'
    outlines to take the candidates from (``_candidates``), all maps' when None; ``scoring``:
    the candidates measured already on this frame (filled in with the new ones).
    """
    sh, sw = small.shape[:2]
    smooth, hsv = smoothed(small) if smooth_hsv is None else smooth_hsv
    scoring = _Scoring() if scoring is None else scoring
    fixed = [quad for quad in extra if _plausible(quad, sw, sh)]

    def judged(quad: np.ndarray) -> bool:
        key = quad.tobytes()
        if key not in scoring.plausible:
            scoring.plausible[key] = _plausible(quad, sw, sh)
        return scoring.plausible[key]

    # the first ``MAX_SCORED`` plausible ones, without judging the rest (up to 24 come)
    plausible = (quad for quad in _candidates(small, outlines, scoring.shapes) if judged(quad))
    tried = fixed + list(itertools.islice(plausible, max(0, MAX_SCORED - len(fixed))))
    if scoring.brightest is None:
        scoring.brightest = _brightest(hsv)
    brightest = scoring.brightest
    tried = _prune(smooth, hsv, tried[:MAX_SCORED], len(fixed), brightest)
    # snap the rough outlines to edges, all the new ones at once
    new = [quad for quad in tried if quad.tobytes() not in scoring.snapped]
    snapped = _refine_many(smooth, new, radius=6.0, samples=24)
    convex = {i: snap for i, snap in enumerate(snapped)
              if snap is not None and cv2.isContourConvex(snap.reshape(-1, 1, 2))}
    scoring.snapped.update((quad.tobytes(), quad) for quad in new)   # not snapped: the rough outline
    scoring.snapped.update((new[i].tobytes(), quad) for i, quad in zip(
        convex, _order_corners_many(list(convex.values())), strict=True))
    # several maps often give the same outline
    quads = _distinct([scoring.snapped[quad.tobytes()] for quad in tried])
    new = [quad for quad in quads if quad.tobytes() not in scoring.features]
    if new:
        measured = _features_many(smooth, hsv, new, brightest=brightest)
        scoring.features.update((quad.tobytes(), row) for quad, row in zip(new, measured, strict=True))
    return [(quad, scoring.features[quad.tobytes()]) for quad in quads]


def _order_corners_many(quads: list[np.ndarray]) -> list[np.ndarray]:
    """``order_corners`` of several quads at once, the same corners: each is the same quad's rows
    in the order the same float32 angles and sums give (a frame's snapped candidates, ≈ 8)."""
    if not quads:
        return []
    q = np.stack(quads).astype(np.float32)                                  # m × 4 × 2
    centre = q.mean(axis=1, keepdims=True)
    angles = np.arctan2(q[..., 1] - centre[..., 1], q[..., 0] - centre[..., 0])
    q = np.take_along_axis(q, np.argsort(angles, axis=1)[..., None], axis=1)
    start = np.argmin(q[..., 0] + q[..., 1], axis=1)
    turned = (np.arange(4)[None, :] + start[:, None]) % 4
    return list(np.take_along_axis(q, turned[..., None], axis=1))


def _distinct(quads: list[np.ndarray]) -> list[np.ndarray]:
    """The quads without any whose corners all lie within 0.5 px of a quad kept before it (in order)."""
    if len(quads) < 2:
        return quads
    q = np.stack(quads)
    near = (np.abs(q[:, None] - q[None]).max(axis=(2, 3)) < 0.5).tolist()
    kept: list[int] = []
    for i in range(len(quads)):
        if not any(near[i][j] for j in kept):
            kept.append(i)
    return [quads[i] for i in kept]


def _choose(ranked: list[tuple[float, int, np.ndarray, np.ndarray]], frame: np.ndarray,
            small: np.ndarray, scoring: _Scoring | None = None,
            ) -> tuple[float, np.ndarray, np.ndarray] | None:
    """The best scored candidate with edges that bears print and ink (a blank folder or book, or
    one with cards or a hand lying on it, is no page), or the next such one when it is scored
    within ``PAIR_GAP`` and the pairwise model (``paper_model``) prefers it: the linear
    scoring's usual mistake is a part of the page (or the page with a strip of table) scored a
    little above the page itself. ``scoring``: the checks made on this frame already (filled in)."""
    checks = {} if scoring is None else scoring.checks
    first: tuple[float, np.ndarray, np.ndarray, float] | None = None
    second: tuple[float, np.ndarray, np.ndarray] | None = None
    for rank, _, quad, features in ranked:
        if rank < MIN_SCORE or (first is not None and rank < first[0] - PAIR_GAP):
            break
        if not edged(features):
            continue
        key = quad.tobytes()
        if key not in checks:
            checks[key] = _print_and_ink(frame, small, quad)
        level, bears_text = checks[key]
        if not bears_text:
            continue
        if first is None:
            first = (rank, quad, features, level)
            continue
        pair = pair_features(first[1], first[2], first[0], first[3], quad, features, rank, level)
        if not first_is_better(pair):
            second = (rank, quad, features)
        break
    if first is None:
        return None
    chosen = first[:3] if second is None else second
    known = None if scoring is None else scoring.same_paper
    whole = _whole_across_shadow(chosen[1], ranked, frame, small, known)
    # the whole keeps the part's score: it is at least as good, and the grow step must beat that
    # (from the whole's own, lower score it moved a side of one such page out onto the table)
    return chosen if whole is None else (chosen[0], *whole[1:])


def _print_and_ink(frame: np.ndarray, small: np.ndarray, quad: np.ndarray) -> tuple[float, bool]:
    """A candidate's ``print_level``, and whether it bears print and ink (``MIN_PRINT``, ``MIN_INK``)."""
    inside = _inside(frame, to_frame(quad, small.shape, frame.shape))
    level = print_level(inside)
    return level, level >= MIN_PRINT and ink_level(inside) >= MIN_INK


def _whole_across_shadow(part: np.ndarray, ranked: list[tuple[float, int, np.ndarray, np.ndarray]],
                         frame: np.ndarray, small: np.ndarray, known: dict[bytes, bool] | None = None,
                         ) -> tuple[float, np.ndarray, np.ndarray] | None:
    """A larger candidate holding ``part`` whose rest is the same paper, lit differently: the
    whole page, where a hard shadow across it made the lit (or the shadowed) part the winner.

    The scoring sees the shadow's edge as a page edge (straight, sharp, paper on one side) and
    often rates the whole page, half of it dark, well below the part; neither it nor the
    pairwise model looks at what lies beyond the part's side. A shadow changes the light, not
    the paper's colour, and the text runs on under it; a strip of pale table (the page with
    some table) or a folder beside the page has no text, or another colour. ``known``: the
    answers of ``_same_paper_beyond`` on this frame so far (filled in).
    """
    known = {} if known is None else known
    area = float(cv2.contourArea(part))
    for rank, _, quad, features in ranked:
        if rank < SHADOW_MIN_SCORE:
            break
        whole = float(cv2.contourArea(quad))
        if not (SHADOW_PART[0] * whole <= area <= SHADOW_PART[1] * whole) or not edged(features):
            continue
        inter, _ = cv2.intersectConvexConvex(np.asarray(part, np.float32), np.asarray(quad, np.float32))
        if inter < SHADOW_INSIDE * area:
            continue
        key = part.tobytes() + quad.tobytes()
        if key not in known:
            known[key] = _same_paper_beyond(frame, small, part, quad)
        if known[key]:
            return rank, quad, features
    return None


def _box_around(image: np.ndarray, quad: np.ndarray, margin: int) -> tuple[np.ndarray, np.ndarray]:
    """The part of ``image`` around ``quad`` (with room for ``_region_masks``' erosion by ``margin``,
    so the masks are the same as on the whole image) and its top-left corner: a third of the
    small copy's pixels for a page, and the masks' cost with them."""
    h, w = image.shape[:2]
    low = quad.min(axis=0)
    x0 = int(min(w - 1, max(0, np.floor(low[0]) - margin - 2)))
    y0 = int(min(h - 1, max(0, np.floor(low[1]) - margin - 2)))
    x1 = int(min(w, max(x0 + 1, np.ceil(quad[:, 0].max()) + margin + 3)))
    y1 = int(min(h, max(y0 + 1, np.ceil(quad[:, 1].max()) + margin + 3)))
    return image[y0:y1, x0:x1], np.array([x0, y0], np.float32)


def _region_masks(shape: tuple[int, ...], part: np.ndarray, whole: np.ndarray, shift: np.ndarray,
                  scale: np.ndarray, margin: int) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the inside of ``whole`` beyond ``part`` and of ``part``'s inside (both kept
    ``margin`` pixels from every edge), in a picture of ``shape`` placed at ``shift``, ``scale``."""
    def mask(quad: np.ndarray) -> np.ndarray:
        m = np.zeros(shape[:2], np.uint8)
        cv2.fillConvexPoly(m, np.round((quad - shift) * scale * 4).astype(np.int32), 255, cv2.LINE_8, 2)
        return m

    band = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * margin + 1, 2 * margin + 1))
    inner, outer = mask(part), cv2.erode(mask(whole), band)
    beyond = cv2.bitwise_and(outer, cv2.bitwise_not(cv2.dilate(inner, band)))
    return beyond, cv2.bitwise_and(cv2.erode(inner, band), outer)


def _paper_colour(image: np.ndarray, grey: np.ndarray, region: np.ndarray) -> np.ndarray:
    """The mean colour of the lighter 40 % of a region (paper, not ink), normalised to sum 1."""
    level = int(np.ceil(percentile_u8(grey, 60, region)))
    light = cv2.bitwise_and(cv2.inRange(grey, level, 255), region)
    mean = np.array(cv2.mean(image, light)[:3], np.float32)
    colour: np.ndarray = mean / (mean.sum() + 1e-6)
    return colour


def _same_paper_beyond(frame: np.ndarray, small: np.ndarray, part: np.ndarray, whole: np.ndarray) -> bool:
    """Whether the inside of ``whole`` beyond ``part`` (small-copy quads) is paper of ``part``'s
    colour, brightness apart (on the small copy), bearing ink (``ink_level``'s strokes, on a
    half-size copy of the outline's box in the frame)."""
    box, origin = _box_around(small, whole, 3)
    beyond, inside = _region_masks(box.shape, part, whole, origin, np.ones(2, np.float32), 3)
    if np.count_nonzero(beyond) < 40 or np.count_nonzero(inside) < 40:
        return False
    grey = cv2.cvtColor(box, cv2.COLOR_BGR2GRAY)
    chroma = float(np.abs(_paper_colour(box, grey, beyond) - _paper_colour(box, grey, inside)).max())
    if chroma > PAPER_CHROMA:
        return False
    part, whole = to_frame(part, small.shape, frame.shape), to_frame(whole, small.shape, frame.shape)
    fh, fw = frame.shape[:2]
    x0, y0 = (int(max(0, np.floor(v))) for v in whole.min(axis=0))
    x1, y1 = int(min(fw, np.ceil(whole[:, 0].max()) + 1)), int(min(fh, np.ceil(whole[:, 1].max()) + 1))
    if x1 - x0 < 32 or y1 - y0 < 32:
        return False
    crop = cv2.resize(frame[y0:y1, x0:x1], ((x1 - x0) // 2, (y1 - y0) // 2), interpolation=cv2.INTER_AREA)
    scale = np.array([crop.shape[1] / (x1 - x0), crop.shape[0] / (y1 - y0)], np.float32)
    beyond, _ = _region_masks(crop.shape, part, whole, np.array([x0, y0], np.float32), scale, 5)
    where = beyond > 0
    if np.count_nonzero(where) < 400:
        return False
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    strokes = _strokes(grey, where)
    if np.count_nonzero(strokes[where]) < SHADOW_INK * np.count_nonzero(where):
        return False
    return _runs_along(grey, where, (part - np.array([x0, y0], np.float32)) * scale)


def _runs_along(grey: np.ndarray, where: np.ndarray, quad: np.ndarray) -> bool:
    """Whether the texture of ``grey`` over ``where`` runs along a side of ``quad`` (within
    ``SHADOW_ALIGN``): the dominant direction of its gradients (the structure tensor's) against
    the sides' directions, modulo a right angle.

    Text runs on under a shadow in lines along the page's edges. A striped cloth beside the page
    may pass every other test of the shadow rule (a paper-white stripe of the page's colour, the
    dark stripes read as ink strokes, long like lines of text), but its stripes lie at the angle
    the cloth was put down at. Neither the strokes' length, the brightness beyond nor the ink's
    colour told the two apart on the training frames; this did with a wide margin (see
    ``SHADOW_ALIGN``)."""
    smooth = cv2.GaussianBlur(grey, (0, 0), 1.0).astype(np.float32)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0)[where]
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1)[where]
    jxx, jxy, jyy = float(gx @ gx), float(gx @ gy), float(gy @ gy)
    across = 0.5 * math.atan2(2.0 * jxy, jxx - jyy)             # the gradients' direction, across the lines
    sides = quad[[1, 2, 3, 0]] - quad
    along = np.arctan2(sides[:, 1], sides[:, 0])
    turn = np.abs((across - along + math.pi / 4) % (math.pi / 2) - math.pi / 4)
    return bool(math.degrees(float(turn.min())) <= SHADOW_ALIGN)


def to_frame(quad: np.ndarray, small_shape: tuple[int, ...], frame_shape: tuple[int, ...]) -> np.ndarray:
    """A quad on the small copy in the frame's pixels (pixel centres to pixel centres)."""
    sx, sy = frame_shape[1] / small_shape[1], frame_shape[0] / small_shape[0]
    full = np.empty_like(quad)
    full[:, 0] = (quad[:, 0] + 0.5) * sx - 0.5
    full[:, 1] = (quad[:, 1] + 0.5) * sy - 0.5
    return full


def detect_page(frame: np.ndarray, work_width: int = WORK_WIDTH, refine: bool = True,
                prior: np.ndarray | None = None) -> Detection | None:
    """The page's outline in ``frame`` (BGR, grey or BGRA), or None when there is no page.

    ``prior`` (4×2, frame pixels), the outline found in the frames before, is scored as one
    more candidate: a page steady under a thumb or glare keeps its outline. It is judged
    like any other, so a page taken away is not reported.
    """
    frame = check_frame(frame)
    h, w = frame.shape[:2]
    small = shrink(frame, work_width)
    sh, sw = small.shape[:2]
    extra: tuple[np.ndarray, ...] = ()
    if prior is not None:
        quad = np.asarray(prior, np.float32).reshape(4, 2)
        extra = (order_corners(np.stack([(quad[:, 0] + 0.5) * sw / w - 0.5,
                                         (quad[:, 1] + 0.5) * sh / h - 0.5], axis=1)),)
    smooth, hsv = smoothed(small)  # once for the scoring and the grow step
    outlines, scoring = _MapOutlines(small), _Scoring()

    def choice(maps: Iterable[int], least: float = -math.inf) -> tuple[float, np.ndarray, np.ndarray] | None:
        """The choice among these maps' candidates; None also when none is scored ``least`` or more
        (the checks of ``_choose``, a millisecond or two a candidate, are then not made)."""
        scored = scored_candidates(small, extra, (smooth, hsv), outlines.of(maps), scoring)
        ranked = sorted(((float(features @ SCORE_WEIGHTS), i, quad, features)  # the predicted Jaccard
                         for i, (quad, features) in enumerate(scored)), key=lambda item: (-item[0], item[1]))
        if not ranked or ranked[0][0] < least:
            return None
        return _choose(ranked, frame, small, scoring)

    # A first look with the cheap maps only (``FIRST_MAPS``); a page found there scored at least
    # ``SURE_SCORE`` is taken: its outline is refined on the full frame anyway, so another candidate
    # near the same page changes little, and three of five of the training seeds' pages stop
    # here. Then a second look with two more cheap maps (``SECOND_MAPS``), a page scored at least
    # ``SECOND_SCORE`` taken: the frames the first look leaves are the slow ones, and the two dear
    # maps seldom change a choice that good. Otherwise every map, exactly as without the looks
    # (the looks' candidates, measured once: their snapping and features do not depend on the
    # others'). The grow step is for winners below ``GROW_BELOW``: never after the first look alone.
    best = None
    for maps, bar in _looks():
        best = choice(maps, least=bar)
        if best is not None and best[0] >= bar:
            break
    else:
        best = choice(range(MAP_COUNT))
    if best is None:
        return None
    rank, quad, features = best
    if rank < GROW_BELOW:
        rank, grown, grown_features = _grow(small, smooth, hsv, quad, rank)
        if grown_features is not None:
            quad, features = grown, grown_features
    score = float(features[2])  # the mean side support
    area = visible_area(quad, sw, sh)
    full = to_frame(order_corners(quad), small.shape, frame.shape)
    if refine and sw < w:
        # One pass: a second, narrower one (radius 3) from this one's lines polished the corners by
        # a tenth of a pixel or so, +0.00005 mean Jaccard on 1200 training frames, for 5 % of the
        # frame's CPU (docs/scanning.md, 3 December evening: front)
        refined = _refine(frame, full, radius=max(3.0, 2.5 * w / sw), keep_coarse=True, centroid=True)
        if refined is not None and cv2.isContourConvex(refined.reshape(-1, 1, 2)):
            full = order_corners(refined)
    # The true corners, also where the page runs off the frame: clipping each corner into the
    # frame on its own would bend that side (0.993 → 0.89 Jaccard on one such page). Whatever
    # needs coordinates inside the frame clips the outline as a whole (``clip_to_frame``).
    return Detection(quad=full, score=score, coverage=area / float(sh * sw))


def _looks() -> list[tuple[tuple[int, ...], float]]:
    """The looks before every map's (maps, the least score taken there), fewest maps first; a bar of
    ``math.inf`` leaves its look out (``SURE_SCORE = SECOND_SCORE = math.inf``: every map at once)."""
    looks = ((FIRST_MAPS, SURE_SCORE), (SECOND_MAPS, SECOND_SCORE))
    return [(maps, bar) for maps, bar in looks if bar < math.inf]


def frame_box(width: float, height: float) -> np.ndarray:
    """The frame as a quad (pixel centres of its corner pixels), clockwise from top-left."""
    return np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32)


def clip_to_frame(quad: np.ndarray, width: float, height: float) -> np.ndarray:
    """The part of a convex outline inside the frame: a polygon (k×2 float32, k = 0 or 3–8)."""
    quad = np.asarray(quad, np.float32).reshape(-1, 2)
    if quad[:, 0].min() >= 0 and quad[:, 1].min() >= 0 and quad[:, 0].max() <= width - 1 \
            and quad[:, 1].max() <= height - 1:
        return quad
    _, inside = cv2.intersectConvexConvex(quad, frame_box(width, height))
    # rounded: a vertex at 1e-16 from the clipping upsets OpenCV's next polygon operation
    if inside is None:
        return np.zeros((0, 2), np.float32)
    return np.round(inside.reshape(-1, 2), 3).astype(np.float32)


def visible_area(quad: np.ndarray, width: float, height: float) -> float:
    """The area of the part of a convex outline inside the frame, in pixels."""
    part = clip_to_frame(quad, width, height)
    return float(cv2.contourArea(part)) if len(part) >= 3 else 0.0
