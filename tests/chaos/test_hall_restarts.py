"""The hall goes down (SIGKILL) mid-upload and mid-submit, and comes back on the same port."""

from __future__ import annotations

import threading
import time

from tests.chaos.harness import Tally, check_delivery
from tests.chaos.proxy import Faults


def _kill_hall(hall) -> None:
    process = hall._process
    if process is not None and process.poll() is None:
        process.kill()
        process.wait(timeout=10)
    hall.stop()


def test_hall_killed_mid_upload_then_restarted(hall, proxy, make_kiosk):
    kiosk = make_kiosk()
    ids = [kiosk.enqueue(pages=2, page_bytes=600_000).id for _ in range(2)]
    proxy.faults = Faults(bandwidth_bps=800_000)  # ~3 s of uploads
    killed = threading.Event()

    def killer() -> None:
        deadline = time.monotonic() + 20
        while proxy.stats.up_bytes < 500_000 and time.monotonic() < deadline:
            time.sleep(0.02)
        _kill_hall(hall)
        killed.set()

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    first = kiosk.engine.run_once()
    thread.join(30)
    assert killed.is_set()
    assert first.sent < 2 and "hall_unreachable" in first.errors
    hall.start()
    proxy.faults = Faults()
    kiosk.sync_until_drained()
    tally = Tally()
    check_delivery(hall, kiosk.data_dir, kiosk.identity.device_id, set(ids), tally)
    assert (tally.lost, tally.duplicated, tally.corrupt, tally.problems) == (0, 0, 0, [])


def test_hall_killed_mid_submit_then_restarted(hall, proxy, make_kiosk):
    """The post reached the hall, which dies before answering (it may or may not have committed)."""
    kiosk = make_kiosk()
    ids = [kiosk.enqueue(pages=1, page_bytes=50_000).id for _ in range(3)]
    kills = []

    def on_request(method: str, path: str):
        if method == "POST" and path == "/api/v1/applications" and len(kills) < 2:
            kills.append(path)
            return lambda: (time.sleep(0.05 * len(kills)), _kill_hall(hall))
        return None

    proxy.on_request = on_request
    for _ in range(2):
        report = kiosk.engine.run_once()
        assert "hall_unreachable" in report.errors
        hall.start()
        time.sleep(0.1)
    proxy.on_request = None
    kiosk.sync_until_drained()
    assert len(kills) == 2
    tally = Tally()
    check_delivery(hall, kiosk.data_dir, kiosk.identity.device_id, set(ids), tally)
    assert (tally.lost, tally.duplicated, tally.corrupt, tally.problems) == (0, 0, 0, [])
