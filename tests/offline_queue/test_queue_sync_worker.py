"""The real SyncWorker against a real ``county-hall serve``: it must never die.

Issue 8: the worker's thread ended silently after the first pass that brought a status
back. Here it runs many passes with status changes, hall restarts, a listener that raises
and a pass that raises, and after each the thread is alive and the change arrived.
"""

from __future__ import annotations

import threading
import time

import pytest

from offline_queue.identity import enroll
from offline_queue.outbox import OfflineQueue
from offline_queue.store import SUBMITTED
from offline_queue.sync import SyncEngine, SyncWorker
from offline_queue.transport import HallClient
from tests.support.hall_process import HallProcess


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    with HallProcess(tmp_path_factory.mktemp("hall")) as process:
        yield process


class Recorder:
    """The worker's listener: records every event, and raises on some, as a buggy screen would."""

    def __init__(self, raise_on: tuple[str, ...] = ()) -> None:
        self.events: list[tuple[str, dict]] = []
        self.raise_on = raise_on
        self.raised = 0
        self._cond = threading.Condition()

    def __call__(self, name: str, payload: dict) -> None:
        with self._cond:
            self.events.append((name, payload))
            self._cond.notify_all()
        if name in self.raise_on:
            self.raised += 1
            raise RuntimeError(f"listener bug on {name}")

    def finished_reports(self) -> list:
        return [p["report"] for n, p in self.events if n == "sync_finished"]


def wait_until(worker: SyncWorker, predicate, timeout_s: float = 30.0) -> bool:
    """Wake the worker until ``predicate()`` holds (backoffs may delay a retry by a second or two)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        worker.wake()
        time.sleep(0.1)
    return predicate()


def assert_alive(worker: SyncWorker) -> None:
    assert worker.running, "the sync thread died"
    assert worker.loop.alive


@pytest.fixture
def kiosk_parts(hall, tmp_path):
    data = tmp_path / "kiosk"
    identity = enroll(hall.url, hall.enrollment_code(), data, name="worker test")
    queue = OfflineQueue(data, budget_bytes=50_000_000)
    engine = SyncEngine(queue, HallClient(identity, timeout_s=5), backoff_base_s=0.2, backoff_max_s=1,
                        rng=lambda: 0.0)
    yield identity, queue, engine
    queue.close()


def test_worker_survives_status_changes_restarts_and_raising_listeners(hall, kiosk_parts, make_app):
    identity, queue, engine = kiosk_parts
    listener = Recorder(raise_on=("status_changed", "progress"))
    worker = SyncWorker(engine, interval_s=60, on_event=listener)
    worker.start()
    statuses = ["accepted", "correction_needed", "completed", "rejected", "accepted", "completed"]
    try:
        for round_no, status in enumerate(statuses):
            app = make_app(county=identity.county, pages=1, device_id=identity.device_id)
            entry = queue.enqueue(app, identity.hall_seal_public_key)
            assert wait_until(worker, lambda e=entry: queue.get(e.id).state == SUBMITTED), f"round {round_no}"
            assert_alive(worker)

            if round_no % 2 == 1:  # the hall goes away and comes back between sending and status
                hall.stop()
                before = len(listener.finished_reports())
                assert wait_until(worker, lambda n=before: len(listener.finished_reports()) > n)
                assert "hall_unreachable" in listener.finished_reports()[-1].errors
                assert_alive(worker)
                hall.start()

            hall.set_status(entry.id, status, reason="材料不清晰" if status == "correction_needed" else "")
            wanted = ("status_changed", {"id": entry.id, "state": status})
            assert wait_until(worker, lambda w=wanted: w in listener.events), f"round {round_no}: {status}"
            assert queue.get(entry.id).state == status
            assert_alive(worker)
        assert listener.raised >= len(statuses)  # every status change hit the raising listener
        assert worker.loop.stats.crashes == 0  # a listener's bug is not even a failed pass
    finally:
        worker.stop()
    assert not worker.loop.alive


def test_worker_survives_a_pass_that_raises(hall, kiosk_parts, make_app):
    identity, queue, engine = kiosk_parts
    real_run_once = engine.run_once
    calls = {"n": 0}

    def flaky_run_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("the disk went away")
        return real_run_once(*args, **kwargs)

    engine.run_once = flaky_run_once
    listener = Recorder()
    worker = SyncWorker(engine, interval_s=60, on_event=listener)
    entry = queue.enqueue(make_app(county=identity.county, pages=1, device_id=identity.device_id),
                          identity.hall_seal_public_key)
    worker.start()
    try:
        assert wait_until(worker, lambda: len(listener.finished_reports()) >= 1)
        assert listener.finished_reports()[0].errors == ["internal_error"]
        assert_alive(worker)
        assert wait_until(worker, lambda: queue.get(entry.id).state == SUBMITTED)
        assert_alive(worker)
    finally:
        worker.stop()
