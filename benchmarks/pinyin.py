"""Pinyin candidates: load time, memory, latency per key (issue 10).

Types realistic inputs one letter at a time, as a villager taps them, and asks for the
first page of candidates (30) after every key: that is the latency a villager feels
(goal <= 50 ms median and p95). Memory is the resident set growth of loading the index
(read from /proc/self/statm before and after), and ``tracemalloc`` is not used because
it slows the load it measures.

Environment: BENCH_ROUNDS (how often the input list is typed, 3). Prints one JSON line last.
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

from kiosk.input.pinyin import PinyinIndex  # noqa: E402

INPUTS = ["zhangsan", "zs", "lisi", "wangxiaoming", "shenfenzheng", "sfz", "chushengdengji", "csdj",
          "nihao", "xi'an", "guangdongsheng", "meizhoushi", "cunweihui", "yanglaobaoxian", "zhangs",
          "huji", "xinshenger", "baobaodemingzi", "lvse", "zhongguorenmin"]


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    before = rss_mb()
    started = time.perf_counter()
    index = PinyinIndex.load()
    index.candidates("a")  # sorts the index once
    load_s = time.perf_counter() - started
    grown = rss_mb() - before
    latencies: list[float] = []
    for _ in range(rounds):
        for letters in INPUTS:
            for n in range(1, len(letters) + 1):
                t0 = time.perf_counter()
                index.candidates(letters[:n], limit=30)
                latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    load_avg = os.getloadavg()[0]
    print(json.dumps({
        "benchmark": "pinyin",
        "words": index.word_count,
        "load_s": round(load_s, 2),
        "memory_mb": round(grown, 1),
        "keys": len(latencies),
        "candidates_median_ms": round(statistics.median(latencies), 2),
        "candidates_p95_ms": round(latencies[int(len(latencies) * 0.95)], 2),
        "candidates_max_ms": round(latencies[-1], 2),
        "goal_candidates_ms": 50,
        "load_average": round(load_avg, 1),
    }))


if __name__ == "__main__":
    main()
