"""Pen strokes made from a font's glyph, for measuring handwriting recognition.

There is no Simplified Chinese online-handwriting test set in Debian, so we draw one:
the glyph (Noto Sans CJK SC, fonts-noto-cjk) is rendered to a small bitmap, thinned to
a one-pixel skeleton (Zhang-Suen), and the skeleton is cut into segments between ends
and junctions. Segments that go straight on through a junction are joined again (the
two arms of a cross are two strokes, not four), each stroke is turned the way people
write it (top to bottom; left to right when it lies flat) and strokes are ordered top
to bottom, left to right. This is a rough writer: corners (横折) become two strokes and
the order is not the school order, so the accuracy it measures is a floor, not a boast.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_PATH = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FONT_INDEX_SC = 2  # JP, KR, SC, TC, HK in the Debian collection; checked by name below
GRID = 64

Point = tuple[float, float]


def _font(size: int) -> ImageFont.FreeTypeFont:
    for index in range(10):
        font = ImageFont.truetype(FONT_PATH, size, index=index)
        if font.getname()[0].endswith(" SC"):
            return font
    return ImageFont.truetype(FONT_PATH, size, index=FONT_INDEX_SC)


def render(char: str, grid: int = GRID) -> np.ndarray:
    """A boolean ``grid`` x ``grid`` bitmap of ``char``, ink True."""
    image = Image.new("L", (grid, grid), 0)
    draw = ImageDraw.Draw(image)
    font = _font(int(grid * 0.85))
    left, top, right, bottom = draw.textbbox((0, 0), char, font=font)
    draw.text(((grid - (right - left)) / 2 - left, (grid - (bottom - top)) / 2 - top), char,
              fill=255, font=font)
    return np.asarray(image) > 110


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning, vectorised with numpy."""
    img = np.pad(mask.astype(np.uint8), 1)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            p = img
            p2, p3, p4 = p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:]
            p5, p6, p7 = p[2:, 2:], p[2:, 1:-1], p[2:, :-2]
            p8, p9 = p[1:-1, :-2], p[:-2, :-2]
            ring = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
            neighbours = sum(ring[:8])
            transitions = sum(((ring[i] == 0) & (ring[i + 1] == 1)).astype(np.uint8) for i in range(8))
            if step == 0:
                cond = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                cond = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            remove = (p[1:-1, 1:-1] == 1) & (neighbours >= 2) & (neighbours <= 6) & (transitions == 1) & cond
            if remove.any():
                img[1:-1, 1:-1][remove] = 0
                changed = True
    return img[1:-1, 1:-1].astype(bool)


_STEPS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def _neighbours(skel: np.ndarray, y: int, x: int) -> list[tuple[int, int]]:
    h, w = skel.shape
    return [(y + dy, x + dx) for dy, dx in _STEPS
            if 0 <= y + dy < h and 0 <= x + dx < w and skel[y + dy, x + dx]]


def _segments(skel: np.ndarray) -> list[list[tuple[int, int]]]:
    """Pixel paths between ends and junctions (junction pixels belong to both sides)."""
    pixels = list(zip(*np.nonzero(skel), strict=True))
    degree = {p: len(_neighbours(skel, *p)) for p in pixels}
    nodes = {p for p, d in degree.items() if d != 2}
    used: set[frozenset[tuple[int, int]]] = set()
    segments = []
    for start in nodes:
        for nxt in _neighbours(skel, *start):
            edge = frozenset((start, nxt))
            if edge in used:
                continue
            path = [start, nxt]
            used.add(edge)
            while path[-1] not in nodes:
                options = [q for q in _neighbours(skel, *path[-1])
                           if q != path[-2] and frozenset((path[-1], q)) not in used]
                if not options:
                    break
                used.add(frozenset((path[-1], options[0])))
                path.append(options[0])
            segments.append(path)
    # loops with no node at all (口 thinned to a ring)
    seen = {p for s in segments for p in s}
    for p in pixels:
        if p not in seen and degree[p] == 2:
            path = [p]
            prev = None
            while True:
                options = [q for q in _neighbours(skel, *path[-1]) if q != prev and q not in path]
                if not options:
                    break
                prev = path[-1]
                path.append(options[0])
            seen.update(path)
            segments.append(path)
    return [s for s in segments if len(s) >= 3]


def _direction(path: list[tuple[int, int]], at_start: bool) -> tuple[float, float]:
    """Unit vector pointing away from the path's end at the start (or end)."""
    k = min(len(path) - 1, 6)
    a, b = (path[0], path[k]) if at_start else (path[-1], path[-1 - k])
    dy, dx = b[0] - a[0], b[1] - a[1]
    norm = math.hypot(dx, dy) or 1.0
    return dx / norm, dy / norm


