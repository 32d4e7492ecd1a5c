"""Handwriting candidates: latency per stroke and top-5 accuracy (issue 10).

Characters: the most frequent single characters of jieba's dictionary plus common
surname characters (names are what villagers write). Strokes are drawn from the glyphs
of Noto Sans CJK SC by ``glyph_strokes.strokes_for`` (a rough skeleton writer; see its
docstring). For each character the strokes are fed one by one, as a finger adds them,
and the recogniser is asked for candidates after each stroke: that is the latency a
villager feels. Goals: median candidates <= 50 ms, top-5 accuracy >= 0.9.

Environment: BENCH_CHARS (how many characters, 150). Prints one JSON line last.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from glyph_strokes import strokes_for  # noqa: E402

from kiosk.input.handwriting import HandwritingRecognizer  # noqa: E402

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许"
    "韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)


def test_characters(count: int) -> list[str]:
    import jieba

    dict_path = Path(jieba.__file__).parent / "dict.txt"
    singles: list[tuple[int, str]] = []
    for line in dict_path.read_text(encoding="utf-8").splitlines():
        word, freq, *_ = line.split(" ")
        if len(word) == 1 and "\u4e00" <= word <= "\u9fff":
            singles.append((int(freq), word))
    chars = list(dict.fromkeys(SURNAMES + "".join(w for _, w in sorted(singles, reverse=True))))
    return chars[:count]


def main() -> None:
    count = int(os.environ.get("BENCH_CHARS", "150"))
    started = time.perf_counter()
    recognizer = HandwritingRecognizer.open()
    open_ms = (time.perf_counter() - started) * 1000
    chars = test_characters(count)
    latencies: list[float] = []
    top1 = top5 = strokes_total = 0
    for char in chars:
        strokes = strokes_for(char)
        strokes_total += len(strokes)
        candidates = []
        for n in range(1, len(strokes) + 1):
            t0 = time.perf_counter()
            candidates = recognizer.candidates(strokes[:n], 400, 400, limit=10)
            latencies.append((time.perf_counter() - t0) * 1000)
        texts = [c.text for c in candidates]
        top1 += bool(texts) and texts[0] == char
        top5 += char in texts[:5]
    result = {
        "benchmark": "handwriting",
        "characters": len(chars),
        "strokes": strokes_total,
        "model_open_ms": round(open_ms, 1),
        "candidates_median_ms": round(statistics.median(latencies), 2),
        "candidates_p95_ms": round(sorted(latencies)[int(len(latencies) * 0.95)], 2),
        "top1_accuracy": round(top1 / len(chars), 3),
        "top5_accuracy": round(top5 / len(chars), 3),
        "goal_candidates_ms": 50,
        "goal_top5": 0.9,
        "test_strokes": "skeletons of Noto Sans CJK SC glyphs (benchmarks/glyph_strokes.py)",
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
