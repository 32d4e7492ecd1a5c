"""The sync client against the real reference hall (``county-hall serve`` in a subprocess)."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from offline_queue.errors import EnrolmentFailed, HallUnreachable, OffsetMismatch
from offline_queue.identity import DeviceIdentity, enroll
from offline_queue.outbox import OfflineQueue
from offline_queue.store import ACCEPTED, CORRECTION_NEEDED, FAILED, SEALED, SUBMITTED
from offline_queue.sync import SyncEngine, SyncWorker
from offline_queue.transport import HallClient
from tests.support.hall_process import HallProcess


class RealTimeClock:
    """Wall time plus a jump the test controls (the hall checks timestamps against its clock)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    with HallProcess(tmp_path_factory.mktemp("hall")) as process:
        yield process


class Kiosk:
    """One enrolled kiosk: identity, queue, client and engine over one data directory."""

    def __init__(self, hall, data_dir, rng=lambda: 0.0) -> None:
        self.clock = RealTimeClock()
        self.identity = enroll(hall.url, hall.enrollment_code(), data_dir, name="test kiosk")
        self.queue = OfflineQueue(data_dir, budget_bytes=50_000_000, clock=self.clock)
        self.client = HallClient(self.identity, timeout_s=5)
        self.engine = SyncEngine(self.queue, self.client, clock=self.clock, rng=rng)

    def enqueue(self, make_app, **kwargs):
        return self.queue.enqueue(
            make_app(county=self.identity.county, device_id=self.identity.device_id, **kwargs),
            self.identity.hall_seal_public_key,
        )


@pytest.fixture
def kiosk(hall, tmp_path):
    k = Kiosk(hall, tmp_path / "kiosk")
    yield k
    k.queue.close()


def _on_hall(hall, ids) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {i: [] for i in ids}
    for app in hall.applications():
        if app["id"] in found:
            found[app["id"]].append(app)
    return found


def test_enrolment(hall, tmp_path):
    code = hall.enrollment_code()
    identity = enroll(hall.url, code, tmp_path / "a", name="village 7")
    assert identity.device_id
    assert len(identity.hall_seal_public_key) == 32
    assert DeviceIdentity.load(tmp_path / "a") == identity
    with pytest.raises(EnrolmentFailed) as caught:
        enroll(hall.url, code, tmp_path / "b")
    assert caught.value.code == "invalid_code"
    assert not DeviceIdentity.is_enrolled(tmp_path / "b")


def test_sends_each_application_exactly_once(hall, kiosk, make_app):
    first = kiosk.enqueue(make_app, pages=2, page_bytes=600_000)  # 3 chunks for the first page
    second = kiosk.enqueue(make_app, pages=1, page_bytes=5_000)
    progress: list[tuple[int, int]] = []
    report = kiosk.engine.run_once(on_progress=lambda done, total: progress.append((done, total)))
    assert (report.sent, report.failed, report.retried, report.errors) == (2, 0, 0, [])
    assert progress == [(1, 2), (2, 2)]
    on_hall = _on_hall(hall, [first.id, second.id])
    for entry in (first, second):
        assert len(on_hall[entry.id]) == 1
        remote = on_hall[entry.id][0]
        local = kiosk.queue.get(entry.id)
        assert local.state == SUBMITTED
        assert local.official_number == remote["official_number"]
        assert remote["provisional_number"] == entry.provisional_number
        assert [a["sha256"] for a in remote["attachments"]] == [
            a.sha256 for a in kiosk.queue.attachments(entry.id)
        ]
        assert all(a["verified"] for a in remote["attachments"])
    again = kiosk.engine.run_once()
    assert (again.sent, again.failed, again.retried) == (0, 0, 0)
    assert all(len(v) == 1 for v in _on_hall(hall, [first.id, second.id]).values())
    # Issue 12: no official number until a clerk accepts; then it comes by the feed and is kept.
    assert kiosk.queue.get(first.id).official_number is None
    hall.set_status(first.id, "accepted")
    kiosk.engine.run_once()
    official = _on_hall(hall, [first.id])[first.id][0]["official_number"]
    assert official and kiosk.queue.get(first.id).official_number == official
    assert kiosk.queue.get(second.id).official_number is None


class LosesAnswers:
    """The real client, but the first answer to each post is lost on the way back."""

    def __init__(self, client: HallClient) -> None:
        self._client = client
        self.lost: set[str] = set()

    def __getattr__(self, name):
        return getattr(self._client, name)

    def submit_application(self, payload, idempotency_key):
        result = self._client.submit_application(payload, idempotency_key)
        if idempotency_key not in self.lost:
            self.lost.add(idempotency_key)
            raise HallUnreachable("read timed out")
        return result


