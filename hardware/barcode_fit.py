"""Code 128 read by fitting its symbols to a straightened strip's profile, where libzbar fails.

libzbar reads a 1-D code by measuring the width of each bar and space along a scan line:
a motion streak along the code, or a defocus of about a module, turns narrow bars into
grey ripples whose widths no threshold recovers. The symbols are still there in the
profile, though, and a model sees them: the rows along the bars are averaged into one
profile (noise falls by the square root of the rows), the ends of the code are found,
and the symbols are fitted by dynamic programming (Viterbi over the symbol slots) against
each symbol's 11-module pattern blurred as the profile is blurred — the blur and the
module width taken from the best fit of the known start and stop patterns, the
perspective, blur and ends then refined on the whole sequence. A read counts only when the
Code 128 check symbol holds, and either the text is an ID number whose own check character
holds or the fit is close with every slot clearly better than its runner-up (``accept``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from hardware.interfaces import gb11643_check_character

# Bar and space widths of the 107 Code 128 symbols (values 0–102, starts A/B/C 103–105) and
# the stop (106, 13 modules with its final bar).
_WIDTHS = (
    "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 221312 231212 112232 "
    "122132 122231 113222 123122 123221 223211 221132 221231 213212 223112 312131 311222 321122 "
    "321221 312212 322112 322211 212123 212321 232121 111323 131123 131321 112313 132113 132311 "
    "211313 231113 231311 112133 112331 132131 113123 113321 133121 313121 211331 231131 213113 "
    "213311 213131 311123 311321 331121 312113 312311 332111 314111 221411 431111 111224 111422 "
    "121124 121421 141122 141221 112214 112412 122114 122411 142112 142211 241211 221114 413111 "
    "241112 134111 111242 121142 121241 114212 124112 124211 411212 421112 421211 212141 214121 "
    "412121 111143 111341 131141 114113 114311 411113 411311 113141 114131 311141 411131 211412 "
    "211214 211232"
).split()
_STOP_WIDTHS = "2331112"
START_A, START_B, START_C, STOP = 103, 104, 105, 106


def _modules(widths: str) -> np.ndarray:
    return np.array([1 - i % 2 for i, w in enumerate(widths) for _ in range(int(w))], np.float32)


SYMBOLS = np.array([_modules(w) for w in _WIDTHS])  # 106 × 11, 1 = bar
STOP_MODULES = _modules(_STOP_WIDTHS)  # 13


def code128_text(values: list[int]) -> str | None:
    """The text of a Code 128 symbol sequence (start … data, without check and stop); None when
    it is not a valid sequence. FNC1–4 are dropped."""
    if not values or values[0] not in (START_A, START_B, START_C):
        return None
    charset = "ABC"[values[0] - START_A]
    out = []
    shift = False
    for value in values[1:]:
        current = ("B" if charset == "A" else "A") if shift else charset
        shift = False
        if value > 102:
            return None
        if current == "C":
            if value < 100:
                out.append(f"{value:02d}")
            elif value == 100:
                charset = "B"
            elif value == 101:
                charset = "A"
            continue
        if value < 96:
            if current == "A":
                out.append(chr(value + 32) if value < 64 else chr(value - 64))
            else:
                out.append(chr(value + 32))
            continue
        if value == 98:
            shift = True
        elif value == 99:
            charset = "C"
        elif value == 100 and current == "A":
            charset = "B"
        elif value == 101 and current == "B":
            charset = "A"
    return "".join(out)


def checksum_ok(values: list[int]) -> bool:
    """``values`` = start, data…, check."""
    total = values[0] + sum(i * v for i, v in enumerate(values[1:-1], start=1))
    return total % 103 == values[-1]


@dataclass(frozen=True)
class Fit:
    values: tuple[int, ...]  # start, data…, check
    cost: float  # residual over the profile's variance
    margin: float  # the smallest gain of a slot's symbol over its runner-up, over the variance per module


SAMPLES = 4  # profile samples per module
CONTEXT = 4  # modules of a neighbouring symbol a blur can reach into a slot
_NEXT_MEAN = SYMBOLS[:103, :CONTEXT].mean(axis=0)  # the start of the symbol after a slot, on average
# A symbol's last CONTEXT modules, as one of a few classes (the left context of the next slot).
_TAILS, _TAIL_OF = np.unique(np.vstack([SYMBOLS[:, -CONTEXT:], np.zeros((1, CONTEXT), np.float32)]),
                             axis=0, return_inverse=True)
N_DATA = 103  # values 0–102: what a slot after the start can hold


def _psf(sigma: float, box: float) -> np.ndarray:
    """A 1-D blur in modules, sampled SAMPLES a module: a Gaussian of ``sigma`` over a box of
    ``box`` (a motion streak's length along the code)."""
    half = int(np.ceil((3 * sigma + box / 2 + 0.5) * SAMPLES))
    x = np.arange(-half, half + 1) / SAMPLES
    fine = np.linspace(-box / 2, box / 2, 17) if box > 0 else np.zeros(1)
    kernel: np.ndarray = np.exp(-0.5 * ((x[:, None] - fine[None, :]) / sigma) ** 2).sum(axis=1)
    normalised: np.ndarray = (kernel / kernel.sum()).astype(np.float32)
    return normalised


def _render(rows: np.ndarray, kernel: np.ndarray, first: int, count: int) -> np.ndarray:
    """Module rows drawn SAMPLES a module and blurred; modules ``first`` … ``first + count``."""
    fine = np.repeat(rows.astype(np.float32), SAMPLES, axis=1)
    blurred = cv2.filter2D(fine, -1, kernel[None, :], borderType=cv2.BORDER_CONSTANT)
    return blurred[:, first * SAMPLES:(first + count) * SAMPLES]


def _centred(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Templates (one a row) less their means, stored a template a column (samples × templates,
    contiguous, for one product per batch of windows), and their squared norms."""
    c = t - t.mean(axis=-1, keepdims=True)
    return np.ascontiguousarray(c.T, dtype=np.float32), np.maximum((c * c).sum(axis=-1), 1e-6)


class _Templates:
    """Each slot's window as it looks under one blur, for every (left context, symbol)."""

    def __init__(self, sigma: float, box: float) -> None:
        k = _psf(sigma, box)
        n_tails = len(_TAILS)
        tails = np.repeat(_TAILS, N_DATA, axis=0)
        this = np.tile(SYMBOLS[:N_DATA], (n_tails, 1))
        mean_next = np.repeat(_NEXT_MEAN[None], len(this), axis=0)
        stop_next = np.repeat(STOP_MODULES[None, :CONTEXT], len(this), axis=0)
        self.pair = _centred(_render(np.hstack([tails, this, mean_next]), k, CONTEXT, 11))
        self.pair_last = _centred(_render(np.hstack([tails, this, stop_next]), k, CONTEXT, 11))
        quiet = np.zeros((3, CONTEXT), np.float32)
        self.start = _centred(_render(np.hstack([quiet, SYMBOLS[103:106], mean_next[:3]]), k, CONTEXT, 11))
        stops = np.hstack([_TAILS, np.repeat(STOP_MODULES[None], n_tails, 0), np.zeros((n_tails, CONTEXT))])
        self.stop = _centred(_render(stops, k, CONTEXT, 13))


def _sse(window: np.ndarray, template: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Least-squares residual of window ≈ a + b·template, b ≥ 0 (dark is dark), per template;
    ``window`` may be a batch (… × samples)."""
    columns, tn = template
    y = window - window.mean(axis=-1, keepdims=True)
    syy = (y * y).sum(axis=-1)
    sty = y @ columns
    residual: np.ndarray = syy[..., None] - np.maximum(sty, 0) ** 2 / tn
    return residual


BLURS = tuple((s, b) for s in (0.35, 0.6) for b in (0.0, 0.8, 1.3, 1.8, 2.3, 2.8))
_TEMPLATES: dict[tuple[float, float], _Templates] = {}


def _templates(blur: tuple[float, float]) -> _Templates:
    if blur not in _TEMPLATES:
        _TEMPLATES[blur] = _Templates(*blur)
    return _TEMPLATES[blur]


def viterbi(y: np.ndarray, n: int, t: _Templates) -> Fit:
    """The best symbol sequence for ``n`` slots (start, data…, check) of ``y``, sampled SAMPLES
    a module from the start's first module through the stop's last (dark high)."""
    w = 11 * SAMPLES
    n_tails = len(_TAILS)
    slots = y[:n * w].reshape(n, w)
    middle = _sse(slots[1:n - 1], t.pair).reshape(n - 2, n_tails, N_DATA)
    last = _sse(slots[n - 1], t.pair_last).reshape(1, n_tails, N_DATA)
    columns = np.concatenate([middle, last])  # slot k: (left tail class, symbol) -> residual
    big = 1e18
    prev = np.full(107, big)
    prev[START_A:START_C + 1] = _sse(slots[0], t.start)
    back = []
    for k in range(1, n):
        total = prev[:, None] + columns[k - 1][_TAIL_OF]
        arg = np.argmin(total, axis=0)
        back.append(arg)
        prev = np.full(107, big)
        prev[:N_DATA] = total[arg, np.arange(N_DATA)]
    final = prev + _sse(y[n * w:n * w + 13 * SAMPLES], t.stop)[_TAIL_OF]
    s = int(np.argmin(final))
    cost = float(final[s])
    values = [s]
    for arg in reversed(back):
        s = int(arg[s])
        values.append(s)
    values.reverse()
    # margin: each slot's symbol against its best rival, with the left neighbour as fitted
    chosen = columns[np.arange(n - 1), _TAIL_OF[values[:-1]]]  # (n-1) × N_DATA
    mine = chosen[np.arange(n - 1), values[1:]]
    chosen[np.arange(n - 1), values[1:]] = np.inf
    margin = float((chosen.min(axis=1) - mine).min())
    var = float(np.var(y)) * len(y)
    return Fit(tuple(values), cost / max(var, 1e-6), margin / max(var, 1e-6) * (len(y) / SAMPLES))


SHIFTS = (-0.5, -0.25, 0.0, 0.25, 0.5)  # modules the found ends may be off by
# The bars' heights tell the perspective only roughly (photo 97 of the benchmark's seed 20261128:
# 0.86 from the heights, 0.75 right): the start and stop are placed over this spread around it.
PERSPECTIVE_SPREAD = (0.88, 1.0, 1.14)
MIN_MODULE = 2.6  # profile samples a module at the least (1.3 frame px)
MAX_SLOTS = 48
MIN_CONTRAST = 3.0  # grey levels: the least spread of the start and stop windows


Floats = np.ndarray | float


def _positions(x0: Floats, x1: Floats, r: Floats, total: int, u: np.ndarray) -> np.ndarray:
    """Profile positions of module coordinates ``u`` (0 … total) for ends x0, x1 and perspective r
    (arrays broadcast against each other; u along the last axis)."""
    t = u / total
    f = t / (t + (1 - t) * r)
    positions: np.ndarray = x0 + (x1 - x0) * f - 0.5
    return positions


Hypothesis = tuple[float, int, float, float, float, int]  # score, slots, ends, perspective, blur


def hypotheses(y: np.ndarray, x0: float, x1: float, perspective: float = 1.0) -> list[Hypothesis]:
    """For a Code 128 whose first bar starts near ``x0`` and last bar ends near ``x1`` in the profile
    ``y`` (dark high), its module width changing by ``perspective`` squared from start to end: the
    best placing of each symbol count by how well the known start and stop patterns fit (score:
    residual over variance), best first."""
    span = x1 - x0
    blurs = [_templates(b) for b in BLURS]
    start_t = (np.hstack([t.start[0] for t in blurs]), np.concatenate([t.start[1] for t in blurs]))
    stop_t = (np.hstack([t.stop[0] for t in blurs]), np.concatenate([t.stop[1] for t in blurs]))
    spread = perspective * np.array(PERSPECTIVE_SPREAD)
    d0, d1, r = (g.reshape(-1, 1) for g in np.meshgrid(SHIFTS, SHIFTS, spread, indexing="ij"))
    u_start = (np.arange(11 * SAMPLES) + 0.5) / SAMPLES
    u_stop = (np.arange(13 * SAMPLES) + 0.5) / SAMPLES
    grid = np.arange(len(y), dtype=np.float64)
    found: list[Hypothesis] = []
    for n in range(3, MAX_SLOTS + 1):
        total = 11 * n + 13
        module = span / total
        if module < MIN_MODULE:
            break
        a, b = x0 + d0 * module, x1 + d1 * module
        pos = _positions(a, b, r, total, np.concatenate([u_start, 11 * n + u_stop])[None, :])
        window = np.interp(pos, grid, y).astype(np.float32)
        ys, yt = window[:, :11 * SAMPLES], window[:, 11 * SAMPLES:]
        c1 = _sse(ys, start_t).reshape(len(ys), len(blurs), 3).min(axis=2)
        c2 = _sse(yt, stop_t).reshape(len(yt), len(blurs), -1).min(axis=2)
        var = ys.var(axis=1) * ys.shape[1] + yt.var(axis=1) * yt.shape[1]
        # flat windows (paper, a blank) fit anything: no contrast, no start or stop there
        flat = var < MIN_CONTRAST ** 2 * (ys.shape[1] + yt.shape[1])
        score = np.where(flat[:, None], np.inf, (c1 + c2) / np.maximum(var, 1e-6)[:, None])
        h, blur = np.unravel_index(int(np.argmin(score)), score.shape)
        found.append((float(score[h, blur]), n, float(a[h, 0]), float(b[h, 0]), float(r[h, 0]), int(blur)))
    found.sort()
    return found


# square root of the module width's change end to end (a slip in perspective)
FINE_PERSPECTIVE = tuple(np.round(np.arange(0.94, 1.061, 0.015), 3))
FINE_SHIFT = 0.125  # modules


def refine(y: np.ndarray, hypothesis: Hypothesis) -> Fit:
    """The hypothesis's perspective, blur and ends adjusted one at a time for the least residual of
    the whole symbol sequence (the start and stop alone barely tell a perspective)."""
    _, n, a, b, r, blur = hypothesis
    blurs = [_templates(k) for k in BLURS]
    grid = np.arange(len(y), dtype=np.float64)
    total = 11 * n + 13
    u = (np.arange(total * SAMPLES) + 0.5) / SAMPLES
    module = (b - a) / total
    cache: dict[tuple[float, float, float, int], Fit] = {}

    def fit(a_: float, b_: float, r_: float, blur_: int) -> Fit:
        key = (a_, b_, r_, blur_)
        if key not in cache:
            pos = _positions(a_, b_, r_, total, u)
            cache[key] = viterbi(np.interp(pos, grid, y).astype(np.float32), n, blurs[blur_])
        return cache[key]

    best = min(((a, b, r * rr, blur) for rr in FINE_PERSPECTIVE), key=lambda k: fit(*k).cost)
    best = min(((best[0], best[1], best[2], i) for i in range(len(blurs))), key=lambda k: fit(*k).cost)
    for _ in range(2):
        moves = [(best[0] + d0 * module, best[1] + d1 * module, best[2], best[3])
                 for d0 in (-FINE_SHIFT, 0, FINE_SHIFT) for d1 in (-FINE_SHIFT, 0, FINE_SHIFT)]
        best = min(moves, key=lambda k: fit(*k).cost)
        best = min(((best[0], best[1], best[2] + dr, best[3]) for dr in (-0.0075, 0, 0.0075)),
                   key=lambda k: fit(*k).cost)
    return fit(*best)


def _strip(gray: np.ndarray, quad: np.ndarray, turn: float = 0.0) -> tuple[np.ndarray, np.ndarray] | None:
    """The region of ``quad`` turned so its bars stand upright (1 px a frame px), and the affine
    map from the strip's pixels to the frame's. The bars' direction comes from the structure
    tensor over the region itself (the quad's own edges can run off along clutter), plus ``turn``
    radians: a streak along the code can leave the slip's edges and text stronger than the bars."""
    x, y, w, h = cv2.boundingRect(quad.astype(np.float32))
    x0, y0, x1, y1 = max(0, x), max(0, y), min(gray.shape[1], x + w), min(gray.shape[0], y + h)
    if x1 - x0 < 16 or y1 - y0 < 8:
        return None
    roi = gray[y0:y1, x0:x1].astype(np.float32)
    gx, gy = cv2.Sobel(roi, cv2.CV_32F, 1, 0), cv2.Sobel(roi, cv2.CV_32F, 0, 1)
    inside = np.zeros(roi.shape, np.uint8)
    cv2.fillConvexPoly(inside, (quad - [x0, y0]).astype(np.int32), 1)
    inside_f = inside.astype(np.float32)
    jxx, jyy, jxy = (float((a * inside_f).sum()) for a in (gx * gx, gy * gy, gx * gy))
    theta = 0.5 * np.arctan2(2 * jxy, jxx - jyy) + turn
    across = np.array([np.cos(theta), np.sin(theta)])  # the gradient: across the bars
    along = np.array([-across[1], across[0]])
    centre = quad.mean(axis=0)
    pu, pv = (quad - centre) @ across, (quad - centre) @ along
    matrix = np.column_stack([across, along, centre + pu.min() * across + pv.min() * along])
    size = (int(np.ptp(pu)), int(np.ptp(pv)))
    if size[0] < 16 or size[1] < 8:
        return None
    strip = cv2.warpAffine(gray, matrix, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)
    return strip, matrix


@dataclass(frozen=True)
class _Box:
    """Where the bars are in a strip: columns x0…x1, and the lines their tops and bottoms follow
    (a slip in perspective makes the bars' region a trapezoid)."""

    x0: int
    x1: int
    top: np.ndarray  # polynomial coefficients, row of the bars' top at a column
    bottom: np.ndarray

    def height_at(self, x: float) -> float:
        return float(np.polyval(self.bottom, x) - np.polyval(self.top, x))

    @property
    def height(self) -> float:
        return self.height_at(0.5 * (self.x0 + self.x1))


def _code_box(strip: np.ndarray) -> _Box | None:
    f = strip.astype(np.float32)
    gx, gy = np.abs(cv2.Sobel(f, cv2.CV_32F, 1, 0)), np.abs(cv2.Sobel(f, cv2.CV_32F, 0, 1))
    # edges across the bars, not along them (the slip's border, the text lines under the code)
    edges = cv2.boxFilter(gx, -1, (5, 5)) - cv2.boxFilter(gy, -1, (5, 5))
    strong = (edges > max(0.25 * float(np.percentile(edges, 99.5)), 4.0)).astype(np.uint8)
    closed = cv2.morphologyEx(strong, cv2.MORPH_CLOSE, np.ones((3, 13), np.uint8))
    mask = cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones((5, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    if count < 2:
        return None
    label = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h = (int(v) for v in stats[label, :4])
    region = labels[y:y + h, x:x + w] == label
    columns = np.flatnonzero(region.sum(axis=0) > 0.3 * h)
    if len(columns) < 10 or h < 4:
        return None
    tops = region[:, columns].argmax(axis=0) + y
    bottoms = h - 1 - region[::-1, columns].argmax(axis=0) + y
    xs = columns + x
    return _Box(x, x + w, np.polyfit(xs, tops, 1), np.polyfit(xs, bottoms, 1))


PROFILE_STEP = 0.5  # frame px between profile samples
MAX_PROFILE_ROWS = 96  # lines along the bars averaged per profile, one a px up to this
BAR_BAND = (0.15, 0.85)  # the part of the bars' height averaged (their ends may be cut off at an angle)


SLANT_SECTIONS = 4  # parts of the code whose bars' slant is measured


def _slants(strip: np.ndarray, box: _Box) -> np.ndarray:
    """The bars' slant (columns per row) as a line over the strip's columns: under perspective
    the bars fan out, and one turn stands only some of them upright."""
    f = strip.astype(np.float32)
    gx, gy = cv2.Sobel(f, cv2.CV_32F, 1, 0), cv2.Sobel(f, cv2.CV_32F, 0, 1)
    edges = np.linspace(box.x0, box.x1, SLANT_SECTIONS + 1).astype(int)
    centres, slants = [], []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        middle = 0.5 * (a + b)
        top, bottom = float(np.polyval(box.top, middle)), float(np.polyval(box.bottom, middle))
        inset = 0.15 * (bottom - top)
        r0, r1 = int(max(0, top + inset)), int(min(strip.shape[0], bottom - inset))
        if r1 - r0 < 4 or b - a < 4:
            continue
        sx, sy = gx[r0:r1, a:b], gy[r0:r1, a:b]
        jxx = float((sx * sx).sum())
        if jxx > 0:
            centres.append(middle)
            slants.append(-float((sx * sy).sum()) / jxx)  # the bar runs along (slant, 1)
    if len(slants) < 2:
        return np.zeros(2)
    return np.polyfit(centres, slants, 1)


def _profiles(gray: np.ndarray, matrix: np.ndarray, box: _Box, slant: np.ndarray
              ) -> tuple[list[np.ndarray], float, float]:
    """Profiles across the bars (bright = paper) over the whole band and each third of it, and
    where in them the box's ends fall. Sampled from the frame itself, PROFILE_STEP px apart, each
    column along its bars' slant."""
    pad = int(0.15 * (box.x1 - box.x0)) + 10
    xs = np.arange(box.x0 - pad, box.x1 + pad, PROFILE_STEP, dtype=np.float64)
    top, bottom = np.polyval(box.top, xs), np.polyval(box.bottom, xs)
    rows = int(np.clip((BAR_BAND[1] - BAR_BAND[0]) * float(np.median(bottom - top)), 12, MAX_PROFILE_ROWS))
    frac = BAR_BAND[0] + (np.arange(rows) + 0.5) / rows * (BAR_BAND[1] - BAR_BAND[0])
    ys = top[None, :] + frac[:, None] * (bottom - top)[None, :]
    middle = 0.5 * (top + bottom)
    cols = xs[None, :] + np.polyval(slant, xs)[None, :] * (ys - middle[None, :])
    map_x = (matrix[0, 0] * cols + matrix[0, 1] * ys + matrix[0, 2]).astype(np.float32)
    map_y = (matrix[1, 0] * cols + matrix[1, 1] * ys + matrix[1, 2]).astype(np.float32)
    band = cv2.remap(gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    third = rows // 3
    profiles = [band.mean(axis=0)] + [band[k * third:(k + 1) * third].mean(axis=0) for k in range(3)]
    return profiles, pad / PROFILE_STEP, (box.x1 - box.x0 + pad) / PROFILE_STEP


def _ends(y: np.ndarray, lo: float, hi: float) -> tuple[float, float] | None:
    """Where the first bar starts and the last ends (half-way crossings), near ``lo`` … ``hi``."""
    a, b = max(0, int(lo)), min(len(y), int(hi))
    if b - a < 8:
        return None
    ink = float(np.percentile(y[a:b], 95))
    outside = np.concatenate([y[:a], y[b:]])
    paper = float(np.median(outside)) if len(outside) > 4 else float(np.percentile(y[a:b], 5))
    level = 0.5 * (ink + paper)
    near = 12 / PROFILE_STEP
    dark = np.flatnonzero(y > level)
    dark = dark[(dark >= lo - near) & (dark <= hi + near)]
    if len(dark) < 2 or ink - paper < 4:
        return None
    i0, i1 = int(dark[0]), int(dark[-1])
    # y[i0 - 1] and y[i1 + 1] are at or under the level, y[i0] and y[i1] above it
    x0 = i0 - 1 + (level - y[i0 - 1]) / max(y[i0] - y[i0 - 1], 1e-6) if i0 > 0 else float(i0)
    x1 = i1 + (y[i1] - level) / max(y[i1] - y[i1 + 1], 1e-6) if i1 + 1 < len(y) else float(i1)
    return x0 + 0.5, x1 + 0.5


MAX_QUADS = 2  # runs of bars tried, largest first
# A read must pass the Code 128 check and fit closely, every symbol clearly best; an ID number
# (GB 11643: its own ISO 7064 check character too, what an ID slip's code holds) may fit less
# closely. Set on benchmarks/barcodes.py's photos: every code of another kind, and every wrong
# sequence tried on a Code 128, stays out (docs/scanning.md).
MAX_COST = 0.08
MIN_MARGIN = 0.1
MAX_COST_ID = 0.25
MIN_MARGIN_ID = 0.0
MIN_SLOTS = 5  # start, three data symbols, check: shorter sequences pass a checksum too easily


def is_id_number(text: str) -> bool:
    """An 18-character resident ID number whose ISO 7064 MOD 11-2 check character holds.
    (``kiosk.idnumber`` has the full rules.)"""
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        return False
    return gb11643_check_character(text[:17]) == text[17]


def accept(fit: Fit) -> str | None:
    """The text of a fit that holds up (see MAX_COST); None otherwise."""
    values = list(fit.values)
    if len(values) < MIN_SLOTS or not checksum_ok(values):
        return None
    text = code128_text(values[:-1])
    if not text or not all(" " <= ch <= "~" for ch in text):
        return None
    if is_id_number(text):
        return text if fit.cost <= MAX_COST_ID and fit.margin >= MIN_MARGIN_ID else None
    return text if fit.cost <= MAX_COST and fit.margin >= MIN_MARGIN else None


def _oriented(profile: np.ndarray, lo: float, hi: float, reverse: bool) -> tuple[np.ndarray, float, float]:
    """The profile dark high, read forwards or backwards, and where the box's ends fall in it."""
    dark = float(profile.max()) - profile
    if reverse:
        return dark[::-1].copy(), len(dark) - hi, len(dark) - lo
    return dark, lo, hi


def _tries(profile: np.ndarray, lo: float, hi: float, reverse: bool, perspective: float
           ) -> list[tuple[Hypothesis, np.ndarray]]:
    y, a, b = _oriented(profile, lo, hi, reverse)
    ends = _ends(y, a, b)
    if ends is None:
        return []
    return [(h, y) for h in hypotheses(y, *ends, perspective ** (-1 if reverse else 1))[:2]]


MAX_REFINED = 4  # hypotheses of a run of bars refined, best first
MAX_SCORE = 0.2  # a worse start and stop fit than this is not a Code 128 (right ones: ≈ 0.01–0.05)


def fits(gray: np.ndarray, quads: list[np.ndarray]) -> Iterator[Fit]:
    """Fits of Code 128 symbol sequences in the runs of bars ``quads``, likeliest first a run."""
    for quad in quads[:MAX_QUADS]:
        box = None
        for turn in (0.0, np.pi / 2):
            found = _strip(gray, quad, turn)
            if found is not None:
                strip, matrix = found
                box = _code_box(strip)
                if box is not None and box.x1 - box.x0 > box.height:
                    break  # a 1-D code is wider than its bars are high; otherwise turned the wrong way
                box = None
        if box is None:
            continue
        profiles, lo, hi = _profiles(gray, matrix, box, _slants(strip, box))
        # Which way the code reads, from the whole band's profile (the stop differs from every
        # start); the thirds are then read that way only.
        # Under perspective the bars' height and the modules' width shrink together.
        left, right = box.height_at(box.x0), box.height_at(box.x1)
        perspective = float(np.sqrt(np.clip(right / max(left, 1.0), 0.5, 2.0)))
        ways = {reverse: _tries(profiles[0], lo, hi, reverse, perspective) for reverse in (False, True)}
        reverse = min(ways, key=lambda k: ways[k][0][0][0] if ways[k] else np.inf)
        tries = [t for t in ways[reverse] if t[0][0] <= MAX_SCORE]
        if not tries:
            continue  # no start and stop in the whole band: not a Code 128, the thirds are not tried
        tries += [t for profile in profiles[1:] for t in _tries(profile, lo, hi, reverse, perspective)
                  if t[0][0] <= MAX_SCORE]
        tries.sort(key=lambda t: t[0][0])
        for hypothesis, y in tries[:MAX_REFINED]:
            yield refine(y, hypothesis)


def read_code128(gray: np.ndarray, quads: list[np.ndarray]) -> list[str]:
    """Code 128 texts fitted in the runs of bars ``quads`` (``barcode_passes.bar_quads``): the first
    that holds up, or none."""
    for fit in fits(gray, quads):
        text = accept(fit)
        if text is not None:
            return [text]
    return []
