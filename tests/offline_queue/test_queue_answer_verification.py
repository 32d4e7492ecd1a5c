"""Issue 9 finding 7: the kiosk trusts no answer its pinned hall key did not sign.

A small real HTTP server on loopback (``http.server`` in a thread) plays the hall: it
signs answers with the hall's key, or forges them (unsigned, signed by another key, or a
genuine signed answer replayed to another request). The kiosk's real client, engine and
outbox must apply nothing from a forged answer, treat it as a transport failure (retry
later), log nothing of it, refuse plain http:// to another machine, and honour a capped
Retry-After.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from offline_queue import signing
from offline_queue.errors import AnswerUnverified, EnrolmentFailed, HallBusy, InsecureHallUrl
from offline_queue.identity import DeviceIdentity, enroll, public_key_bytes
from offline_queue.outbox import OfflineQueue
from offline_queue.store import SEALED, SUBMITTED
from offline_queue.sync import SyncEngine
from offline_queue.transport import MAX_RETRY_AFTER_S, HallClient, request_enrolment

SCAM = "请拨打 400-820-8820 缴纳 200 元手续费后重新办理"
DEVICE = "dev-0001"


class Request:
    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self.method, self.path, self.headers, self.body = method, path, headers, body

    @property
    def nonce(self) -> str:
        return self.headers.get(signing.HEADER_NONCE, "")


Answer = tuple[int, dict[str, str], bytes]


class FakeHall:
    """A real HTTP server on 127.0.0.1; ``handler(request) -> (status, headers, body)``."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self.key = key
        self.requests: list[Request] = []
        self.handler: Callable[[Request], Answer] = lambda req: (404, {}, b"{}")
        hall = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(self.command, self.path, dict(self.headers.items()), body)
                hall.requests.append(request)
                status, headers, answer = hall.handler(request)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer)

            do_GET = do_POST = do_PATCH = do_HEAD = _serve

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def signed(self, request: Request, status: int, payload: object, key: Ed25519PrivateKey | None = None,
               headers: dict[str, str] | None = None) -> Answer:
        body = json.dumps(payload).encode()
        signature = signing.sign_answer(key or self.key, request.headers.get(signing.HEADER_DEVICE, ""),
                                        request.nonce, status, body)
        return status, {"Content-Type": "application/json", signing.HEADER_HALL_SIGNATURE: signature,
                        **(headers or {})}, body

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hall_sign_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def fake_hall(hall_sign_key):
    hall = FakeHall(hall_sign_key)
    yield hall
    hall.close()


@pytest.fixture
def identity(fake_hall, hall_sign_key, hall_public) -> DeviceIdentity:
    return DeviceIdentity(device_id=DEVICE, county="441423", hall_url=fake_hall.url,
                          private_key=Ed25519PrivateKey.generate(), hall_seal_public_key=hall_public,
                          hall_sign_public_key=public_key_bytes(hall_sign_key))


@pytest.fixture
def engine(queue, identity, clock) -> SyncEngine:
    return SyncEngine(queue, HallClient(identity, timeout_s=5, clock=clock), clock=clock, rng=lambda: 0.0)


def _submitted_entry(queue, make_app, hall_public):
    entry = queue.enqueue(make_app(), hall_public)
    queue.mark_submitted(entry.id, "GD2026-000001")
    return entry


def _status_feed(entry_id: str, status: str = "rejected", reason: str = SCAM) -> dict:
    return {"cursor": "7", "changes": [{"id": entry_id, "status": status, "official_number": "GD2026-000001",
                                        "reason": reason, "changed_at": "2026-12-01T08:00:00Z"}]}


def _nowhere_on_disk(queue: OfflineQueue, text: str) -> None:
    needle = text.encode("utf-8")
    for path in queue.data_dir.rglob("*"):
        if path.is_file():
            assert needle not in path.read_bytes(), path


