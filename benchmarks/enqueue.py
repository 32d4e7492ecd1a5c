"""How long the confirm button takes to seal and queue an application, and whether that grows
with the queue.

Seals and enqueues applications with five 200 KB pages into an outbox (WAL,
synchronous=FULL, fsynced blobs) and reports the median, beside a baseline measured in
the same process: the bare AES-256-GCM encryption of the same bytes, so that the ratio
says what the durability and bookkeeping cost on this (shared, noisy) machine.

The curve: the same measurement at queue sizes 0 → ``BENCH_QUEUE_SIZE`` (default 10,000
waiting entries). Between the points the queue is filled with small applications through
the same ``enqueue``, with fsync switched off while filling only (durability costs time,
not state, and 10,000 fsynced fills take longer than this shared machine can spare).
Goal: the enqueue at the largest size within 1.2 × the first (``growth_ratio``, each
median divided by its own AES-GCM baseline; ``growth_ratio_raw`` without). At the largest
size it also times opening the outbox, ``summary()`` (what the home screen asks before
every villager) and ``kiosk queue status`` as a subprocess, each the median of three, and
enqueues alternately into the full outbox and an empty one (``growth_ratio_interleaved``:
the same moment's load for both, which a long fill on a shared machine does not give).

    BENCH_RUNS=30 BENCH_QUEUE_SIZE=10000 BENCH_POINTS=5 python benchmarks/enqueue.py

Prints one JSON line last.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: E402

from kiosk.applications import Application, PlainAttachment  # noqa: E402
from offline_queue.outbox import OfflineQueue  # noqa: E402

PAGES, PAGE_BYTES = 5, 200_000
RUNS = int(os.environ.get("BENCH_RUNS", "30"))  # enqueues timed on the empty queue
POINT_RUNS = int(os.environ.get("BENCH_POINT_RUNS", "7"))  # enqueues timed at each later point
QUEUE_SIZE = int(os.environ.get("BENCH_QUEUE_SIZE", "10000"))
POINTS = int(os.environ.get("BENCH_POINTS", "5"))
FILL_PAGE_BYTES = 1_000  # the filler applications: small, so 10,000 fit on any disk


def _application(i: int, pages: tuple[PlainAttachment, ...]) -> Application:
    app_id = str(uuid.uuid4())
    return Application(
        id=app_id, provisional_number=f"KBENCH-{i:06d}", service_code="GD-SAMPLE-001",
        # one tag throughout: its memory-hard lookup key costs once per visit, when the card is
        # read (benchmarks/applicant_lookup.py measures that), not per queued application
        county="441423", created_at="2026-11-28T04:00:00Z", visits_needed=0, applicant_tag="bench-villager",
        document={"id": app_id, "attachments": [{"material": "M1"}] * len(pages)}, attachments=pages,
    )


def _timed_enqueues(queue: OfflineQueue, hall_key: bytes, runs: int, start: int) -> tuple[list, list]:
    pages = tuple(PlainAttachment("M1", os.urandom(PAGE_BYTES), "image/jpeg") for _ in range(PAGES))
    enqueue_ms, baseline_ms = [], []
    for i in range(runs):
        app = _application(start + i, pages)
        began = time.perf_counter()
        queue.enqueue(app, hall_key)
        enqueue_ms.append((time.perf_counter() - began) * 1000)

        began = time.perf_counter()
        key = AESGCM(AESGCM.generate_key(bit_length=256))
        for page in pages:
            key.encrypt(os.urandom(12), page.data, None)
        baseline_ms.append((time.perf_counter() - began) * 1000)
    return enqueue_ms, baseline_ms


@contextlib.contextmanager
def _without_fsync(queue: OfflineQueue):
    """Fill faster: the same files and rows ``enqueue`` writes, not forced to the platter."""
    real_fsync = os.fsync
    os.fsync = lambda fd: None
    queue._store._db.execute("PRAGMA synchronous=OFF")
    try:
        yield
    finally:
        os.fsync = real_fsync
        queue._store._db.execute("PRAGMA synchronous=FULL")


def _interleaved(full: OfflineQueue, empty: OfflineQueue, hall_key: bytes, start: int
                 ) -> tuple[list[float], list[float]]:
    full_ms, empty_ms = [], []
    for i in range(POINT_RUNS):
        full_ms.extend(_timed_enqueues(full, hall_key, 1, start + 2 * i)[0])
        empty_ms.extend(_timed_enqueues(empty, hall_key, 1, start + 2 * i + 1)[0])
    empty.close()
    return full_ms, empty_ms


def _median_ms(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(times), 1)


def _queue_status_cli(data_dir: Path) -> None:
    """``kiosk queue status`` against the outbox in ``data_dir/outbox``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "kiosk", "queue", "status", "--data-dir", str(data_dir)],
                   check=True, capture_output=True, env=env, cwd=ROOT, timeout=120)