def _join_straight(segments: list[list[tuple[int, int]]]) -> list[list[tuple[int, int]]]:
    """Join pairs of segments meeting near one point and going straight on (< 35 degrees)."""
    changed = True
    while changed:
        changed = False
        best = None
        for i, a in enumerate(segments):
            for j, b in enumerate(segments):
                if i >= j:
                    continue
                for a_end in (True, False):
                    for b_end in (True, False):
                        pa = a[0] if a_end else a[-1]
                        pb = b[0] if b_end else b[-1]
                        if abs(pa[0] - pb[0]) > 2 or abs(pa[1] - pb[1]) > 2:
                            continue
                        da, db = _direction(a, a_end), _direction(b, b_end)
                        cos = da[0] * db[0] + da[1] * db[1]  # -1 when straight through
                        if cos < -0.82 and (best is None or cos < best[0]):
                            best = (cos, i, j, a_end, b_end)
        if best:
            _, i, j, a_end, b_end = best
            a, b = segments[i], segments[j]
            a = a[::-1] if a_end else a
            b = b if b_end else b[::-1]
            segments = [s for k, s in enumerate(segments) if k not in (i, j)] + [a + b[1:]]
            changed = True
    return segments


def _prune_spurs(segments: list[list[tuple[int, int]]]) -> list[list[tuple[int, int]]]:
    """Drop short segments with a free end (thinning leaves whiskers at stroke ends and joins)."""
    ends: dict[tuple[int, int], int] = {}
    for seg in segments:
        for p in (seg[0], seg[-1]):
            ends[p] = ends.get(p, 0) + 1
    touching = set()
    for seg in segments:
        touching.update(seg[1:-1])
    def free(p: tuple[int, int]) -> bool:
        return ends[p] == 1 and p not in touching
    return [seg for seg in segments
            if len(seg) >= 8 or not (free(seg[0]) or free(seg[-1])) or len(segments) == 1]


def _flat(path: list[tuple[int, int]]) -> bool:
    (y0, x0), (y1, x1) = path[0], path[-1]
    return abs(x1 - x0) > 2 * abs(y1 - y0)


def _join_turns(paths: list[list[tuple[int, int]]]) -> list[list[tuple[int, int]]]:
    """横折: a flat stroke whose right end meets the top of a downward stroke is one stroke."""
    changed = True
    while changed:
        changed = False
        for i, h in enumerate(paths):
            if not _flat(h):
                continue
            for j, v in enumerate(paths):
                if i == j or _flat(v):
                    continue
                if abs(h[-1][0] - v[0][0]) <= 3 and abs(h[-1][1] - v[0][1]) <= 3 and v[0][1] >= h[-1][1] - 3:
                    paths = [p for k, p in enumerate(paths) if k not in (i, j)] + [h + v[1:]]
                    changed = True
                    break
            if changed:
                break
    return paths


def _crosses(h: list[tuple[int, int]], v: list[tuple[int, int]]) -> bool:
    """Does the flat stroke ``h`` cut through the downward stroke ``v`` (not at its top)?"""
    ys = [p[0] for p in v]
    xs = [p[1] for p in h]
    hy = sum(p[0] for p in h) / len(h)
    vx = sum(p[1] for p in v) / len(v)
    return min(ys) + 3 < hy < max(ys) + 1 and min(xs) + 2 < vx < max(xs) - 2


def _school_order(paths: list[list[tuple[int, int]]]) -> list[list[tuple[int, int]]]:
    """Top to bottom, left to right, and 先横后竖: a crossing flat stroke goes first."""
    paths = sorted(paths, key=lambda p: (p[0][0] // 6, p[0][1]))
    changed = True
    rounds = 0
    while changed and rounds < 50:
        changed = False
        rounds += 1
        for i in range(len(paths)):
            for j in range(i + 1, len(paths)):
                if _flat(paths[j]) and not _flat(paths[i]) and _crosses(paths[j], paths[i]):
                    paths.insert(i, paths.pop(j))
                    changed = True
                    break
            if changed:
                break
    return paths


def _as_written(path: list[tuple[int, int]]) -> list[tuple[int, int]]:
    (y0, x0), (y1, x1) = path[0], path[-1]
    flat = abs(x1 - x0) > 2 * abs(y1 - y0)
    if (flat and x1 < x0) or (not flat and y1 < y0):
        return path[::-1]
    return path


def strokes_for(char: str, size: float = 400.0, grid: int = GRID) -> list[list[Point]]:
    """Strokes of ``char`` in a ``size`` x ``size`` pad, y downwards, points every ~3 px of grid."""
    skel = thin(render(char, grid))
    paths = [_as_written(p) for p in _join_straight(_prune_spurs(_segments(skel))) if len(p) >= 4]
    paths = _school_order(_join_turns(paths))
    scale = size / grid
    return [[(x * scale, y * scale) for y, x in (path[::3] + [path[-1]])] for path in paths]