def test_a_signed_status_change_is_applied(fake_hall, engine, queue, make_app, hall_public):
    entry = _submitted_entry(queue, make_app, hall_public)
    fake_hall.handler = lambda req: fake_hall.signed(req, 200, _status_feed(entry.id, "accepted", ""))
    report = engine.run_once()
    assert report.errors == [] and report.changed == [(entry.id, "accepted")]
    assert queue.get(entry.id).state == "accepted"
    assert queue.sync_cursor == "7"


@pytest.mark.parametrize("forgery", ["unsigned", "other_key", "garbage_signature"])
def test_a_fake_hall_saying_rejected_with_a_scam_reason_changes_nothing(
        forgery, fake_hall, engine, queue, make_app, hall_public, caplog):
    """The attack from the issue: a fake hall answers the status feed with 'rejected'."""
    entry = _submitted_entry(queue, make_app, hall_public)

    def forge(req: Request) -> Answer:
        if forgery == "unsigned":
            return 200, {"Content-Type": "application/json"}, json.dumps(_status_feed(entry.id)).encode()
        if forgery == "other_key":
            return fake_hall.signed(req, 200, _status_feed(entry.id), key=Ed25519PrivateKey.generate())
        status, headers, body = fake_hall.signed(req, 200, _status_feed(entry.id))
        return status, {**headers, signing.HEADER_HALL_SIGNATURE: "AAAA" + headers[
            signing.HEADER_HALL_SIGNATURE][4:]}, body

    fake_hall.handler = forge
    with caplog.at_level(logging.DEBUG):
        report = engine.run_once()
    assert report.errors == ["answer_unverified"] and report.changed == []
    stored = queue.get(entry.id)
    assert (stored.state, stored.reason) == (SUBMITTED, "")
    assert queue.sync_cursor is None  # not even the cursor moved
    queue.close()
    _nowhere_on_disk(queue, SCAM)
    assert "400-820" not in caplog.text and "手续费" not in caplog.text


def test_a_forged_refusal_of_an_application_is_retried_not_failed(fake_hall, engine, queue, make_app,
                                                                  hall_public, clock):
    entry = queue.enqueue(make_app(pages=0), hall_public)
    fake_hall.handler = lambda req: (422, {"Content-Type": "application/json"},
                                     json.dumps({"error": "rejected", "detail": SCAM}).encode())
    report = engine.run_once()
    assert report.failed == 0 and report.retried == 1 and report.errors == ["answer_unverified"]
    stored = queue.get(entry.id)
    assert stored.state == SEALED and stored.attempts == 1 and stored.next_attempt_at > clock()
    assert SCAM not in stored.reason
    queue.close()
    _nowhere_on_disk(queue, SCAM)


def test_a_genuine_signed_answer_replayed_to_another_request_is_refused(fake_hall, engine, queue, make_app,
                                                                        hall_public):
    entry = _submitted_entry(queue, make_app, hall_public)
    recorded: list[Answer] = []

    def record_then_replay(req: Request) -> Answer:
        if not recorded:  # the first request gets a genuine answer, signed for its nonce
            recorded.append(fake_hall.signed(req, 200, {"cursor": "1", "changes": []}))
        return recorded[0]  # later ones get a recorded answer, byte for byte

    fake_hall.handler = record_then_replay
    assert engine.run_once().errors == []
    assert queue.sync_cursor == "1"
    # now replay a signed answer that carries a status change, made for another request
    first = Request("GET", "/", {signing.HEADER_DEVICE: DEVICE, signing.HEADER_NONCE: "ab" * 16}, b"")
    recorded[0] = fake_hall.signed(first, 200, _status_feed(entry.id, "completed", ""))
    report = engine.run_once()
    assert report.errors == ["answer_unverified"] and report.changed == []
    assert queue.get(entry.id).state == SUBMITTED and queue.sync_cursor == "1"


