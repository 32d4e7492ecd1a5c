"""辶 written last (school order) is also asked written first (the model's order), through the real Zinnia."""

from __future__ import annotations

import pytest

from kiosk.input.handwriting import HandwritingRecognizer
from kiosk.input.stroke_order import ends_with_walk, model_orders


def polyline(*points: tuple[float, float], n: int = 8) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        out += [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(n)]
    return [*out, points[-1]]


# 这 on a 1000 x 1000 pad, y downwards, in school order: 文, then 辶 (dot, zigzag, the long bottom stroke)
WEN = [polyline((600, 80), (640, 160)), polyline((380, 220), (880, 220)), polyline((800, 260), (420, 640)),
       polyline((480, 300), (880, 640))]
WALK = [polyline((180, 120), (260, 200)), polyline((100, 340), (260, 340), (140, 640), (260, 700)),
        polyline((120, 760), (500, 880), (940, 900))]
ZHE = WEN + WALK
# 是: its last stroke also runs along the bottom to the right, but the two before it are not at the left
SHI = [polyline((300, 80), (300, 380)), polyline((300, 80), (700, 80), (700, 380)),
       polyline((300, 230), (700, 230)), polyline((300, 380), (700, 380)), polyline((150, 500), (850, 500)),
       polyline((500, 500), (500, 800)), polyline((500, 650), (750, 650)), polyline((350, 560), (100, 900)),
       polyline((300, 750), (600, 880), (950, 900))]


def test_walk_written_last_is_also_asked_written_first():
    assert ends_with_walk(ZHE)
    assert model_orders(ZHE) == [WALK + WEN]


@pytest.mark.parametrize("strokes", [WEN, WALK, SHI, [], [[], [], [], []], ZHE[:-1]])
def test_other_characters_are_asked_only_as_written(strokes):
    assert not ends_with_walk(strokes) and model_orders(strokes) == []


def test_the_recognizer_offers_zhe_only_when_asking_the_models_order():
    with HandwritingRecognizer.open(other_orders=False) as written, HandwritingRecognizer.open() as kiosk:
        assert "这" not in [c.text for c in written.candidates(ZHE, 1000, 1000, limit=10)]
        both = kiosk.candidates(ZHE, 1000, 1000, limit=10)
        assert "这" in [c.text for c in both]
        assert [c.score for c in both] == sorted((c.score for c in both), reverse=True)
        assert len({c.text for c in both}) == len(both)  # a character asked twice is offered once
        # one stroke order only: the answer is Zinnia's own, unchanged
        assert kiosk.candidates(WEN, 1000, 1000, limit=5) == written.candidates(WEN, 1000, 1000, limit=5)
