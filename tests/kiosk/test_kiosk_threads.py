"""The kiosk's own threads (card wait, PC/SC watch, one-shot jobs) outlive a failing pass.

Each test checks that the thread is alive right after the failure, not only that it stops
when asked: a dead thread is also "not running after stop()".
"""

from __future__ import annotations

import threading
import time

import pytest

from hardware.errors import CardReadError
from hardware.sample_cards import ELDERLY_VILLAGER
from kiosk import staff as staff_module
from kiosk.jobs import OneShotJobs
from kiosk.staff import SmartCardDesk
from kiosk.steps import identify as identify_module
from tests.screens.test_service import FakeReader, Recorder, make_service


def wait_until(predicate, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def test_card_wait_is_alive_after_failed_reads_and_ends_after_the_card(tmp_path, clock, monkeypatch):
    monkeypatch.setattr(identify_module, "CARD_RETRY_S", 0.05)
    gate = threading.Event()

    class GatedReader(FakeReader):
        def read_card(self, timeout):
            if self.calls == 2:
                gate.wait(5)  # hold the loop after two failures, while the test looks at it
            return super().read_card(timeout)

    reader = GatedReader(CardReadError("checksum"), RuntimeError("driver bug"), ELDERLY_VILLAGER)
    service = make_service(tmp_path, clock, reader=reader)
    recorder = Recorder()
    service.bind(recorder)
    service.steps.home.start_application()
    service.steps.identify.wait_for_card()
    wait_until(lambda: len([e for e, _ in recorder.events if e == "card_failed"]) == 2, what="two failures")
    identify = service.steps.identify
    assert identify.waiting_for_card and identify._card_loop.alive  # still waiting after both failures
    gate.set()
    recorder.wait("card_read")
    wait_until(lambda: not service.steps.identify._card_loop.alive, what="the loop to end after the card")
    assert service.visit.card is not None


def test_pcsc_watch_is_alive_after_a_reader_error_and_a_listener_that_raises(monkeypatch):
    monkeypatch.setattr(staff_module, "ERROR_BACKOFF_S", 0.01)
    reader = FakeReader(CardReadError("gone"), "first card", "second card")
    errors, cards = [], []

    def on_card(card):
        cards.append(card)
        if card == "first card":
            raise ValueError("a listener bug")

    desk = SmartCardDesk(reader)
    desk.watch(on_card, errors.append)
    try:
        wait_until(lambda: cards == ["first card", "second card"], what="both cards")
        assert len(errors) == 1 and isinstance(errors[0], CardReadError)
        assert desk.loop.stats.crashes == 1 and desk.loop.stats.last_crash == "ValueError"
        assert desk.running and desk.loop.alive
    finally:
        desk.stop()
    assert not desk.loop.alive


def test_one_shot_jobs_go_on_after_a_job_that_raises():
    jobs = OneShotJobs(workers=1)
    done = []
    try:
        jobs.submit("bad job", lambda: 1 / 0).result(5)
        jobs.submit("good job", lambda: done.append(1)).result(5)
    finally:
        jobs.close(wait=True)
    assert done == [1] and jobs.failures == 1


@pytest.fixture
def clock():
    from tests.support.clock import ManualClock

    return ManualClock()