def test_an_answer_signed_for_another_device_is_refused(fake_hall, engine, queue, make_app, hall_public):
    entry = _submitted_entry(queue, make_app, hall_public)

    def for_another_device(req: Request) -> Answer:
        other = Request(req.method, req.path, {**req.headers, signing.HEADER_DEVICE: "dev-9999"}, req.body)
        return fake_hall.signed(other, 200, _status_feed(entry.id, "completed", ""))

    fake_hall.handler = for_another_device
    assert engine.run_once().errors == ["answer_unverified"]
    assert queue.get(entry.id).state == SUBMITTED


@pytest.mark.parametrize("url", ["http://example.org", "http://10.0.0.5:8000", "ftp://127.0.0.1",
                                 "http://127.0.0.1.example.org", "example.org"])
def test_plain_http_to_another_machine_is_refused(url, identity, tmp_path):
    with pytest.raises(InsecureHallUrl) as caught:
        HallClient(DeviceIdentity(identity.device_id, identity.county, url, identity.private_key,
                                  identity.hall_seal_public_key, identity.hall_sign_public_key))
    assert caught.value.message_key == "queue.insecure_hall_url"
    with pytest.raises(InsecureHallUrl):
        enroll(url, "CODE-1234", tmp_path / "kiosk")
    assert not DeviceIdentity.is_enrolled(tmp_path / "kiosk")


@pytest.mark.parametrize("url", ["https://hall.example.org", "http://127.0.0.1:8000", "http://localhost:8000",
                                 "http://[::1]:8000", "http://127.0.0.2"])
def test_https_anywhere_and_http_on_loopback_are_allowed(url, identity):
    HallClient(DeviceIdentity(identity.device_id, identity.county, url, identity.private_key,
                              identity.hall_seal_public_key, identity.hall_sign_public_key))


@pytest.mark.parametrize("signed", [True, False])
def test_retry_after_on_503_holds_the_sync_off(signed, fake_hall, engine, queue, make_app, hall_public,
                                              clock):
    queue.enqueue(make_app(pages=0), hall_public)

    def busy(req: Request) -> Answer:
        if signed:
            return fake_hall.signed(req, 503, {"error": "busy"}, headers={"Retry-After": "120"})
        return 503, {"Retry-After": "120"}, b"busy"

    fake_hall.handler = busy
    report = engine.run_once()
    assert report.errors == ["hall_busy"] and report.wait_s == pytest.approx(120, abs=1)
    asked = len(fake_hall.requests)
    clock.advance(60)
    held = engine.run_once()
    assert held.wait_s == pytest.approx(60, abs=1) and len(fake_hall.requests) == asked  # not contacted
    clock.advance(61)
    engine.run_once()
    assert len(fake_hall.requests) > asked


def test_retry_after_is_capped(fake_hall, identity, clock):
    fake_hall.handler = lambda req: (429, {"Retry-After": str(30 * 86400)}, b"")
    client = HallClient(identity, timeout_s=5, clock=clock)
    with pytest.raises(HallBusy) as caught:
        client.status_changes(None)
    assert caught.value.retry_after == MAX_RETRY_AFTER_S == 900


def test_unsigned_500_is_unverified_not_applied(fake_hall, identity, clock):
    fake_hall.handler = lambda req: (500, {}, b"oops")
    with pytest.raises(AnswerUnverified):
        HallClient(identity, timeout_s=5, clock=clock).status_changes(None)


# -- enrolment ---------------------------------------------------------------------------


def _enrolment_answer(fake_hall: FakeHall, hall_public: bytes, sign_for: bytes | None = None,
                      key: Ed25519PrivateKey | None = None) -> Callable[[Request], Answer]:
    import base64

    def answer(req: Request) -> Answer:
        payload = {"device_id": DEVICE, "county": "441423",
                   "hall_seal_public_key": base64.b64encode(hall_public).decode(),
                   "hall_sign_public_key": base64.b64encode(public_key_bytes(key or fake_hall.key)).decode()}
        body = json.dumps(payload).encode()
        digest = hashlib.sha256(sign_for if sign_for is not None else req.body).hexdigest()
        signature = signing.sign_answer(key or fake_hall.key, "", digest, 201, body)
        return 201, {"Content-Type": "application/json", signing.HEADER_HALL_SIGNATURE: signature}, body

    return answer