def main() -> None:
    hall_key = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    filler_pages = tuple(PlainAttachment("M1", os.urandom(FILL_PAGE_BYTES), "image/jpeg")
                         for _ in range(PAGES))
    sizes = sorted({round(QUEUE_SIZE * k / (POINTS - 1)) for k in range(POINTS)}) if POINTS > 1 else [0]
    curve = []
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        outbox = data_dir / "outbox"
        queue = OfflineQueue(outbox, budget_bytes=10**12)
        status_empty_ms = _median_ms(lambda: _queue_status_cli(data_dir))  # start-up and imports alone
        queued = 0
        first_enqueue, first_base = _timed_enqueues(queue, hall_key, RUNS, 0)
        queued += RUNS
        curve.append({"queued": 0, "median_ms": round(statistics.median(first_enqueue), 2),
                      "baseline_ms": round(statistics.median(first_base), 2)})
        fill_s = 0.0
        for size in sizes[1:]:
            began = time.perf_counter()
            with _without_fsync(queue):
                while queued < size:
                    queue.enqueue(_application(queued, filler_pages), hall_key)
                    queued += 1
            fill_s += time.perf_counter() - began
            point, base = _timed_enqueues(queue, hall_key, POINT_RUNS, queued)
            curve.append({"queued": queued, "median_ms": round(statistics.median(point), 2),
                          "baseline_ms": round(statistics.median(base), 2)})
            queued += POINT_RUNS
        # the same load for both: at the largest size, enqueue alternately into the full outbox
        # and into an empty one (a shared machine's noise drifts over a long fill)
        empty = OfflineQueue(data_dir / "empty", budget_bytes=10**12)
        full_ms, empty_ms = _interleaved(queue, empty, hall_key, queued)
        queued += len(full_ms)
        summary_ms = _median_ms(queue.summary)
        queue.close()
        open_ms = _median_ms(lambda: OfflineQueue(outbox, budget_bytes=10**12).close())
        status_ms = _median_ms(lambda: _queue_status_cli(data_dir))
    median, base = statistics.median(first_enqueue), statistics.median(first_base)
    # the last point against the first, each relative to its own baseline (the machine is shared)
    last = curve[-1]
    growth = (last["median_ms"] / last["baseline_ms"]) / (curve[0]["median_ms"] / curve[0]["baseline_ms"])
    print(json.dumps({
        "benchmark": "seal_and_enqueue", "pages": PAGES, "page_bytes": PAGE_BYTES, "runs": RUNS,
        "median_ms": round(median, 2), "p90_ms": round(sorted(first_enqueue)[int(RUNS * 0.9) - 1], 2),
        "baseline_aes_gcm_median_ms": round(base, 2), "ratio_to_baseline": round(median / base, 1),
        "curve": curve, "queue_size": queued,
        "growth_ratio": round(growth, 2),
        "growth_ratio_raw": round(last["median_ms"] / curve[0]["median_ms"], 2),
        "interleaved_full_median_ms": round(statistics.median(full_ms), 2),
        "interleaved_empty_median_ms": round(statistics.median(empty_ms), 2),
        "growth_ratio_interleaved": round(statistics.median(full_ms) / statistics.median(empty_ms), 2),
        "growth_goal": 1.2, "growth_ok": growth <= 1.2,
        "open_ms_at_size": open_ms, "summary_ms_at_size": summary_ms,
        "queue_status_cli_ms_at_size": status_ms, "queue_status_cli_ms_empty": status_empty_ms,
        "fill_s": round(fill_s, 1),
    }))


if __name__ == "__main__":
    main()