def test_lost_answer_is_retried_without_a_duplicate(hall, kiosk, make_app):
    entry = kiosk.enqueue(make_app)
    kiosk.engine.client = LosesAnswers(kiosk.client)
    report = kiosk.engine.run_once()
    assert (report.sent, report.retried, report.errors) == (0, 1, ["hall_unreachable"])
    stored = kiosk.queue.get(entry.id)
    assert (stored.state, stored.attempts) == (SEALED, 1)
    kiosk.clock.advance(10)
    report = kiosk.engine.run_once()
    assert report.sent == 1
    remote = _on_hall(hall, [entry.id])[entry.id]
    assert len(remote) == 1
    assert kiosk.queue.get(entry.id).official_number == remote[0]["official_number"]


def test_hall_down_is_transient_and_retried_later(tmp_path, make_app):
    with HallProcess(tmp_path / "hall") as hall:
        kiosk = Kiosk(hall, tmp_path / "kiosk", rng=lambda: 1.0)  # top of the jitter: base * 2**0
        entry = kiosk.enqueue(make_app)
        hall.stop()
        before = kiosk.clock()
        report = kiosk.engine.run_once()
        after = kiosk.clock()
        assert (report.sent, report.retried, report.errors) == (0, 1, ["hall_unreachable"])
        stored = kiosk.queue.get(entry.id)
        assert stored.state == SEALED
        assert stored.attempts == 1
        assert before + 2 <= stored.next_attempt_at <= after + 2
        assert kiosk.engine.run_once().retried == 0  # not due yet
        hall.start()
        kiosk.clock.advance(3)
        report = kiosk.engine.run_once()
        assert (report.sent, report.errors) == (1, [])
        assert len(_on_hall(hall, [entry.id])[entry.id]) == 1
        kiosk.queue.close()


def test_status_changes_come_back(hall, kiosk, make_app):
    a = kiosk.enqueue(make_app)
    b = kiosk.enqueue(make_app)
    assert kiosk.engine.run_once().sent == 2
    hall.set_status(a.id, "accepted")
    hall.set_status(b.id, "correction_needed", reason="ID copy blurred")
    report = kiosk.engine.run_once()
    assert report.status_updates == 2
    assert sorted(report.changed) == sorted([(a.id, ACCEPTED), (b.id, CORRECTION_NEEDED)])
    assert kiosk.queue.get(a.id).state == ACCEPTED
    corrected = kiosk.queue.get(b.id)
    assert (corrected.state, corrected.reason, corrected.reason_sealed) == (CORRECTION_NEEDED, "", True)
    tag = make_app().applicant_tag  # the same villager: the card opens the sealed reason

    def reason_by_card() -> str:
        return {e.id: e for e in kiosk.queue.by_applicant(tag)}[b.id].reason

    assert reason_by_card() == "ID copy blurred"
    assert kiosk.queue.sync_cursor
    assert kiosk.engine.run_once().status_updates == 0
    kiosk.queue.set_sync_cursor("0")  # replaying every change is harmless
    assert kiosk.engine.run_once().status_updates == 0
    assert reason_by_card() == "ID copy blurred"


