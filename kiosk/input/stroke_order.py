"""Stroke orders the handwriting model knows, for strokes written in the school order.

Zinnia compares strokes in the order they were written, and the Simplified Chinese model
(``tegaki-zinnia-simplified-chinese``) learned the walk radical 辶 written *first*: its
这 is 辶 then 文. Every villager learned to write 辶 last (这 = 文 then 辶), and written so,
这 还 过 进 连 近 边 道 送 选 … were not among Zinnia's 200 best (``benchmarks/handwriting.py``
on Make Me a Hanzi's strokes, issue 10). So when the strokes end in what looks like 辶, the
recogniser also asks with those three strokes moved to the front (``model_orders``) and
keeps each character's better score.

What looks like 辶 (the last three strokes; pad coordinates, y downwards): the last is a
long stroke along the bottom of the ink, from its left part to its right edge (the 平捺),
and the two before it lie in the left part (the dot and the 横折折撇). Measured on
characters 300-1500 of the frequency list (not the 300 the benchmark reports): it fired on
25 characters, all of them with 辶, and on no other.
"""

from __future__ import annotations

from collections.abc import Sequence

Point = tuple[float, float]
Stroke = Sequence[Point]

WALK_STROKES = 3  # 点, 横折折撇, 平捺
LEFT_PART = 0.4  # the dot and the zigzag end left of this fraction of the ink's width
BOTTOM_PART = 0.6  # the last stroke starts and ends below this fraction of the ink's height
MIN_SPAN = 0.5  # the last stroke runs across at least this fraction of the width ...
RIGHT_EDGE = 0.8  # ... and ends right of this fraction


def _box(strokes: Sequence[Stroke]) -> tuple[float, float, float, float]:
    xs = [x for stroke in strokes for x, _ in stroke]
    ys = [y for stroke in strokes for _, y in stroke]
    return min(xs), min(ys), max(1.0, max(xs) - min(xs)), max(1.0, max(ys) - min(ys))


def ends_with_walk(strokes: Sequence[Stroke]) -> bool:
    """True when the last three strokes look like 辶 written last (and something was written before)."""
    if len(strokes) <= WALK_STROKES or any(len(stroke) == 0 for stroke in strokes[-WALK_STROKES:]):
        return False
    left, top, width, height = _box(strokes)
    (start_x, start_y), (end_x, end_y) = strokes[-1][0], strokes[-1][-1]
    if (start_x - left) / width >= LEFT_PART or (end_x - left) / width <= RIGHT_EDGE:
        return False
    if (end_x - start_x) / width <= MIN_SPAN:
        return False
    if (start_y - top) / height <= BOTTOM_PART or (end_y - top) / height <= BOTTOM_PART:
        return False
    return all((max(x for x, _ in stroke) - left) / width <= LEFT_PART
               for stroke in strokes[-WALK_STROKES:-1])


def model_orders(strokes: Sequence[Stroke]) -> list[list[Stroke]]:
    """Other orders of ``strokes`` to ask the model too (none for most characters)."""
    if ends_with_walk(strokes):
        return [list(strokes[-WALK_STROKES:]) + list(strokes[:-WALK_STROKES])]
    return []
