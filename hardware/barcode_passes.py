"""Preprocessing passes for hard photographs of codes: greyscale in, greyscale out.

Each pass is a cheap OpenCV transform that makes one kind of bad photo readable to
libzbar: scaling down (noise, JPEG blocks, motion blur average out; large codes get
cheaper), contrast-limited equalisation (dim, unevenly lit slips), an unsharp mask
(defocus), scaling up (codes only a few pixels per module), local thresholds (shadows
across the code) and a turn that stands a slanted 1-D barcode upright (libzbar reads 1-D
codes along rows and columns only).

``DEFAULT_PASSES`` is the order ``BarcodeDecoder`` tries them in, stopping at the first
that finds a code. Chosen (issue 13 part 5) from a table of every pass run alone on each
of ``benchmarks/barcodes.py``'s 240 photographs (seed 20261128), plain pyzbar timed in the
same loop, and a search over orders for the most reads in the least time (the benchmark's
goal: total time ≤ 1.5× pyzbar's; 0.97× on that seed, 1.32× on seed 7). A third-scale
scan reads ~27 % of the pictures for a small fraction of one plain scan; ``qr_crops``
(QR-like regions stood upright and redrawn) is nearly as cheap and reads most QR codes the
third-scale scan misses; ``bars`` (each run of bars straightened by its own four corners)
most slanted and tilted 1-D codes; ``upright`` and ``strips`` read what is left, and
``qr_deblur`` (a defocus or streak undone on the QR crops) comes after them. A full-frame
``sharpen`` before it, which the search also chose (one photo more on seed 20261128), is left
out: on seed 7, with more photos nothing reads, it took the total to 1.58×. The rest stay in
``ALL_PASSES`` for re-measuring (docs/scanning.md, "Codes held at an angle").

Last comes ``code128_fit`` (``READ_PASSES``: it reads codes itself, no libzbar scan): each run
of bars' Code 128 fitted symbol by symbol (``hardware.barcode_fit``), for codes a streak or a
defocus has run together. It is the costliest per frame, and only frames nothing else read
pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from hardware.barcode_fit import read_code128

# A pass gives one picture to scan, or several scanned in turn (stopping at the first read).
Pass = Callable[[np.ndarray], "np.ndarray | list[np.ndarray]"]

_CLAHE = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8))


def identity(gray: np.ndarray) -> np.ndarray:
    return gray


def half(gray: np.ndarray) -> np.ndarray:
    return cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)


def third(gray: np.ndarray) -> np.ndarray:
    return cv2.resize(gray, None, fx=1 / 3, fy=1 / 3, interpolation=cv2.INTER_AREA)


def clahe(gray: np.ndarray) -> np.ndarray:
    return _CLAHE.apply(gray)


def half_clahe(gray: np.ndarray) -> np.ndarray:
    return _CLAHE.apply(half(gray))


def stretch(gray: np.ndarray) -> np.ndarray:
    """Min–max stretch between the 1st and 99th percentiles (dim pictures)."""
    lo, hi = np.percentile(gray[::4, ::4], (1, 99))
    if hi - lo < 8:
        return gray
    return cv2.convertScaleAbs(gray, alpha=255.0 / (hi - lo), beta=-lo * 255.0 / (hi - lo))


def sharpen(gray: np.ndarray) -> np.ndarray:
    blurred = cv2.GaussianBlur(gray, (0, 0), 2.0)
    return cv2.addWeighted(gray, 2.0, blurred, -1.0, 0)


def clahe_sharpen(gray: np.ndarray) -> np.ndarray:
    return sharpen(clahe(gray))


def upscale(gray: np.ndarray) -> np.ndarray:
    return cv2.resize(gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)


def upscale_sharpen(gray: np.ndarray) -> np.ndarray:
    return sharpen(upscale(gray))


def denoise(gray: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(gray, (0, 0), 1.2)


def otsu(gray: np.ndarray) -> np.ndarray:
    _, out = cv2.threshold(cv2.GaussianBlur(gray, (3, 3), 0), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return out


def adaptive(gray: np.ndarray) -> np.ndarray:
    block = max(15, (min(gray.shape) // 24) | 1)
    return cv2.adaptiveThreshold(cv2.GaussianBlur(gray, (3, 3), 0), 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                 cv2.THRESH_BINARY, block, 5)


def upright(gray: np.ndarray) -> np.ndarray:
    """Turn the picture so the strongest run of parallel edges (a 1-D code's bars) stands upright.

    The orientation is the dominant angle of the gradient, weighted by its strength,
    from a structure tensor over a downscaled copy; angles near 0° or 90° (which libzbar
    already reads) give the picture back unchanged.
    """
    small = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA).astype(np.float32)
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    mag = gx * gx + gy * gy
    strong = mag > np.percentile(mag, 95)
    if not strong.any():
        return gray
    # Doubled angles so that opposite gradients (the two edges of a bar) add up.
    jxx, jyy, jxy = (gx * gx)[strong].sum(), (gy * gy)[strong].sum(), (gx * gy)[strong].sum()
    angle = 0.5 * np.degrees(np.arctan2(2 * jxy, jxx - jyy))  # gradient direction, -90..90
    if min(abs(angle), abs(abs(angle) - 90)) < 8:
        return gray
    h, w = gray.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), float(angle), 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    matrix[0, 2] += nw / 2 - w / 2
    matrix[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(gray, matrix, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def half_upright(gray: np.ndarray) -> np.ndarray:
    return upright(half(gray))


STRIP_GAP = 24       # white rows between strips in the mosaic (a quiet zone for libzbar)
MAX_STRIPS = 3       # regions of parallel bars tried, largest first


def _half_size_gradients(gray: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(scale, x and y Sobel gradients) of the frame at half size when it is over 800 px wide:
    where runs of bars are looked for (cheaper, and a bar is still a few pixels wide)."""
    scale = 0.5 if gray.shape[1] > 800 else 1.0
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    f = small.astype(np.float32)
    return scale, cv2.Sobel(f, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(f, cv2.CV_32F, 0, 1, ksize=3)


def strips(gray: np.ndarray) -> np.ndarray:
    """Each 1-D code found in the picture, cut out and stood upright, stacked in one picture.

    ``upright`` turns the whole picture by its dominant angle, which clutter, text or a
    second object can outweigh. Here the bars are found locally: where the gradient is
    strong and points the same way over a window (a structure tensor's coherence, on a
    half-size copy), there is a run of parallel bars. Each such region is turned by its
    own angle and cut from the full-size picture with a margin for the quiet zone; small
    ones are scaled up. Cheap (one Sobel and four box filters at half size) and only run
    after the cheap passes have failed.
    """
    scale, gx, gy = _half_size_gradients(gray)
    window = (15, 15)
    jxx, jyy, jxy = (cv2.boxFilter(a, -1, window) for a in (gx * gx, gy * gy, gx * gy))
    energy = jxx + jyy
    coherence = np.sqrt((jxx - jyy) ** 2 + 4 * jxy ** 2) / (energy + 1e-3)
    floor = max(float(np.percentile(energy, 80)), 400.0)
    mask = ((coherence > 0.75) & (energy > floor)).astype(np.uint8) * 255
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contours = sorted((c for c in contours if cv2.contourArea(c) > 300), key=cv2.contourArea, reverse=True)
    cut = []
    for contour in contours[:MAX_STRIPS]:
        region = np.zeros_like(mask)
        cv2.drawContours(region, [contour], -1, 255, -1)
        inside = region > 0
        angle = 0.5 * np.degrees(np.arctan2(2 * jxy[inside].sum(), (jxx - jyy)[inside].sum()))
        pts = contour.reshape(-1, 2).astype(np.float32) / scale
        centre = pts.mean(axis=0)
        matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), float(angle), 1.0)
        turned = pts @ matrix[:, :2].T + matrix[:, 2]
        (x0, y0), (x1, y1) = turned.min(axis=0), turned.max(axis=0)
        pad_x, pad_y = 0.15 * (x1 - x0) + 12, 0.1 * (y1 - y0) + 6
        matrix[0, 2] -= x0 - pad_x
        matrix[1, 2] -= y0 - pad_y
        size = (int(x1 - x0 + 2 * pad_x), int(y1 - y0 + 2 * pad_y))
        strip = cv2.warpAffine(gray, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if strip.shape[1] < 500:
            strip = cv2.resize(strip, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
        strip = stretch(strip)  # the slip's own contrast, not the whole picture's
        cut += [strip, sharpen(strip)]  # the second for a blurred or dim code
    if not cut:
        return np.full((32, 32), 255, np.uint8)
    width = max(s.shape[1] for s in cut)
    rows = []
    for s in cut:
        rows.append(cv2.copyMakeBorder(s, 0, STRIP_GAP, 0, width - s.shape[1], cv2.BORDER_CONSTANT,
                                       value=255))
    return np.vstack(rows)


def _stretch_sampled(picture: np.ndarray) -> np.ndarray:
    """Stretch between the 2nd and 98th percentiles of a sparse sample (cheap on big crops)."""
    sample = picture[::4, ::4] if picture.shape[0] > 16 else picture[0]
    lo, hi = np.percentile(sample, (2, 98))
    if hi - lo < 4:
        return picture
    return cv2.convertScaleAbs(picture, alpha=255.0 / (hi - lo), beta=-lo * 255.0 / (hi - lo))


BAR_WINDOW = (11, 11)  # structure-tensor window on the half-size copy (≈ 22 px of the frame)
MAX_BAR_REGIONS = 3
CLOSE_PX = 9
MAX_BAR_ROWS = 200  # rows of a straightened code warped
SOFT_ROWS = 64  # ... and scanned: averaged down to these (enough scan lines, few pixels)


@dataclass(frozen=True)
class _Tensor:
    """The structure tensor of a frame's half-size copy over ``BAR_WINDOW``, and what follows from it."""

    scale: float
    jxx: np.ndarray
    jyy: np.ndarray
    jxy: np.ndarray
    energy: np.ndarray  # jxx + jyy: how strong the edges are around each pixel
    coherence: np.ndarray  # 1: all edges one way (bars); near 0: every way (a QR code's modules)
    two_signed: np.ndarray  # edges of both signs (a pattern), not one lone edge such as a slip's border
    floor: float  # energy that counts as strong in this frame
    noise: float  # the median energy: what sensor noise alone gives


# One frame's tensor, kept for the next pass over the same frame (``bars`` and ``qr_crops``
# both start from it; the decoder hands every pass the same grey array). The decoder lets it go
# when its passes are done (``forget_frame``): a 1280×720 frame's tensor and the frame are ≈ 5 MB,
# which stayed held from the identify screen's last scan to the end of the kiosk's day.
_last_tensor: tuple[np.ndarray, _Tensor] | None = None


def forget_frame() -> None:
    """Drop the tensor kept for the last frame's next pass (``BarcodeDecoder.decode_detailed``)."""
    global _last_tensor
    _last_tensor = None


def _tensor(gray: np.ndarray) -> _Tensor:
    global _last_tensor
    last = _last_tensor
    if last is not None and last[0] is gray:
        return last[1]
    scale, gx, gy = _half_size_gradients(gray)
    jxx, jyy, jxy, mx, my = (cv2.boxFilter(a, -1, BAR_WINDOW) for a in (gx * gx, gy * gy, gx * gy, gx, gy))
    energy = jxx + jyy
    coherence = np.sqrt((jxx - jyy) ** 2 + 4 * jxy ** 2) / (energy + 1e-3)
    floor = max(float(np.percentile(energy[::4, ::4], 80)), 200.0)
    tensor = _Tensor(scale, jxx, jyy, jxy, energy, coherence, mx * mx + my * my < 0.3 * energy, floor,
                     float(np.median(energy[::4, ::4])))
    _last_tensor = (gray, tensor)
    return tensor


def bar_quads(gray: np.ndarray, max_regions: int = MAX_BAR_REGIONS) -> list[np.ndarray]:
    """The four corners (full-size pixels) of each run of parallel bars, largest first.

    On a half-size copy, a structure tensor over an 11-px window: where the gradient is
    strong, points one way (coherent) and takes both signs (its plain mean is small: bars,
    not a lone edge such as a slip's border), there are bars. Each region's outline is
    reduced to a quadrilateral, ordered so its first edge runs across the bars: under
    perspective the bars fan out, and only the four corners (a homography) straighten them
    all, where one angle leaves the far end slanted.
    """
    t = _tensor(gray)
    mask = ((t.coherence > 0.6) & (t.energy > t.floor) & t.two_signed).astype(np.uint8) * 255
    # Closed first: a wide space between bars (a big code, or the near end under perspective)
    # leaves a gap that would split one code into pieces.
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((CLOSE_PX, CLOSE_PX), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contours = sorted((c for c in contours if cv2.contourArea(c) > 250), key=cv2.contourArea, reverse=True)
    quads = []
    for contour in contours[:max_regions]:
        x, y, cw, ch = cv2.boundingRect(contour)
        region = np.zeros((ch, cw), np.uint8)
        cv2.drawContours(region, [contour - [x, y]], -1, 255, -1)
        inside = region > 0
        box = (slice(y, y + ch), slice(x, x + cw))
        theta = 0.5 * np.arctan2(2 * t.jxy[box][inside].sum(), (t.jxx[box] - t.jyy[box])[inside].sum())
        across = np.array([np.cos(theta), np.sin(theta)])  # the gradient: across the bars
        quad = _four_corners(cv2.convexHull(contour), across) / t.scale
        edges = np.roll(quad, -1, axis=0) - quad
        crossing = np.abs(edges @ across) / (np.linalg.norm(edges, axis=1) + 1e-6)
        start = 0 if crossing[0] + crossing[2] >= crossing[1] + crossing[3] else 1
        quads.append(np.roll(quad, -start, axis=0).astype(np.float32))
    return quads


def _four_corners(hull: np.ndarray, across: np.ndarray) -> np.ndarray:
    """The hull simplified to four corners in outline order; failing that, its extreme points."""
    perimeter = cv2.arcLength(hull, True)
    for eps in (0.02, 0.04, 0.06, 0.09, 0.12):
        approx = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float64)
    pts = hull.reshape(-1, 2).astype(np.float64)
    u, v = pts @ across, pts @ np.array([-across[1], across[0]])
    corners = (np.argmin(u + v), np.argmax(u - v), np.argmax(u + v), np.argmax(v - u))
    return pts[list(corners)]


def straighten_bars(gray: np.ndarray, quad: np.ndarray) -> list[np.ndarray]:
    """The bars inside ``quad`` mapped to an upright rectangle with a quiet zone, in two forms.

    ``soft``: the straightened picture lightly smoothed along the bars. ``bands``: each
    sixth of its height averaged down the columns (noise and JPEG blocks average out).
    Narrow codes are drawn twice as wide.
    """
    tl, tr, br, bl = quad.astype(np.float64)
    width = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    if width < 20 or height < 6:
        return []
    out_w = int(np.clip(width * (2.0 if width < 700 else 1.0), 100, 1400))
    out_h = int(np.clip(height, 24, MAX_BAR_ROWS))
    margin = int(0.08 * out_w) + 10  # the quiet zone libzbar needs on both ends
    right = margin + out_w
    target = np.array([[margin, 0], [right, 0], [right, out_h], [margin, out_h]], np.float32)
    matrix = cv2.getPerspectiveTransform(quad, target)
    warped = cv2.warpPerspective(gray, matrix, (out_w + 2 * margin, out_h), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
    soft = _stretch_sampled(cv2.blur(warped, (1, 9)))
    if out_h > SOFT_ROWS:
        soft = cv2.resize(soft, (soft.shape[1], SOFT_ROWS), interpolation=cv2.INTER_AREA)
    # Bands: each sixth of the bars' height averaged down its columns, 8 rows each. Sensor
    # noise and JPEG blocks average out, while corners found a little off (bars left slightly
    # slanted) still give sharp profiles within one band.
    band = max(2, out_h // 6)
    tops = range(band // 2, out_h - band, band)
    rows = [warped[top:top + band].mean(axis=0, dtype=np.float32) for top in tops]
    bands = _stretch_sampled(np.repeat(np.array(rows), 8, axis=0).astype(np.uint8)) if rows else None
    return [soft] if bands is None else [soft, bands]


def stack(pictures: list[np.ndarray], gap: int = 16) -> np.ndarray:
    """Pictures one under another on white, ``gap`` rows apart (one libzbar scan for all)."""
    if not pictures:
        return np.full((32, 32), 255, np.uint8)
    width = max(p.shape[1] for p in pictures)
    return np.vstack([cv2.copyMakeBorder(p, 0, gap, 0, width - p.shape[1], cv2.BORDER_CONSTANT, value=255)
                      for p in pictures])


def bars(gray: np.ndarray) -> np.ndarray:
    """Every run of bars in the picture straightened by its four corners (``bar_quads``), stacked."""
    return stack([form for quad in bar_quads(gray) for form in straighten_bars(gray, quad)])


QR_SIDE = 300  # px a QR-like region is drawn at, upright (≈ 7–12 px a module for versions 2–8)
MAX_QR_REGIONS = 2


RotatedRect = tuple[tuple[float, float], tuple[float, float], float]  # centre, size, angle (cv2.minAreaRect)


def qr_regions(gray: np.ndarray, max_regions: int = MAX_QR_REGIONS) -> list[RotatedRect]:
    """Rotated rectangles (``cv2.minAreaRect`` form, full-size pixels) of square regions whose
    edges point every way — a QR code's modules — largest first.

    The complement of ``bar_quads`` on the same structure tensor: strong, two-signed and
    incoherent. Strong means above the frame's 80th percentile and 4 × its median (on a
    noisy frame the noise alone is incoherent everywhere).
    """
    t = _tensor(gray)
    floor = max(t.floor, 4 * t.noise)
    mask = ((t.coherence < 0.6) & (t.energy > floor) & t.two_signed).astype(np.uint8) * 255
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found: list[RotatedRect] = []
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:2 * max_regions]:
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        area = cv2.contourArea(contour)
        if area < 300 or max(w, h) > 1.7 * min(w, h) or area < 0.4 * w * h:
            continue  # not square and filled: text, clutter
        found.append(((cx / t.scale, cy / t.scale), (w / t.scale, h / t.scale), float(angle)))
    return found[:max_regions]


def _upright_crop(gray: np.ndarray, rect: RotatedRect, interpolation: int = cv2.INTER_CUBIC) -> np.ndarray:
    """The region turned upright and drawn ``QR_SIDE`` px across, with half as much again around it
    (a quiet zone)."""
    (cx, cy), (w, h), angle = rect
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, 2 * QR_SIDE / (w + h))
    out = int(1.5 * QR_SIDE)
    matrix[0, 2] += out / 2 - cx
    matrix[1, 2] += out / 2 - cy
    return cv2.warpAffine(gray, matrix, (out, out), flags=interpolation, borderMode=cv2.BORDER_REPLICATE)


def _local_threshold(picture: np.ndarray) -> np.ndarray:
    smooth = cv2.GaussianBlur(picture, (0, 0), 0.75)
    block = (QR_SIDE // 6) | 1  # about a sixth of the code's width
    return cv2.adaptiveThreshold(smooth, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 6)


def qr_crops(gray: np.ndarray) -> np.ndarray:
    """Each QR-like region (``qr_regions``) turned upright, drawn ``QR_SIDE`` px wide and
    thresholded against its own neighbourhood, stacked.

    For small, blurred or dim QR codes held at an angle: libzbar finds a QR code by the
    1:1:3:1:1 runs of its finder patterns along rows and columns, which at 2–4 px a module,
    turned, come out too ragged. Drawn upright with a sharp (cubic) interpolation at several
    px a module, lightly smoothed and thresholded over about a sixth of its width (6 levels
    under the local mean, so flat paper stays white), the runs are clean again. A frame
    without such a region costs only the structure tensor, which ``bars`` then reuses.
    """
    return stack([_local_threshold(stretch(_upright_crop(gray, rect))) for rect in qr_regions(gray)])


QR_DEBLUR_SIGMAS = (1.0, 1.3, 1.8)  # Gaussian blurs undone, in px of the frame
QR_STREAKS = (5.0, 6.5)  # motion streaks undone, in px of the frame
QR_STREAK_COHERENCE = 0.25  # a crop whose edges run one way this much more than the other is streaked
QR_DEBLUR_NSR = 0.03  # Wiener noise-to-signal ratio: higher keeps noise down, lower sharpens more


def _wiener(picture: np.ndarray, blur: np.ndarray) -> np.ndarray:
    """``picture`` with a blur undone by a Wiener filter; ``blur`` is the blur's transfer function
    on ``np.fft.rfft2``'s grid. Stretched to 0–255."""
    f = picture.astype(np.float32)
    mean = float(f.mean())
    gain = np.conj(blur) / (np.abs(blur) ** 2 + QR_DEBLUR_NSR)
    out = np.fft.irfft2(np.fft.rfft2(f - mean) * gain, s=f.shape)
    lo, hi = float(out.min()), float(out.max())
    return np.clip((out - lo) * (255.0 / max(hi - lo, 1e-6)), 0, 255).astype(np.uint8)


def _gaussian_blur(shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """A Gaussian blur's transfer function, exact (no truncated kernel)."""
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    blur: np.ndarray = np.exp(-2 * (np.pi * sigma) ** 2 * (fx * fx + fy * fy))
    return blur


def _kernel_blur(shape: tuple[int, ...], kernel: np.ndarray) -> np.ndarray:
    """The transfer function of a small centred blur kernel."""
    padded = np.zeros(shape[:2], np.float32)
    kh, kw = kernel.shape
    padded[:kh, :kw] = kernel
    blur: np.ndarray = np.fft.rfft2(np.roll(padded, (-(kh // 2), -(kw // 2)), axis=(0, 1)))
    return blur


def _streak_kernel(length: float, degrees: float) -> np.ndarray:
    size = (int(np.ceil(length)) | 1) + 2
    kernel = np.zeros((size, size), np.float32)
    c, dx, dy = size // 2, np.cos(np.radians(degrees)) * length / 2, np.sin(np.radians(degrees)) * length / 2
    cv2.line(kernel, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1, cv2.LINE_AA)
    kernel /= kernel.sum()
    return kernel


def _streak(crop: np.ndarray) -> tuple[float, float]:
    """(direction in degrees, coherence) of a motion streak over the middle of an upright crop:
    a streak wipes out the edges along it, so it runs across the strongest remaining gradient."""
    h, w = crop.shape
    middle = crop[h // 6:h - h // 6, w // 6:w - w // 6].astype(np.float32)
    gx, gy = cv2.Sobel(middle, cv2.CV_32F, 1, 0), cv2.Sobel(middle, cv2.CV_32F, 0, 1)
    jxx, jyy, jxy = float((gx * gx).sum()), float((gy * gy).sum()), float((gx * gy).sum())
    coherence = np.hypot(jxx - jyy, 2 * jxy) / max(jxx + jyy, 1e-6)
    return 0.5 * float(np.degrees(np.arctan2(2 * jxy, jxx - jyy))) + 90.0, float(coherence)


def qr_deblur(gray: np.ndarray) -> list[np.ndarray]:
    """Each QR-like region upright (as ``qr_crops``) with a blur undone, plain and thresholded:
    pictures scanned one by one.

    For a QR code so blurred at 2–4 px a module that neighbouring modules run together
    (``qr_crops`` reads nothing). A defocus's width is not known, so a few Gaussian widths are
    tried; when the crop's edges run markedly one way, a motion streak across them is undone
    too (two lengths). Last in the order: about two plain scans, on frames nothing else read.
    """
    pictures = []
    for rect in qr_regions(gray):
        crop = _upright_crop(gray, rect)
        scale = 2 * QR_SIDE / (rect[1][0] + rect[1][1])
        blurs = [_gaussian_blur(crop.shape, sigma * scale) for sigma in QR_DEBLUR_SIGMAS]
        direction, coherence = _streak(crop)
        if coherence > QR_STREAK_COHERENCE:
            streaks = (_streak_kernel(length * scale, direction) for length in QR_STREAKS)
            blurs += [_kernel_blur(crop.shape, streak) for streak in streaks]
        for blur in blurs:
            sharp = _wiener(crop, blur)
            pictures += [sharp, _local_threshold(sharp)]
    return pictures


ALL_PASSES: dict[str, Pass] = {
    "full": identity,
    "half": half,
    "third": third,
    "clahe": clahe,
    "half_clahe": half_clahe,
    "stretch": stretch,
    "sharpen": sharpen,
    "clahe_sharpen": clahe_sharpen,
    "upscale": upscale,
    "upscale_sharpen": upscale_sharpen,
    "denoise": denoise,
    "otsu": otsu,
    "adaptive": adaptive,
    "upright": upright,
    "half_upright": half_upright,
    "strips": strips,
    "bars": bars,
    "qr_crops": qr_crops,
    "qr_deblur": qr_deblur,
}

def code128_fit(gray: np.ndarray) -> list[tuple[str, bytes]]:
    """Code 128 fitted symbol by symbol in each run of bars (``hardware.barcode_fit``): for codes
    whose bars a streak or defocus has run together, which no libzbar scan reads."""
    return [("CODE128", text.encode("ascii")) for text in read_code128(gray, bar_quads(gray))]


# Passes that read codes themselves instead of drawing a picture for libzbar: (type, bytes) each.
READ_PASSES: dict[str, Callable[[np.ndarray], list[tuple[str, bytes]]]] = {"code128_fit": code128_fit}

# A pass that redraws the picture can turn a blurred code into bars that decode as another
# valid code on a single scan line. libzbar's quality of a 1-D symbol counts the lines that
# read it: after ``bars`` a correct read has many (median ≈ 150 on the benchmark's seed),
# the two wrong ones seen there had one.
MIN_QUALITY_1D: dict[str, int] = {"bars": 2, "qr_crops": 2, "qr_deblur": 2}

DEFAULT_PASSES: tuple[str, ...] = ("third", "qr_crops", "bars", "upright", "strips", "qr_deblur",
                                   "code128_fit")
