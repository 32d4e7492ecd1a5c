"""Handwriting recognition through the real libzinnia and the Debian Chinese model."""

from __future__ import annotations

import threading

import pytest

from kiosk.input.handwriting import HandwritingRecognizer, HandwritingUnavailable, character_frequencies


@pytest.fixture(scope="module")
def recognizer():
    with HandwritingRecognizer.open() as rec:
        yield rec


def line(x0: float, y0: float, x1: float, y1: float, n: int = 12) -> list[tuple[float, float]]:
    return [(x0 + (x1 - x0) * i / (n - 1), y0 + (y1 - y0) * i / (n - 1)) for i in range(n)]


# strokes as a finger writes them on a 400 x 400 pad, y downwards, in school order
ONE = [line(50, 200, 350, 200)]
TEN = [line(50, 200, 350, 200), line(200, 50, 200, 350)]
KING = [line(70, 70, 330, 70), line(90, 190, 310, 190), line(200, 70, 200, 320), line(50, 320, 350, 320)]
MOUTH = [line(80, 80, 80, 320), line(80, 80, 320, 80) + line(320, 80, 320, 320)[1:], line(80, 320, 320, 320)]


@pytest.mark.parametrize(("strokes", "char"), [(ONE, "一"), (TEN, "十"), (KING, "王"), (MOUTH, "口")])
def test_simple_characters_are_offered_near_the_top(recognizer, strokes, char):
    candidates = recognizer.candidates(strokes, width=400, height=400, limit=5)
    assert char in [c.text for c in candidates[:2]]  # 口 and its radical 囗 look alike
    assert len(candidates) == 5
    assert candidates[0].score >= candidates[1].score


def test_pad_size_does_not_matter(recognizer):
    small = [[(x / 4, y / 4) for x, y in stroke] for stroke in TEN]
    assert recognizer.candidates(small, width=100, height=100, limit=3)[0].text == "十"


def test_no_strokes_no_candidates(recognizer):
    assert recognizer.candidates([], 400, 400) == []
    assert recognizer.candidates([[]], 400, 400) == []
    assert recognizer.candidates(TEN, 400, 400, limit=0) == []


def test_points_off_the_pad_are_clamped(recognizer):
    wild = [line(-500, 200, 900, 200), line(200, -100, 200, 10_000)]
    assert recognizer.candidates(wild, 400, 400, limit=3)  # no crash, some answer


def test_threads_share_one_recognizer(recognizer):
    answers: list[str] = []
    def work() -> None:
        for _ in range(5):
            answers.append(recognizer.candidates(TEN, 400, 400, limit=1)[0].text)
    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["十"] * 20


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(HandwritingUnavailable):
        HandwritingRecognizer.open(tmp_path / "nothing.model")


def test_closed_recognizer_refuses():
    rec = HandwritingRecognizer.open()
    rec.close()
    with pytest.raises(HandwritingUnavailable):
        rec.candidates(TEN, 400, 400)
    rec.close()  # twice is fine


def test_a_frequency_prior_reranks_zinnias_best(recognizer):
    plain = [c.text for c in recognizer.candidates(TEN, 400, 400, limit=5)]
    with HandwritingRecognizer.open(frequencies={plain[3]: 10**9}) as biased:
        assert biased.candidates(TEN, 400, 400, limit=5)[0].text == plain[3]
    with HandwritingRecognizer.open(frequencies=character_frequencies()) as real:
        assert real.candidates(TEN, 400, 400, limit=5)[0].text == "十"
        assert len(real.candidates(KING, 400, 400, limit=3)) == 3


def test_a_deferred_model_is_mapped_at_the_first_strokes_and_answers_the_same(recognizer):
    with HandwritingRecognizer.open(deferred=True) as deferred:
        assert not deferred.model_mapped
        assert deferred.candidates([], 400, 400) == []  # nothing to recognise: still not mapped
        assert not deferred.model_mapped
        for strokes in (ONE, TEN, KING, MOUTH):
            assert deferred.candidates(strokes, 400, 400, 5) == recognizer.candidates(strokes, 400, 400, 5)
        assert deferred.model_mapped
    with pytest.raises(HandwritingUnavailable):
        deferred.candidates(TEN, 400, 400)


def test_a_deferred_model_that_cannot_open_gives_no_candidates_not_a_crash(tmp_path, caplog):
    broken = tmp_path / "broken.model"
    broken.write_bytes(b"not a zinnia model")
    with HandwritingRecognizer.open(model=broken, deferred=True) as deferred:  # the file is there
        assert deferred.candidates(TEN, 400, 400) == []
        assert deferred.candidates(TEN, 400, 400) == []
    assert "handwriting model unusable" in caplog.text
