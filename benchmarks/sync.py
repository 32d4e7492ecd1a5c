"""The offline queue's speed and safety figures, in one run (issue 5).

1. ``seal_and_enqueue_median_ms``: median ms to seal and enqueue an application with five
   200 KB pages (goal <= 50), measured by ``benchmarks/enqueue.py`` (run here, not copied).
2. ``goodput_fraction``: attachment bytes delivered per second over the fault-injecting
   proxy (tests/chaos/proxy.py) at a capped bandwidth with a connection reset about every
   megabyte, as a fraction of the cap (goal >= 0.9); the real hall process behind it.
3. ``resent_bytes``: bytes sent twice after those resets, against the goal of at most
   one chunk per reset (``resent_bytes <= resets * largest_chunk``); bytes the hall had
   confirmed and that went up again must be 0.
4. ``kill9``: the tally of the kill -9 campaign (tests/chaos/harness.py), goal 0 lost,
   0 duplicated, 0 corrupt over >= 300 kills.

Environment (to run shorter): BENCH_RUNS (enqueue runs, 30), BENCH_CAP_KBPS (link cap,
1000), BENCH_MB (MB to upload for goodput, 4), BENCH_RESET_BYTES (1000000),
BENCH_LATENCY_MS (one way, 5), BENCH_KILLS (300). Prints one JSON line last.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from offline_queue.outbox import OfflineQueue  # noqa: E402
from offline_queue.sync import SyncEngine  # noqa: E402
from offline_queue.transport import ChunkSizer, HallClient  # noqa: E402
from tests.chaos.harness import enrolled_kiosk, kill9_campaign, make_application  # noqa: E402
from tests.chaos.proxy import FaultProxy, Faults  # noqa: E402
from tests.support.hall_process import HallProcess  # noqa: E402


def env(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def enqueue_figures() -> dict:
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "enqueue.py")], capture_output=True,
                            text=True, timeout=600, env={**os.environ, "BENCH_RUNS": os.environ.get(
                                "BENCH_RUNS", "30")})
    return json.loads(result.stdout.strip().splitlines()[-1])


def goodput_figures(hall: HallProcess, tmp: Path) -> dict:
    cap = env("BENCH_CAP_KBPS", 1000) * 1000 / 8
    total = int(env("BENCH_MB", 4) * 1_000_000)
    with FaultProxy(hall.port) as proxy:
        identity = enrolled_kiosk(proxy.url, hall.enrollment_code(), tmp / "goodput")
        queue = OfflineQueue(tmp / "goodput" / "outbox", budget_bytes=10**10)
        client = HallClient(identity, timeout_s=10, chunk_sizer=ChunkSizer(16 * 1024, 1024 * 1024))
        engine = SyncEngine(queue, client, backoff_base_s=0.05, backoff_max_s=0.5, rng=lambda: 1.0)
        pages, page_bytes = 4, total // 4
        app = make_application(identity.county, pages, page_bytes)
        queue.enqueue(app, identity.hall_seal_public_key)
        blob_bytes = sum(a.size for a in queue.attachments(app.id))
        proxy.faults = Faults(bandwidth_bps=cap, burst=16 * 1024, reset_every=int(env("BENCH_RESET_BYTES",
                                                                                       1_000_000)),
                              latency_s=env("BENCH_LATENCY_MS", 5) / 1000)
        started = time.monotonic()
        for _ in range(200):
            engine.run_once()
            if queue.summary().waiting == 0:
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        state = queue.get(app.id).state
        queue.close()
        stats = client.stats
        resets = proxy.stats.resets
    return {
        "cap_bytes_per_s": cap, "bytes": blob_bytes, "seconds": round(elapsed, 2), "state": state,
        "goodput_fraction": round(blob_bytes / elapsed / cap, 3), "resets": resets,
        "resent_bytes": stats.resent_bytes, "largest_chunk": stats.largest_chunk,
        "resent_per_reset": round(stats.resent_bytes / max(1, resets)),
        "confirmed_resent_bytes": stats.confirmed_resent_bytes, "chunks": stats.chunks,
        "failed_chunks": stats.failed_chunks,
    }


def kill9_figures(hall: HallProcess, tmp: Path) -> dict:
    kills = int(env("BENCH_KILLS", 300))
    with FaultProxy(hall.port) as proxy:
        data_dir = tmp / "kill9"
        identity = enrolled_kiosk(proxy.url, hall.enrollment_code(), data_dir)
        proxy.faults = Faults(bandwidth_bps=1_500_000, latency_s=0.002)
        tally = kill9_campaign(hall, data_dir, identity, kills=kills, seed=11, initial_apps=6,
                               deadline_s=max(900, kills * 4))
    return tally.as_dict()


def main() -> None:
    enqueue = enqueue_figures()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with HallProcess(tmp / "hall") as hall:
            goodput = goodput_figures(hall, tmp)
            print(json.dumps({"goodput": goodput}), flush=True)
            kill9 = kill9_figures(hall, tmp)
    goals = {
        "enqueue_median_le_50ms": enqueue["median_ms"] <= 50,
        "goodput_ge_0.9": goodput["goodput_fraction"] >= 0.9,
        "resent_le_one_chunk_per_reset": (
            goodput["resent_bytes"] <= goodput["resets"] * goodput["largest_chunk"]
            and goodput["confirmed_resent_bytes"] == 0),
        "kill9_clean": kill9["kills"] >= int(env("BENCH_KILLS", 300)) and kill9["lost"] == 0
        and kill9["duplicated"] == 0 and kill9["corrupt"] == 0 and not kill9["problems"],
    }
    print(json.dumps({
        "benchmark": "sync", "seal_and_enqueue_median_ms": enqueue["median_ms"],
        "goodput_fraction": goodput["goodput_fraction"], "goodput": goodput,
        "resent_bytes": goodput["resent_bytes"], "resets": goodput["resets"],
        "largest_chunk": goodput["largest_chunk"],
        "kill9": {k: kill9[k] for k in ("kills", "kills_while_enqueueing", "applications", "lost",
                                        "duplicated", "corrupt", "recovered_in_flight", "seconds",
                                        "problems")},
        "goals_met": goals, "all_goals_met": all(goals.values()),
    }))


if __name__ == "__main__":
    main()
