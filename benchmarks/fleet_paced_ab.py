"""Two halls' CPU per heartbeat at fixed rates, interleaved (issue 11, "Speed").

On a machine shared with other work, ``fleet.py``'s `max` rates move by 2× between rounds; the
CPU a hall spends per answer at a rate both can carry moves much less. This starts two
``county-hall serve --workers 2`` on PostgreSQL — this checkout's hall and the one in
BENCH_BASELINE_TREE (e.g. ``git archive main``) — enrols 200 kiosks on each, and runs paced,
heartbeats-only loads (``fleet.measure``) at each rate of BENCH_RATES (500,1000) on both, in
turns (the order reversed every other round), BENCH_ROUNDS (4) times BENCH_SECONDS (10).
Prints per hall and rate the medians (server CPU ms per answer, rate, p99) and the ratio of
the CPU medians; one JSON line last.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import fleet  # noqa: E402
from abuse import env_int, hall_on  # noqa: E402


def main() -> int:
    baseline = os.environ["BENCH_BASELINE_TREE"]
    rates = [float(rate) for rate in os.environ.get("BENCH_RATES", "500,1000").split(",")]
    rounds = env_int("BENCH_ROUNDS", 4)
    os.environ.setdefault("BENCH_SECONDS", "10")
    result: dict = {"benchmark": "fleet_paced_ab", "load_average": os.getloadavg()[0]}
    with contextlib.ExitStack() as stack:
        halls = {}
        for label, tree in (("hall", str(ROOT)), ("baseline", baseline)):
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="fleet-ab-"))
            with fleet._python_path(tree):
                hall = stack.enter_context(hall_on("postgres", 2, Path(tmp)))
            if isinstance(hall, str):
                print(json.dumps({**result, "skipped": hall}))
                return 0
            assert hall.pid is not None
            halls[label] = (hall, fleet.enrolled(hall, 200))
        for hall, raw in halls.values():  # every kiosk in the fleet cache first
            fleet.measure(hall.url, hall.pid, raw, 500.0, 0)
        runs: dict[str, list[dict]] = {f"{label}@{int(rate)}": [] for label in halls for rate in rates}
        for number in range(rounds):
            for rate in rates:
                for label in (list(halls) if number % 2 == 0 else list(reversed(halls))):
                    hall, raw = halls[label]
                    run = fleet.measure(hall.url, hall.pid, raw, rate, 0)
                    runs[f"{label}@{int(rate)}"].append(run)
                    print(label, rate, run["server_cpu_ms_per_answer"], run["heartbeats_per_s"],
                          run["p99_ms"],
                          file=sys.stderr)
    for name, mine in runs.items():
        result[name] = {key: statistics.median(run[key] or 0 for run in mine)
                        for key in ("server_cpu_ms_per_answer", "heartbeats_per_s", "p99_ms")}
        result[name]["cpu_rounds"] = [run["server_cpu_ms_per_answer"] for run in mine]
    for rate in rates:
        result[f"cpu_ratio_to_baseline@{int(rate)}"] = round(
            result[f"hall@{int(rate)}"]["server_cpu_ms_per_answer"]
            / result[f"baseline@{int(rate)}"]["server_cpu_ms_per_answer"], 3)
    result["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