def test_enrolment_pins_the_key_that_signed_the_answer(fake_hall, hall_public, tmp_path):
    fake_hall.handler = _enrolment_answer(fake_hall, hall_public)
    identity = enroll(fake_hall.url, "CODE-1", tmp_path / "k")
    assert identity.hall_sign_public_key == public_key_bytes(fake_hall.key)
    assert DeviceIdentity.load(tmp_path / "k") == identity


def test_an_unsigned_or_replayed_enrolment_answer_saves_nothing(fake_hall, hall_public, tmp_path):
    fake_hall.handler = _enrolment_answer(fake_hall, hall_public, sign_for=b'{"code": "an older request"}')
    with pytest.raises(EnrolmentFailed) as caught:
        enroll(fake_hall.url, "CODE-1", tmp_path / "k")
    assert caught.value.code == "answer_unverified"

    def unsigned(req: Request) -> Answer:
        status, headers, body = _enrolment_answer(fake_hall, hall_public)(req)
        headers.pop(signing.HEADER_HALL_SIGNATURE)
        return status, headers, body

    fake_hall.handler = unsigned
    with pytest.raises(EnrolmentFailed):
        enroll(fake_hall.url, "CODE-1", tmp_path / "k")
    assert not DeviceIdentity.is_enrolled(tmp_path / "k")


def test_a_pinned_key_given_with_the_code_must_match(fake_hall, hall_public, tmp_path):
    impostor = Ed25519PrivateKey.generate()
    fake_hall.handler = _enrolment_answer(fake_hall, hall_public, key=impostor)
    with pytest.raises(EnrolmentFailed) as caught:
        request_enrolment(fake_hall.url, {"code": "CODE-1"}, pinned_sign_key=public_key_bytes(fake_hall.key))
    assert caught.value.code == "answer_unverified"


def test_the_official_number_comes_with_acceptance_not_with_the_submit_answer(fake_hall, engine, queue,
                                                                            make_app, hall_public, clock):
    """Issue 12: the hall confirms the receipt number on submit (no official number: normal, not
    garbage); the official number arrives in the signed feed when a clerk accepts, and only a
    well-formed one is kept. An answer confirming another receipt number is garbage."""
    entry = queue.enqueue(make_app(pages=0), hall_public)
    official = "441423-20261202-4830-2917-5526"
    feed: list[dict] = []
    confirmed = {"number": entry.provisional_number}

    def hall(req: Request) -> Answer:
        if req.method == "POST" and "/applications" in req.path:
            return fake_hall.signed(req, 201, {"id": entry.id, "provisional_number": confirmed["number"],
                                               "status": "submitted"})
        return fake_hall.signed(req, 200, {"cursor": str(len(feed)), "changes": feed})

    fake_hall.handler = hall
    confirmed["number"] = "K0001-20261202-0001-00000000"  # another receipt's
    report = engine.run_once()
    assert report.retried == 1 and report.errors == ["hall_garbage"]
    assert queue.get(entry.id).state == SEALED
    clock.advance(3600)
    confirmed["number"] = entry.provisional_number
    report = engine.run_once()
    assert (report.sent, report.errors) == (1, [])
    stored = queue.get(entry.id)
    assert (stored.state, stored.official_number) == (SUBMITTED, None)
    feed.append({"id": entry.id, "status": "accepted", "official_number": official, "reason": "",
                 "changed_at": "2026-12-02T08:00:00Z"})
    assert engine.run_once().changed == [(entry.id, "accepted")]
    assert queue.get(entry.id).official_number == official
    assert queue.by_number(official)[0].id == entry.id  # a slip with the official number finds it
    feed.append({"id": entry.id, "status": "completed", "official_number": "<b>GD-1</b>", "reason": "",
                 "changed_at": "2026-12-02T09:00:00Z"})
    engine.run_once()
    assert (queue.get(entry.id).state, queue.get(entry.id).official_number) == ("completed", official)
