"""How long the confirm button takes to seal and queue an application.

Seals and enqueues applications with five 200 KB pages into a fresh outbox (WAL,
synchronous=FULL, fsynced blobs) and reports the median, beside a baseline measured in
the same process: the bare AES-256-GCM encryption of the same bytes, so that the ratio
says what the durability and bookkeeping cost on this (shared, noisy) machine.

Prints one JSON line last.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: E402

from kiosk.applications import Application, PlainAttachment  # noqa: E402
from offline_queue.outbox import OfflineQueue  # noqa: E402

PAGES, PAGE_BYTES, RUNS = 5, 200_000, int(os.environ.get("BENCH_RUNS", "30"))




def main() -> None:
    hall_key = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    pages = tuple(PlainAttachment("M1", os.urandom(PAGE_BYTES), "image/jpeg") for _ in range(PAGES))
    enqueue_ms, baseline_ms = [], []
    with tempfile.TemporaryDirectory() as tmp:
        queue = OfflineQueue(Path(tmp), budget_bytes=10**10)
        for i in range(RUNS):
            app_id = str(uuid.uuid4())
            app = Application(
                id=app_id, provisional_number=f"KBENCH-{i:04d}", service_code="GD-SAMPLE-001",
                county="441423", created_at="2026-11-28T04:00:00Z", visits_needed=0, applicant_tag="bench",
                document={"id": app_id, "attachments": [{"material": "M1"}] * PAGES}, attachments=pages,
            )
            start = time.perf_counter()
            queue.enqueue(app, hall_key)
            enqueue_ms.append((time.perf_counter() - start) * 1000)

            start = time.perf_counter()
            key = AESGCM(AESGCM.generate_key(bit_length=256))
            for page in pages:
                key.encrypt(os.urandom(12), page.data, None)
            baseline_ms.append((time.perf_counter() - start) * 1000)
        queue.close()
    median, base = statistics.median(enqueue_ms), statistics.median(baseline_ms)
    print(json.dumps({
        "benchmark": "seal_and_enqueue", "pages": PAGES, "page_bytes": PAGE_BYTES, "runs": RUNS,
        "median_ms": round(median, 2), "p90_ms": round(sorted(enqueue_ms)[int(RUNS * 0.9) - 1], 2),
        "baseline_aes_gcm_median_ms": round(base, 2), "ratio_to_baseline": round(median / base, 1),
    }))


if __name__ == "__main__":
    main()
