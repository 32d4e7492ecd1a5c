"""The engines load off the calling thread, and a missing one leaves the other working."""

from __future__ import annotations

import threading
from pathlib import Path

from kiosk.input.engines import InputEngines
from kiosk.input.handwriting import HandwritingRecognizer
from kiosk.input.pinyin import PinyinIndex


def small_index() -> PinyinIndex:
    return PinyinIndex.load([("张三", 50), ("张", 700)])


def test_both_engines_load_on_their_own_thread():
    heard: list[str] = []
    engines = InputEngines(on_ready=lambda e: heard.append(threading.current_thread().name),
                           load_pinyin=small_index)
    engines.start()
    try:
        assert engines.ready.wait(30)
        assert engines.pinyin is not None and engines.handwriting is not None
        assert engines.problems == {}
        assert heard == ["input-engines"]
        assert engines.pinyin.candidates("zs")[0].text == "张三"
    finally:
        engines.stop()


def test_a_missing_model_leaves_pinyin_working(tmp_path: Path):
    engines = InputEngines(load_pinyin=small_index,
                           load_handwriting=lambda: HandwritingRecognizer.open(tmp_path / "none.model"))
    engines.start()
    try:
        assert engines.ready.wait(30)
        assert engines.handwriting is None
        assert engines.problems == {"handwriting": "input.handwriting_unavailable"}
        assert engines.pinyin is not None
    finally:
        engines.stop()
