"""The engine's own rules: backoff arithmetic, and no entry left in flight by a bug."""

import pytest

from offline_queue.store import SEALED
from offline_queue.sync import SyncEngine


class Exploding:
    """A client whose every call hits a bug (not a hall: the engine must survive its own errors)."""

    def upload_blob(self, sha256, data, chunk_size=0, **kwargs):
        raise RuntimeError("bug")

    def submit_application(self, payload, idempotency_key):
        raise RuntimeError("bug")

    def all_status_changes(self, since):
        return [], since


@pytest.mark.parametrize(
    ("attempts", "rng", "expected"),
    [(0, 1.0, 2), (0, 0.0, 1), (3, 1.0, 16), (3, 0.0, 8), (8, 1.0, 300), (50, 0.5, 225)],
)
def test_backoff(queue, attempts, rng, expected):
    engine = SyncEngine(queue, Exploding(), backoff_base_s=2, backoff_max_s=300, rng=lambda: rng)
    assert engine.backoff_s(attempts) == pytest.approx(expected)


def test_a_bug_puts_the_entry_back_and_goes_on(queue, clock, make_app, hall_public):
    a = queue.enqueue(make_app(), hall_public)
    b = queue.enqueue(make_app(), hall_public)
    engine = SyncEngine(queue, Exploding(), clock=clock, rng=lambda: 1.0)
    report = engine.run_once()
    assert (report.sent, report.retried, report.errors) == (0, 2, ["internal_error", "internal_error"])
    for entry in (a, b):
        stored = queue.get(entry.id)
        assert (stored.state, stored.attempts, stored.reason) == (SEALED, 1, "internal_error")
        assert stored.next_attempt_at == clock() + 2
    assert engine.run_once().retried == 0
    clock.advance(2)
    assert engine.run_once().retried == 2
    assert queue.get(a.id).attempts == 2


def test_damaged_blob_fails_the_entry(queue, clock, make_app, hall_public):
    entry = queue.enqueue(make_app(), hall_public)
    sha = queue.attachments(entry.id)[0].sha256
    queue._blobs.path_for(sha).write_bytes(b"rotten")
    report = SyncEngine(queue, Exploding(), clock=clock).run_once()
    assert (report.failed, report.errors) == (1, ["blob_corrupt"])
    assert queue.get(entry.id).state == "failed"


def test_offline_queue_imports_no_kiosk():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "offline_queue"
    for path in root.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import kiosk" not in text and "from kiosk" not in text, path.name
        assert "kivy" not in text, path.name


class Busy(Exploding):
    def upload_blob(self, sha256, data, chunk_size=0, **kwargs):
        from offline_queue.errors import HallBusy

        raise HallBusy("429 slow_down", retry_after=120, status=429)


def test_retry_after_is_honoured(queue, clock, make_app, hall_public):
    a = queue.enqueue(make_app(), hall_public)
    b = queue.enqueue(make_app(), hall_public)
    report = SyncEngine(queue, Busy(), clock=clock, rng=lambda: 1.0).run_once()
    assert (report.retried, report.errors, report.status_updates) == (1, ["hall_busy"], 0)
    assert queue.get(a.id).next_attempt_at == clock() + 120
    assert queue.get(b.id).attempts == 0


class Unreachable(Exploding):
    """A hall that cannot be reached: every call fails as the transport reports it."""

    def all_status_changes(self, since):
        from offline_queue.errors import HallUnreachable

        raise HallUnreachable("connection refused")


def test_passes_space_out_while_the_hall_is_unreachable_and_come_back_when_it_answers(queue, clock):
    """An empty queue still pulls status each pass: an outage must not mean a pull every interval."""
    engine = SyncEngine(queue, Unreachable(), clock=clock, backoff_max_s=300, rng=lambda: 1.0)
    waits = []
    for _ in range(6):
        assert engine.run_once().errors == ["hall_unreachable"]
        waits.append(engine.next_pass_in_s(30))
    assert waits == [60, 120, 240, 300, 300, 300]  # doubling, capped by backoff_max_s
    engine._rng = lambda: 0.0
    assert engine.next_pass_in_s(30) == 150  # jittered down to half, never below the interval
    assert engine.next_pass_in_s(1000) == 1000

    engine.client = Exploding()  # the hall answers again (a pull with nothing new)
    assert engine.run_once().errors == []
    assert engine.next_pass_in_s(30) == 30