def test_permanent_refusal_fails_without_blocking_the_next(hall, kiosk, make_app):
    wrong_key = (
        X25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    bad = kiosk.queue.enqueue(make_app(county=kiosk.identity.county, device_id=kiosk.identity.device_id),
                              wrong_key)
    good = kiosk.enqueue(make_app)
    report = kiosk.engine.run_once()
    assert (report.sent, report.failed, report.retried) == (1, 1, 0)
    failed = kiosk.queue.get(bad.id)
    assert failed.state == FAILED
    assert failed.reason  # the hall's code and detail
    assert kiosk.queue.get(good.id).state == SUBMITTED
    assert _on_hall(hall, [bad.id])[bad.id] == []
    assert kiosk.engine.run_once().failed == 0  # failed entries are not tried again


def test_attachment_the_hall_lacks_is_uploaded_again(hall, kiosk, make_app):
    entry = kiosk.enqueue(make_app, pages=2)
    for att in kiosk.queue.attachments(entry.id):
        kiosk.queue.mark_uploaded(entry.id, att.sha256)  # the kiosk wrongly believes they are there
    report = kiosk.engine.run_once()
    assert report.sent == 1
    remote = _on_hall(hall, [entry.id])[entry.id][0]
    assert len(remote["attachments"]) == 2 and all(a["verified"] for a in remote["attachments"])


class CountingSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.patched = 0

    def request(self, method, url, *args, **kwargs):
        if method == "PATCH":
            self.patched += len(kwargs.get("data") or b"")
        return super().request(method, url, *args, **kwargs)


def test_upload_resumes_from_the_halls_offset(hall, tmp_path):
    identity = enroll(hall.url, hall.enrollment_code(), tmp_path)
    session = CountingSession()
    client = HallClient(identity, session=session)
    import hashlib
    import os

    data = os.urandom(300_000)
    sha = hashlib.sha256(data).hexdigest()
    state = client.create_upload(sha, len(data))
    assert state.offset == 0 and not state.complete
    client.upload_chunk(state.upload_id, 0, data[:100_000])
    with pytest.raises(OffsetMismatch):
        client.upload_chunk(state.upload_id, 50_000, data[50_000:60_000])
    assert client.upload_offset(state.upload_id) == 100_000
    assert client.create_upload(sha, len(data)).offset == 100_000  # same resource, not a second one
    session.patched = 0
    client.upload_blob(sha, data, chunk_size=64 * 1024)
    assert session.patched == 200_000
    again = client.create_upload(sha, len(data))
    assert again.complete and again.upload_id == state.upload_id


def test_worker_announces_events_without_personal_data(hall, kiosk, make_app):
    events: list[tuple[str, dict]] = []
    finished = threading.Event()

    def on_event(name, payload):
        events.append((name, payload))
        if name == "sync_finished":
            finished.set()

    entry = kiosk.enqueue(make_app)
    worker = SyncWorker(kiosk.engine, interval_s=60, on_event=on_event)
    worker.start()
    try:
        assert finished.wait(20)
        names = [n for n, _ in events]
        assert names[0] == "sync_started" and names[-1] == "sync_finished"
        progress = [p for n, p in events if n == "progress"]
        assert any(p["done"] == 1 and p["total"] == 1 for p in progress)
        assert progress[-1]["bytes_done"] == progress[-1]["bytes_total"] > 0
        assert events[-1][1]["report"].sent == 1
        finished.clear()
        hall.set_status(entry.id, "completed")
        worker.wake()
        assert finished.wait(20)
        assert ("status_changed", {"id": entry.id, "state": "completed"}) in events
    finally:
        worker.stop()
    assert not worker.running
    text = repr(events)
    assert "44142319800101123X" not in text and "张三丰" not in text


def test_revoked_device_stops_syncing(hall, kiosk, make_app):
    entry = kiosk.enqueue(make_app)
    hall.revoke(kiosk.identity.device_id)
    events: list[str] = []
    worker = SyncWorker(kiosk.engine, interval_s=0.05, on_event=lambda name, payload: events.append(name))
    worker.start()
    worker.join(10)
    assert not worker.running  # it stopped by itself instead of hammering the hall
    assert worker.last_report.errors == ["device_revoked"]
    assert worker.last_report.revoked
    stored = kiosk.queue.get(entry.id)
    assert (stored.state, stored.attempts) == (SEALED, 0)  # kept for when the device is sorted out
    assert events.count("sync_finished") == 1


def test_skewed_clock_is_tried_once_more_then_reported(hall, kiosk, make_app):
    from offline_queue.errors import HallAuthRefused

    skewed = HallClient(kiosk.identity, clock=lambda: time.time() - 3600)
    with pytest.raises(HallAuthRefused) as caught:
        skewed.status_changes(None)
    assert caught.value.code == "stale_timestamp"
    entry = kiosk.enqueue(make_app)
    engine = SyncEngine(kiosk.queue, skewed, clock=kiosk.clock)
    report = engine.run_once()
    assert (report.sent, report.retried, report.errors) == (0, 1, ["stale_timestamp"])
    assert kiosk.queue.get(entry.id).state == SEALED


def test_unreachable_hall_ends_the_pass_early(tmp_path, hall, make_app):
    kiosk = Kiosk(hall, tmp_path / "k")
    first = kiosk.enqueue(make_app)
    second = kiosk.enqueue(make_app)
    identity = kiosk.identity
    from dataclasses import replace

    from tests.support.hall_process import free_port

    kiosk.engine.client = HallClient(
        replace(identity, hall_url=f"http://127.0.0.1:{free_port()}"), timeout_s=2
    )
    report = kiosk.engine.run_once()
    assert (report.retried, report.errors) == (1, ["hall_unreachable"])
    assert kiosk.queue.get(first.id).attempts == 1
    assert kiosk.queue.get(second.id).attempts == 0  # not tried: the hall is away for everyone
    kiosk.queue.close()


class LoggingSession(requests.Session):
    """Notes each request's method, Content-Type and body size. ``old_hall``: the create with its
    first bytes goes out labelled as JSON (the headers are not signed), so this hall answers it as
    a hall without that form answers it: the JSON create's 422 for a body that is not JSON."""

    def __init__(self, old_hall: bool = False) -> None:
        super().__init__()
        self.old_hall = old_hall
        self.sent: list[tuple[str, str, int]] = []

    def request(self, method, url, *args, **kwargs):
        headers = dict(kwargs.get("headers") or {})
        first_bytes = method == "POST" and headers.get("Content-Type") == "application/offset+octet-stream"
        if self.old_hall and first_bytes:
            headers["Content-Type"] = "application/json"
            kwargs["headers"] = headers
        data = kwargs.get("data")
        self.sent.append((method, headers.get("Content-Type", ""), len(data) if data is not None else 0))
        return super().request(method, url, *args, **kwargs)


def _blob(size: int) -> tuple[bytes, str]:
    import hashlib
    import os

    data = os.urandom(size)
    return data, hashlib.sha256(data).hexdigest()


def test_a_small_box_goes_up_in_one_request(hall, tmp_path):
    identity = enroll(hall.url, hall.enrollment_code(), tmp_path)
    session = LoggingSession()
    client = HallClient(identity, session=session)
    data, sha = _blob(4096)
    client.upload_blob(sha, data)
    assert session.sent == [("POST", "application/offset+octet-stream", 4096)]
    assert client.create_upload(sha, len(data)).complete
    # A larger one: the create carries the first chunk, PATCHes the rest.
    session.sent.clear()
    data, sha = _blob(150_000)
    client.upload_blob(sha, data, chunk_size=64 * 1024)
    assert session.sent == [("POST", "application/offset+octet-stream", 65536),
                            ("PATCH", "application/offset+octet-stream", 65536),
                            ("PATCH", "application/offset+octet-stream", 150_000 - 2 * 65536)]
    assert client.create_upload(sha, len(data)).complete
    assert client.stats.resent_bytes == 0 and client.stats.confirmed_resent_bytes == 0


def test_a_hall_without_the_form_gets_the_json_create_from_then_on(hall, tmp_path):
    identity = enroll(hall.url, hall.enrollment_code(), tmp_path)
    session = LoggingSession(old_hall=True)
    client = HallClient(identity, session=session)
    data, sha = _blob(4096)
    client.upload_blob(sha, data)
    assert [(method, kind) for method, kind, _n in session.sent] == [
        ("POST", "application/json"),  # the first bytes, refused (422) as an older hall refuses them
        ("POST", "application/json"),  # the JSON create
        ("PATCH", "application/offset+octet-stream")]
    assert client.first_bytes_in_create is False and client.create_upload(sha, len(data)).complete
    assert client.stats.resent_bytes == 0
    session.sent.clear()
    data, sha = _blob(5000)
    client.upload_blob(sha, data)
    assert [method for method, _kind, _n in session.sent] == ["POST", "PATCH"]
    assert session.sent[0][2] < 200  # the JSON document, not the bytes


def test_a_refused_upload_is_not_taken_for_an_older_hall(hall, tmp_path):
    """A box whose bytes do not match its hash: the hall's 422 hash_mismatch is the upload's fault,
    raised as before; the form stays."""
    from offline_queue.errors import HallRejected

    identity = enroll(hall.url, hall.enrollment_code(), tmp_path)
    client = HallClient(identity)
    data, sha = _blob(4096)
    with pytest.raises(HallRejected) as caught:
        client.upload_blob(sha, data[:-1] + bytes([data[-1] ^ 1]))
    assert caught.value.code == "hash_mismatch" and client.first_bytes_in_create is True


def test_a_dropped_first_request_is_resumed_by_asking_the_hall(hall, tmp_path):
    """The create with the first bytes lost on the way back (the hall took it): the JSON create
    finds the upload complete; nothing is sent again."""
    identity = enroll(hall.url, hall.enrollment_code(), tmp_path)

    class DropFirstAnswer(LoggingSession):
        def request(self, method, url, *args, **kwargs):
            answer = super().request(method, url, *args, **kwargs)
            if len(self.sent) == 1:
                raise requests.ConnectionError("dropped")
            return answer

    session = DropFirstAnswer()
    client = HallClient(identity, session=session, sleep=lambda _s: None)
    data, sha = _blob(4096)
    client.upload_blob(sha, data)
    assert [(method, kind) for method, kind, _n in session.sent] == [
        ("POST", "application/offset+octet-stream"), ("POST", "application/json")]
    assert client.stats.failed_chunks == 1 and client.stats.confirmed_resent_bytes == 0
