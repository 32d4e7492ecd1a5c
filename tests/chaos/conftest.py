"""A real hall process per module and kiosks enrolled through a fault-injecting proxy."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from offline_queue.outbox import OfflineQueue
from offline_queue.sync import SyncEngine
from offline_queue.transport import ChunkSizer, HallClient
from tests.chaos.harness import enrolled_kiosk, make_application
from tests.chaos.proxy import FaultProxy, Faults
from tests.support.hall_process import HallProcess


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    with HallProcess(tmp_path_factory.mktemp("hall")) as process:
        yield process


@pytest.fixture
def proxy(hall):
    with FaultProxy(hall.port) as p:
        yield p


class Kiosk:
    """An enrolled kiosk whose hall address is the proxy; in-process engine with fast backoff."""

    def __init__(self, hall, proxy, data_dir: Path, timeout_s: float = 3.0, **sizer) -> None:
        self.data_dir = data_dir
        self.identity = enrolled_kiosk(proxy.url, hall.enrollment_code(), data_dir)
        self.queue = OfflineQueue(data_dir / "outbox", budget_bytes=500_000_000)
        self.client = HallClient(self.identity, timeout_s=timeout_s, chunk_sizer=ChunkSizer(**sizer)
                                 if sizer else None)
        self.engine = SyncEngine(self.queue, self.client, backoff_base_s=0.01, backoff_max_s=0.05,
                                 rng=lambda: 1.0)
        self.n = 0

    def enqueue(self, pages: int = 2, page_bytes: int = 100_000):
        self.n += 1
        app = make_application(self.identity.county, pages, page_bytes, self.n,
                               device_id=self.identity.device_id)
        return self.queue.enqueue(app, self.identity.hall_seal_public_key)

    def sync_until_drained(self, max_passes: int = 200, deadline_s: float = 120) -> list:
        """Passes (bounded in count and time) until nothing waits; the reports."""
        reports, end = [], time.monotonic() + deadline_s
        for _ in range(max_passes):
            reports.append(self.engine.run_once())
            if self.queue.summary().waiting == 0 or time.monotonic() > end:
                break
            time.sleep(0.06)
        return reports


@pytest.fixture
def make_kiosk(hall, proxy, tmp_path):
    made = []

    def make(**kwargs) -> Kiosk:
        kiosk = Kiosk(hall, proxy, tmp_path / f"kiosk{len(made)}", **kwargs)
        made.append(kiosk)
        return kiosk

    yield make
    for kiosk in made:
        kiosk.queue.close()


__all__ = ["Faults", "Kiosk"]
