"""Two checkouts' hall CPU per plain heartbeat in the connection's protocol, in alternate turns
(issue 11, "Speed").

``heartbeat_protocol_cpu.py`` run once per tree (this checkout and ``HBP_BASELINE_TREE``, e.g. a
``git archive`` of main), both processes started and warmed first, then made to measure one round
at a time in turns (A B B A A B ...), so that the two rounds of a pair run within a second of each
other: on a machine shared with other work the CPU per beat of one tree moves by a third between
runs a minute apart, much less within a pair. Per pair the ratio this ÷ baseline (CPU of the whole
process per beat); the median of the pairs' ratios and each tree's median and minimum round.
``HBP_ROUNDS`` pairs (default 15), every other ``heartbeat_protocol_cpu.py`` setting passed
through (``HBP_DB``, ``HBP_RATE``, ``HBP_N`` ...). Prints one JSON line last.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start(tree: str) -> subprocess.Popen:
    env = {**os.environ, "HBP_TREE": tree, "PYTHONPATH": tree, "HBP_TURNS": "1"}
    return subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "heartbeat_protocol_cpu.py")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)


def turn(process: subprocess.Popen) -> dict:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("go\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def ready(process: subprocess.Popen) -> None:
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        raise RuntimeError(f"benchmark process said {line!r}")


def main() -> int:
    os.environ.setdefault("HBP_ROUNDS", "15")
    pairs = int(os.environ["HBP_ROUNDS"])
    trees = {"this": str(ROOT), "baseline": os.environ["HBP_BASELINE_TREE"]}
    processes = {label: start(tree) for label, tree in trees.items()}
    rounds: dict[str, list[dict]] = {label: [] for label in trees}
    try:
        for process in processes.values():
            ready(process)
        for number in range(pairs):
            order = ["this", "baseline"] if number % 2 == 0 else ["baseline", "this"]
            for label in order:
                rounds[label].append(turn(processes[label]))
                if number < pairs - 1:
                    ready(processes[label])
            print(number, {label: round(rounds[label][-1]["cpu_ms_per_beat"], 4) for label in trees},
                  file=sys.stderr)
        for process in processes.values():
            assert process.stdout is not None
            final = json.loads(process.stdout.readlines()[-1])
            assert final["statuses"].keys() == {"200"}, final["statuses"]
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
            process.wait()
    result: dict = {"benchmark": "heartbeat_protocol_ab", "pairs": pairs, "load_average": os.getloadavg()[0]}
    for key in ("cpu_ms_per_beat", "loop_cpu_ms_per_beat", "writer_cpu_ms_per_beat", "db_cpu_ms_per_beat"):
        pairs_of = zip(rounds["this"], rounds["baseline"], strict=True)
        ratios = [mine[key] / theirs[key] for mine, theirs in pairs_of if theirs[key] > 0]
        result[key] = {label: {"median": round(statistics.median(r[key] for r in rounds[label]), 4),
                               "min": round(min(r[key] for r in rounds[label]), 4)} for label in trees}
        if ratios:
            result[key]["this_over_baseline"] = round(statistics.median(ratios), 3)
            if key == "cpu_ms_per_beat":
                result[key]["ratios"] = [round(ratio, 3) for ratio in ratios]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
