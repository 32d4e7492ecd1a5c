"""The big fuzzing run: the SAM frame parser and the text-block decoder, ≥ 10⁵ cases.

The same hypothesis properties as ``tests/hardware/test_fuzz.py`` (which runs a few
thousand in ``make test``), here ``FUZZ_CASES`` in all (default 100 000, split between the
two properties and over the CPUs, each worker with its own seed). A failure prints
hypothesis' shrunk example and exits 1. Prints one JSON line last.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOTAL = int(os.environ.get("FUZZ_CASES", "100000"))
PARSER_SHARE = 0.5


def run(job: tuple[str, int, int]) -> tuple[str, int, float, str]:
    name, cases, seed_value = job
    from hypothesis import HealthCheck, given, seed, settings

    from tests.hardware.fuzz_targets import chunk_sizes, decode_block, parse_stream, stream_bytes, text_blocks

    config = settings(max_examples=cases, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
    if name == "frame_parser":
        @seed(seed_value)
        @config
        @given(stream_bytes, chunk_sizes)
        def prop(data, sizes):
            parse_stream(data, sizes)
    else:
        @seed(seed_value)
        @config
        @given(text_blocks)
        def prop(block):
            decode_block(block)
    started = time.perf_counter()
    try:
        prop()
        error = ""
    except Exception as exc:  # a found bug: report it, do not crash the pool
        error = f"{type(exc).__name__}: {exc}"[:2000]
    return name, cases, time.perf_counter() - started, error


def main() -> int:
    workers = max(1, min(8, os.cpu_count() or 1))
    parser_cases = int(TOTAL * PARSER_SHARE)
    jobs = []
    for name, cases in (("frame_parser", parser_cases), ("text_block", TOTAL - parser_cases)):
        share = -(-cases // workers)
        for i in range(workers):
            jobs.append((name, min(share, cases - i * share), 1000 + i))
    jobs = [j for j in jobs if j[1] > 0]
    started = time.perf_counter()
    with multiprocessing.Pool(workers) as pool:
        results = pool.map(run, jobs, chunksize=1)
    wall = time.perf_counter() - started
    cases = {"frame_parser": 0, "text_block": 0}
    errors = []
    for name, n, _, error in results:
        cases[name] += n
        if error:
            errors.append({"target": name, "error": error})
            print(f"{name}: {error}", file=sys.stderr)
    result = {"benchmark": "fuzz_idcard", "cases": sum(cases.values()),
              "frame_parser_cases": cases["frame_parser"],
              "text_block_cases": cases["text_block"], "workers": workers, "seconds": round(wall, 1),
              "failures": len(errors)}
    print(json.dumps(result))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
