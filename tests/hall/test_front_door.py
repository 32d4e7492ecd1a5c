"""The front door (hall/api/front_door.py) and admission's bound on a request's whole wait
(issue 9, "Load"): health and hopeless requests are answered before the framework runs;
a request that already waited on a busy loop is not kept waiting for a place."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from hall.api.admission import ARRIVED_KEY, MAX_AGE_AT_ADMISSION_S, AdmissionMiddleware
from hall.api.front_door import FrontDoor
from hall.api.priority_gate import PriorityGate
from hall.core.config import Settings

SIGNED = [(b"x-device-id", b"d"), (b"x-timestamp", b"1"), (b"x-nonce", b"n"), (b"x-signature", b"s")]


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> dict:
    return {"type": "http", "method": method, "path": path, "headers": headers or []}


async def _call(app, scope: dict) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    head = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return head["status"], dict(head["headers"]), body


def test_front_door_answers_health_and_sheds_a_kind_whose_queue_is_full_before_the_app():
    reached: list[str] = []

    async def app(scope, receive, send) -> None:
        reached.append(scope["path"])
        assert ARRIVED_KEY in scope  # admission bounds the wait from here
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def scenario() -> None:
        gate = PriorityGate(kiosk=1, login=1, public=2)
        door = FrontDoor(app, gate, retry_after_s=3)
        status, _, body = await _call(door, _scope("GET", "/api/v1/health"))
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        assert reached == []  # no framework, no budget

        assert (await _call(door, _scope("GET", "/api/v1/status-changes", SIGNED)))[0] == 200
        assert await gate.enter("kiosk", 1.0)  # the one kiosk place is taken...
        waiter = asyncio.ensure_future(gate.enter("kiosk", 1.0))  # ...and one request waits
        await asyncio.sleep(0)
        status, headers, body = await _call(door, _scope("GET", "/api/v1/status-changes", SIGNED))
        assert (status, json.loads(body)["error"], headers[b"retry-after"]) == (503, "busy", b"3")
        assert b"connection" not in headers  # no body to skip: the connection stays open
        upload = _scope("POST", "/api/v1/uploads", [*SIGNED, (b"content-length", b"40")])
        status, headers, _ = await _call(door, upload)
        assert (status, headers[b"connection"]) == (503, b"close")  # its body is not read
        # Other kinds are not shed for the kiosks' queue; a missing signature is a 401 at
        # the door (not a 503, and not the application's work).
        assert (await _call(door, _scope("GET", "/console/login")))[0] == 200
        status, headers, body = await _call(door, _scope("GET", "/api/v1/status-changes"))
        assert (status, json.loads(body)["error"], b"connection" in headers) == (401, "bad_signature", False)
        junk = _scope("POST", "/api/v1/applications", [(b"content-length", b"11"), *SIGNED[:3]])
        status, headers, body = await _call(door, junk)
        assert (status, headers[b"connection"]) == (401, b"close")  # its body is not read
        assert json.loads(body)["detail"] == "missing header X-Signature"
        assert reached == ["/api/v1/status-changes", "/console/login"]
        assert (door.shed, door.unsigned) == (2, 2)

        gate.leave("kiosk")
        assert await waiter is True
        gate.leave("kiosk")
        assert (await _call(door, _scope("GET", "/api/v1/status-changes", SIGNED)))[0] == 200
        assert gate.in_flight == {"kiosk": 0, "login": 0, "public": 0}

    asyncio.run(scenario())


def test_admission_sheds_at_once_a_request_that_already_waited_on_the_loop():
    async def app(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def scenario() -> None:
        settings = Settings(data_dir=Path("unused"), db_url="sqlite://", kiosk_wait_s=5.0)
        gate = PriorityGate(kiosk=1, login=1, public=1)
        admission = AdmissionMiddleware(app, settings, gate)
        assert await gate.enter("kiosk", 1.0)  # full
        old = {**_scope("GET", "/api/v1/status-changes", SIGNED),
               ARRIVED_KEY: time.monotonic() - MAX_AGE_AT_ADMISSION_S}
        started = time.monotonic()
        status, headers, _ = await _call(admission, old)
        assert (status, b"retry-after" in headers) == (503, True)
        assert time.monotonic() - started < 1.0  # not the kiosk wait of 5 s
        assert admission.refused["kiosk"] == 1 and gate.waiting["kiosk"] == 0
        gate.leave("kiosk")
        # A place is free: even an old request is served rather than refused.
        assert (await _call(admission, old))[0] == 200

    asyncio.run(scenario())


def test_the_body_limit_does_not_read_a_request_that_has_no_body():
    from hall.api.body_limit import BodyLimitMiddleware

    settings = Settings(data_dir=Path("unused"), db_url="sqlite://")
    reads: list[str] = []
    given: list[object] = []

    async def receive() -> dict:
        reads.append("read")
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def app(scope, inner_receive, send) -> None:
        given.append(inner_receive)
        message = await inner_receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": message["body"]})

    async def scenario() -> None:
        limit = BodyLimitMiddleware(app, settings)
        for headers in ([], [(b"content-length", b"0")]):
            reads.clear()
            sent: list[dict] = []
            await limit(_scope("GET", "/api/v1/status-changes", headers), receive, _append(sent))
            assert reads == ["read"] and given[-1] is receive  # no timed read in the middleware
        # With a body the middleware reads and counts it first, then replays it.
        sent = []
        posted = _scope("POST", "/api/v1/applications", [(b"content-length", b"2")])
        reads.clear()
        await limit(posted, receive, _append(sent))
        assert reads == ["read"] and given[-1] is not receive and sent[-1]["body"] == b"{}"
        assert limit.buffered == 0

    asyncio.run(scenario())


def _append(sent: list[dict]):
    async def send(message: dict) -> None:
        sent.append(message)
    return send


def test_while_a_flood_holds_the_loop_back_anonymous_requests_are_shed_at_the_door_and_kiosks_pass():
    from hall.api.front_door import FLOOD_CONNECTIONS, OVERLOAD_LAG_S

    async def app(scope, receive, send) -> None:
        raise AssertionError("quick_answer only")

    async def scenario() -> None:
        door = FrontDoor(app, PriorityGate(kiosk=4, login=1, public=4), retry_after_s=2)
        page = _scope("GET", "/console/login")
        assert door.quick_answer(page, FLOOD_CONNECTIONS) is None  # the loop keeps time: served
        time.sleep(OVERLOAD_LAG_S + 0.05)  # one long turn of the loop, as under a flood
        status, headers, _ = door.quick_answer(page, FLOOD_CONNECTIONS)
        assert (status, dict(headers)[b"retry-after"]) == (503, b"2")
        login = _scope("POST", "/console/login", [(b"content-length", b"30")])
        assert dict(door.quick_answer(login, FLOOD_CONNECTIONS)[1])[b"connection"] == b"close"
        # A kiosk's signed request goes on; so does a clerk's page when few connections are open.
        assert door.quick_answer(_scope("GET", "/api/v1/status-changes", SIGNED), FLOOD_CONNECTIONS) is None
        assert door.quick_answer(page, FLOOD_CONNECTIONS - 1) is None
        assert door.shed == 2
        await asyncio.sleep(0.12)  # the loop has caught up: the probe ran on time again
        assert door.quick_answer(page, FLOOD_CONNECTIONS) is None

    asyncio.run(scenario())


def test_signed_requests_naming_no_enrolled_kiosk_count_as_anonymous_at_the_door_and_in_admission(tmp_path):
    """A flood that forges the four signature headers with made-up ids no longer takes the
    kiosks' places or priority (hall/api/known_devices.py); an enrolled id does, and before
    the first reload every id is taken as known."""
    from datetime import UTC, datetime

    from hall.api.admission import request_kind
    from hall.api.front_door import FLOOD_CONNECTIONS, OVERLOAD_LAG_S
    from hall.api.known_devices import KnownDevices
    from hall.db import make_engine, make_sessionmaker, migrate
    from hall.models import Device

    url = f"sqlite:///{tmp_path / 'hall.db'}"
    migrate(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as db:
        db.add(Device(id="d", county="441423", public_key=b"k" * 32, enrolled_at=datetime.now(UTC)))
        db.add(Device(id="gone", county="441423", public_key=b"k" * 32, enrolled_at=datetime.now(UTC),
                      revoked=True))
        db.commit()
    known = KnownDevices(sessions, tmp_path / "enrolments.stamp")
    other_worker = KnownDevices(sessions, tmp_path / "enrolments.stamp")
    forged = _scope("GET", "/api/v1/status-changes", [(b"x-device-id", b"kiosk-00000000"), *SIGNED[1:]])
    revoked = _scope("GET", "/api/v1/status-changes", [(b"x-device-id", b"gone"), *SIGNED[1:]])
    enrolled = _scope("GET", "/api/v1/status-changes", SIGNED)  # X-Device-Id: d
    assert {request_kind(scope, known) for scope in (forged, revoked, enrolled)} == {"kiosk"}  # not loaded
    loop = known.loop(interval_s=3600)  # reloads at start, then only when a miss asks
    loop.start()
    try:
        _until(lambda: known.ids is not None)
        kinds = [request_kind(scope, known) for scope in (forged, revoked, enrolled)]
        assert kinds == ["public", "public", "kiosk"]
        with sessions() as db:  # a kiosk enrolled a moment ago (say through another worker)
            db.add(Device(id="new", county="441423", public_key=b"k" * 32, enrolled_at=datetime.now(UTC)))
            db.commit()
        fresh = _scope("GET", "/api/v1/status-changes", [(b"x-device-id", b"new"), *SIGNED[1:]])
        assert request_kind(fresh, known) == "public"  # the miss wakes the reload...
        _until(lambda: request_kind(fresh, known) == "kiosk")  # ...and it is a kiosk's
        assert loop.running  # the reloading thread lives on after its passes
        # Enrolled through this worker: a kiosk's at once here, and in a worker whose set is
        # older than the enrolment (until its reload, which then knows the id).
        other_worker.reload()
        with sessions() as db:
            db.add(Device(id="newer", county="441423", public_key=b"k" * 32, enrolled_at=datetime.now(UTC)))
            db.commit()
        known.enrolled("newer")
        newer = _scope("GET", "/api/v1/status-changes", [(b"x-device-id", b"newer"), *SIGNED[1:]])
        assert request_kind(newer, known) == "kiosk" and request_kind(newer, other_worker) == "kiosk"
        assert request_kind(forged, other_worker) == "kiosk"  # the benefit of the doubt, till it reloads
        other_worker.reload()
        assert request_kind(newer, other_worker) == "kiosk" and request_kind(forged, other_worker) == "public"
        known.reload()  # the stamp moved since its last load too
    finally:
        loop.stop()
        engine.dispose()
    assert request_kind(forged) == "kiosk"  # without the set: as before

    async def app(scope, receive, send) -> None:
        raise AssertionError("quick_answer only")

    async def scenario() -> None:
        door = FrontDoor(app, PriorityGate(kiosk=4, login=1, public=4), retry_after_s=2, known=known)
        assert door.quick_answer(forged, FLOOD_CONNECTIONS) is None  # the loop keeps time
        time.sleep(OVERLOAD_LAG_S + 0.05)  # one long turn of the loop, as under a flood
        status, headers, _ = door.quick_answer(forged, FLOOD_CONNECTIONS)
        assert (status, dict(headers)[b"retry-after"]) == (503, b"2")  # shed as anonymous
        assert door.quick_answer(enrolled, FLOOD_CONNECTIONS) is None  # the kiosk goes on

        settings = Settings(data_dir=Path("unused"), db_url="sqlite://")
        gate = PriorityGate(kiosk=1, login=1, public=1)
        admission = AdmissionMiddleware(_ok, settings, gate, known=known)
        assert await gate.enter("kiosk", 1.0)  # the kiosks' one place is taken: the forged id is not a kiosk
        assert (await _call(admission, forged))[0] == 200 and gate.in_flight["public"] == 0

    asyncio.run(scenario())


async def _ok(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _until(condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "not within the time limit"
        time.sleep(0.01)
