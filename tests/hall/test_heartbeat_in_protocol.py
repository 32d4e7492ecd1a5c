"""A plain heartbeat answered in the connection's protocol, without an ASGI task (issue 11,
"Speed"; hall/api/connection_guard.py ``_beat_now_or_task``).

A real hall application (SQLite in a temporary directory, its heartbeat writer and fleet
cache) served by uvicorn with the protocol ``county-hall serve`` uses
(``GuardedHttpToolsProtocol``), in a thread of this process so that the test can count which
way each beat went; the kiosks talk to it over real sockets. Each case is compared with the
same request answered by the ASGI task (a beat whose body comes in a later read takes it):
the same statuses, the same headers in the same order, signed alike.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hall.api.connection_guard import HttpToolsProtocol, _layers
from hall.api.heartbeat_fast_path import HeartbeatFastPath
from hall.app import serve_app
from hall.core.config import load_settings
from hall.core.keys import load_or_create_keys
from hall.db import make_engine, make_sessionmaker, migrate
from hall.models import Device
from hall.timeutil import to_datetime
from offline_queue.signing import HEADER_HALL_SIGNATURE, sign_headers, verify_answer
from tests.hall.kiosk_client import raw_public
from tests.hall.raw_http import RawAnswer, connect, is_closed_by_peer, read_answer, served_in_thread

pytestmark = pytest.mark.skipif(HttpToolsProtocol is None, reason="httptools is not installed")
PATH = "/api/v1/heartbeat"
KEEP_ALIVE_S = 2  # uvicorn's timeout_keep_alive for the served hall


@dataclass
class Served:
    port: int
    beats: HeartbeatFastPath
    hall_key: object
    kiosk: tuple[str, Ed25519PrivateKey]
    app: object  # as served (serve_app)


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    from hall.api.connection_guard import GuardedHttpToolsProtocol  # type: ignore[attr-defined]

    data_dir = tmp_path_factory.mktemp("beat-protocol")
    settings = load_settings(data_dir=str(data_dir), environ={})
    settings.ensure_dirs()
    migrate(settings.db_url)
    engine = make_engine(settings.db_url)
    key = Ed25519PrivateKey.generate()
    device_id = "k-" + uuid.uuid4().hex[:12]
    with make_sessionmaker(engine)() as db:
        db.add(Device(id=device_id, county="440000", public_key=raw_public(key),
                      enrolled_at=to_datetime(time.time())))
        db.commit()
    engine.dispose()
    app = serve_app(settings)
    _, beats = _layers(app)
    assert beats is not None
    # A quiet test hall's plain beats take the usual way once the fleet generation was read more
    # than 0.4 s ago (heartbeat_writer.py, tested there); here the question is only which way a
    # plain beat goes, so the window is wide enough for a loaded machine.
    beats.writer.fresh_s = 60.0
    try:
        import uvloop  # noqa: F401  # as county-hall serve runs
        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    config = uvicorn.Config(app, http=GuardedHttpToolsProtocol, loop=loop, log_level="warning",
                            lifespan="on", access_log=False, timeout_keep_alive=KEEP_ALIVE_S)
    hall_key = load_or_create_keys(settings.keys_dir).sign_private.public_key()
    with served_in_thread(config) as port:
        yield Served(port, beats, hall_key, (device_id, key), app)


def signed_request(served: Served, body: bytes | None = None, *, extra: str = "",
                   tamper: bool = False) -> tuple[bytes, bytes, str]:
    """(head, body, nonce) of one signed heartbeat."""
    device_id, key = served.kiosk
    body = body if body is not None else json.dumps({"queue": {"depth": 1}}).encode()
    headers = sign_headers(key, device_id, "POST", PATH, [], body, time.time())
    if tamper:
        headers["X-Signature"] = sign_headers(key, device_id, "POST", PATH, [], body + b" ",
                                              time.time())["X-Signature"]
    lines = [f"POST {PATH} HTTP/1.1", "Host: x", "Content-Type: application/json",
             f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
    head = ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode("latin-1")
    return head, body, headers["X-Nonce"]


def header_names(answer: RawAnswer) -> list[str]:
    return [line.split(":", 1)[0].lower() for line in answer.head.split("\r\n")[1:]]


def header(answer: RawAnswer, name: str) -> str | None:
    for line in answer.head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.lower() == name:
            return value.strip()
    return None


def signed_by_hall(served: Served, answer: RawAnswer, nonce: str) -> bool:
    return verify_answer(served.hall_key, header(answer, HEADER_HALL_SIGNATURE.lower()), served.kiosk[0],
                         nonce, answer.status, answer.body)


def in_one_read(served: Served, sock, **kwargs) -> tuple[RawAnswer, str]:
    head, body, nonce = signed_request(served, **kwargs)
    sock.sendall(head + body)
    return read_answer(sock), nonce


def in_two_reads(served: Served, sock, **kwargs) -> tuple[RawAnswer, str]:
    head, body, nonce = signed_request(served, **kwargs)
    sock.sendall(head)
    time.sleep(0.1)  # the head alone is read and parsed first
    sock.sendall(body)
    return read_answer(sock), nonce


def a_first_beat(served: Served, sock) -> None:
    """The usual way's beat that reads the fleet into the writer's cache; its flush then confirms
    the generation the cache holds, so the beats after it may be answered on the spot."""
    first, nonce = in_one_read(served, sock)
    assert first.status == 200 and signed_by_hall(served, first, nonce)
    time.sleep(0.3)


def test_a_plain_beat_in_one_read_is_answered_by_the_protocol_as_the_task_answers_it(served):
    sock = connect(served.port)
    try:
        a_first_beat(served, sock)
        before = served.beats.answered_at_once
        answers = [in_one_read(served, sock) for _ in range(5)]
        assert served.beats.answered_at_once == before + 5
        split, split_nonce = in_two_reads(served, sock)
        assert served.beats.answered_at_once == before + 5  # the task answered that one
    finally:
        sock.close()
    for answer, nonce in [*answers, (split, split_nonce)]:
        assert answer.status == 200 and signed_by_hall(served, answer, nonce)
        document = json.loads(answer.body)
        assert set(document) == {"heartbeat_interval_s", "server_time", "commands", "config", "release"}
        assert document["commands"] == [] and document["config"] is None
    # The same headers in the same order, whichever answered: uvicorn's date and server first.
    assert header_names(answers[0][0]) == header_names(split) == [
        "date", "server", "content-type", "content-length", "x-hall-signature"]


def test_pipelined_beats_are_answered_in_order_and_the_connection_lives_on(served):
    sock = connect(served.port)
    try:
        in_one_read(served, sock)
        time.sleep(0.3)
        before = served.beats.answered_at_once
        requests = [signed_request(served) for _ in range(3)]
        sock.sendall(b"".join(head + body for head, body, _ in requests))
        data = b""
        while data.count(b"HTTP/1.1 200") < 3 or not data.endswith(b"}"):
            piece = sock.recv(65536)
            assert piece
            data += piece
        assert served.beats.answered_at_once == before + 3
        # then a health request on the same connection, answered at the door
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        health = read_answer(sock)
        assert health.status == 200 and health.body == b'{"status":"ok"}'
    finally:
        sock.close()
    answers = data.split(b"HTTP/1.1 ")[1:]
    for raw, (_, _, nonce) in zip(answers, requests, strict=True):
        head, _, body = raw.partition(b"\r\n\r\n")
        answer = RawAnswer(int(head.split(b" ", 1)[0]), "HTTP/1.1 " + head.decode("latin-1"), body)
        assert answer.status == 200 and signed_by_hall(served, answer, nonce)


def test_a_beat_with_connection_close_is_answered_and_the_connection_closed(served):
    for send in (in_one_read, in_two_reads):
        sock = connect(served.port)
        try:
            in_one_read(served, sock)
            time.sleep(0.3)
            before = served.beats.answered_at_once
            answer, nonce = send(served, sock, extra="Connection: close\r\n")
            assert answer.status == 200 and signed_by_hall(served, answer, nonce)
            assert header(answer, "connection") == "close"
            assert is_closed_by_peer(sock, timeout_s=5)
            assert served.beats.answered_at_once == before + (send is in_one_read)
        finally:
            sock.close()


def test_a_replay_and_a_bad_signature_get_the_tasks_answers(served):
    answers: dict[str, list[RawAnswer]] = {}
    for send in (in_one_read, in_two_reads):
        sock = connect(served.port)
        try:
            in_one_read(served, sock)
            time.sleep(0.3)
            head, body, nonce = signed_request(served)
            sock.sendall(head + body)
            assert read_answer(sock).status == 200
            if send is in_one_read:
                sock.sendall(head + body)
            else:
                sock.sendall(head)
                time.sleep(0.1)
                sock.sendall(body)
            replay = read_answer(sock)
            assert signed_by_hall(served, replay, nonce)
            bad, bad_nonce = send(served, sock, tamper=True)
            assert signed_by_hall(served, bad, bad_nonce)
            answers[send.__name__] = [replay, bad]
        finally:
            sock.close()
    for protocol, task in zip(answers["in_one_read"], answers["in_two_reads"], strict=True):
        assert (protocol.status, protocol.body) == (task.status, task.body)
        assert header_names(protocol) == header_names(task)
    replay, bad = answers["in_one_read"]
    assert replay.status == 401 and json.loads(replay.body)["error"] == "replayed_nonce"
    assert bad.status == 401 and json.loads(bad.body)["error"] == "bad_signature"


def test_a_body_over_the_limit_or_invalid_goes_to_the_task_and_is_refused_as_before(served):
    limit = served.beats.settings.max_json_bytes
    sock = connect(served.port)
    try:
        in_one_read(served, sock)
        time.sleep(0.3)
        before = served.beats.answered_at_once
        invalid, nonce = in_one_read(served, sock, body=b"[1, 2")
        assert invalid.status == 422 and signed_by_hall(served, invalid, nonce)
        assert header(invalid, "connection") is None
        over = b'{"problems": ["' + b"x" * limit + b'"]}'
        head, body, nonce = signed_request(served, body=over)
        sock.sendall(head + body[:60_000])  # refused on its Content-Length: the rest is not read
        too_large = read_answer(sock)
        assert too_large.status == 413 and signed_by_hall(served, too_large, nonce)
        assert header(too_large, "connection") == "close" and is_closed_by_peer(sock, timeout_s=5)
        assert served.beats.answered_at_once == before
    finally:
        sock.close()


def test_the_hall_answers_many_beats_in_the_protocol_while_connections_come_and_go(served):
    """32 connections beating back to back, some closing after each beat: every answer 200 and
    signed, nearly all of them given by the protocol."""
    async def kiosk_connection(number: int) -> list[tuple[int, bool]]:
        results = []
        reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
        for count in range(20):
            close = number % 4 == 0 and count % 5 == 4
            head, body, nonce = signed_request(served, extra="Connection: close\r\n" if close else "")
            writer.write(head + body)
            status_line = await reader.readline()
            lines = []
            while (line := await reader.readline()) != b"\r\n":
                lines.append(line.decode("latin-1"))
            length = int(next(line.split(":")[1] for line in lines
                              if line.lower().startswith("content-length")))
            content = await reader.readexactly(length)
            answer = RawAnswer(int(status_line.split()[1]), status_line.decode() + "".join(lines), content)
            results.append((answer.status, signed_by_hall(served, answer, nonce)))
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
        writer.close()
        return results

    async def fleet() -> list[tuple[int, bool]]:
        done = await asyncio.gather(*(kiosk_connection(number) for number in range(32)))
        return [result for one in done for result in one]

    sock = connect(served.port)
    in_one_read(served, sock)
    sock.close()
    time.sleep(0.3)
    before = served.beats.answered_at_once
    results = asyncio.run(fleet())
    assert results == [(200, True)] * 640
    assert served.beats.answered_at_once - before >= 600
    assert served.beats.writer.loop.running  # the writer's thread lives on


def test_answers_written_by_the_protocol_name_each_header_once(served):
    """The door's 401 to unsigned junk with a body (its own ``connection: close``) on a connection
    the client also asked to close, and a beat with ``Connection: close``: one Connection header,
    as uvicorn's send writes them."""
    sock = connect(served.port)
    try:
        sock.sendall(b"POST /api/v1/heartbeat HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     b"Content-Length: 2\r\n\r\n{}")
        junk = read_answer(sock)
    finally:
        sock.close()
    sock = connect(served.port)
    try:
        in_one_read(served, sock)
        time.sleep(0.3)
        beat, _ = in_one_read(served, sock, extra="Connection: close\r\n")
    finally:
        sock.close()
    assert junk.status == 401 and beat.status == 200
    for answer in (junk, beat):
        names = header_names(answer)
        assert len(names) == len(set(names)) and names.count("connection") == 1


def test_a_plain_beat_takes_the_straight_path_and_gets_the_present_path_s_answer_byte_for_byte(served):
    sock = connect(served.port)
    try:
        a_first_beat(served, sock)
        before = served.beats.answered_plain
        answers = [in_one_read(served, sock) for _ in range(3)]
        assert served.beats.answered_plain == before + 3  # straight (HeartbeatFastPath.plain_answer)
        assert all(answer.status == 200 and signed_by_hall(served, answer, nonce)
                   for answer, nonce in answers)
        replay_head, replay_body, _ = signed_request(served)
        sock.sendall(replay_head + replay_body)
        assert read_answer(sock).status == 200
        sock.sendall(replay_head + replay_body)  # the same beat again: the present path refuses it
        refused = read_answer(sock)
        assert refused.status == 401 and json.loads(refused.body)["error"] == "replayed_nonce"
    finally:
        sock.close()
    # The same beat answered by the straight path and by the present one (answer_at_once, whose
    # headers the protocol writes as lines): the same headers and body, the same signature.
    device_id, key = served.kiosk
    beats = served.beats
    body = json.dumps({"queue": {"depth": 2}}).encode()
    for _ in range(5):  # both within one second: the plain answer carries the second
        second = int(time.time())
        signature = sign_headers(key, device_id, "POST", PATH, [], body, time.time())
        head = (device_id.encode(), signature["X-Timestamp"].encode(), signature["X-Nonce"].encode(),
                signature["X-Signature"].encode())
        straight = beats.plain_answer(head, body)
        beats.writer._seen.clear()  # so that the present path does not take it for a replay
        scope = {"type": "http", "method": "POST", "path": PATH, "raw_path": PATH.encode(),
                 "query_string": b"", "headers": [(b"content-length", str(len(body)).encode()),
                             *((name.lower().encode(), value.encode()) for name, value in signature.items())]}
        present = beats.answer_at_once(scope, body)
        if int(time.time()) == second:
            break
    assert straight is not None and present is not None
    status, headers, present_body = present
    assert status == 200 and straight[1] == present_body
    assert straight[0] == b"".join(name + b": " + value + b"\r\n" for name, value in headers)


# -- a plain beat read from its bytes, without httptools (GuardedHttpToolsProtocol._answered_from_bytes) --

@contextmanager
def present_way_only() -> Iterator[None]:
    """The served protocol as before the read from bytes: every request fed to httptools."""
    from hall.api.connection_guard import GuardedHttpToolsProtocol  # type: ignore[attr-defined]

    GuardedHttpToolsProtocol._from_bytes = False
    try:
        yield
    finally:
        GuardedHttpToolsProtocol._from_bytes = True


def test_a_plain_beat_read_from_its_bytes_gets_the_present_way_s_answer_byte_for_byte(served):
    """The same request's bytes, answered from its bytes and then the present way (the nonce
    forgotten in between, both within one second: the answer's date and body carry the second)."""
    sock = connect(served.port)
    try:
        a_first_beat(served, sock)
        for _ in range(5):
            head, body, _ = signed_request(served)
            second = int(time.time())
            before = served.beats.answered_from_bytes
            sock.sendall(head + body)
            from_bytes = read_answer(sock)
            assert served.beats.answered_from_bytes == before + 1
            served.beats.writer._seen.clear()  # so that the present way does not take it for a replay
            with present_way_only():
                plain = served.beats.answered_plain
                sock.sendall(head + body)
                present = read_answer(sock)
                assert served.beats.answered_plain == plain + 1  # the present straight path answered
            assert served.beats.answered_from_bytes == before + 1
            if int(time.time()) == second:
                break
        assert from_bytes.status == 200
        assert (from_bytes.head, from_bytes.body) == (present.head, present.body)
        sock.sendall(head + body)  # again: a replay, refused by the present way from its bytes too
        replay = read_answer(sock)
        assert replay.status == 401 and json.loads(replay.body)["error"] == "replayed_nonce"
        assert served.beats.answered_from_bytes == before + 1
    finally:
        sock.close()


def test_a_beat_over_a_county_s_low_json_limit_is_not_read_from_its_bytes(served):
    """A county may set the JSON limit below what one read holds: a whole plain beat over it is
    left to the parser and refused on its Content-Length (413), as the present way refuses it."""
    settings = served.beats.settings
    limit = settings.max_json_bytes
    sock = connect(served.port)
    try:
        a_first_beat(served, sock)
        object.__setattr__(settings, "max_json_bytes", 64)
        before = served.beats.answered_from_bytes
        body = json.dumps({"queue": {"depth": 1}, "x": "y" * 80}).encode()
        over, nonce = in_one_read(served, sock, body=body)
        assert over.status == 413 and signed_by_hall(served, over, nonce)
        assert served.beats.answered_from_bytes == before
    finally:
        object.__setattr__(settings, "max_json_bytes", limit)
        sock.close()


def _beat(served: Served, *, line: str = f"POST {PATH} HTTP/1.1", host: str | None = "Host: x",
          extra: list[str] | None = None, length: int | None = None, body: bytes | None = None,
          body_sent: bytes | None = None, separator: str = "\r\n") -> bytes:
    """One signed beat's bytes with its head as asked: ``extra`` header lines after the signature
    headers, ``length`` declared instead of the body's, ``body_sent`` instead of the signed body."""
    device_id, key = served.kiosk
    body = body if body is not None else json.dumps({"queue": {"depth": 1}}).encode()
    headers = sign_headers(key, device_id, "POST", PATH, [], body, time.time())
    lines = [line, *([host] if host else []), "Content-Type: application/json",
             f"Content-Length: {len(body) if length is None else length}",
             *(f"{k}: {v}" for k, v in headers.items()), *(extra or [])]
    return (separator.join(lines) + separator + separator).encode("latin-1") + (
        body if body_sent is None else body_sent)


def _odd_requests(served: Served) -> dict[str, tuple[list[bytes], int]]:
    """name: (the reads to send, how many of them a plain beat read from its bytes answers)."""
    def beat(**kwargs) -> bytes:  # noqa: ANN003
        return _beat(served, **kwargs)
    limit = served.beats.settings.max_json_bytes
    whole = beat()
    smuggled = b"0\r\n\r\nGET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
    return {
        "plain": ([beat()], 1),
        "plain, Connection: Keep-Alive": ([beat(extra=["Connection: Keep-Alive"])], 1),
        "plain, forwarded by a proxy": (
            [beat(extra=["X-Forwarded-For: 10.1.2.3", "X-Forwarded-Proto: https"])], 1),
        "two pipelined": ([beat() + beat()], 0),
        "head, then body": ([whole[:-5], whole[-5:]], 0),
        "HTTP/1.0": ([beat(line=f"POST {PATH} HTTP/1.0")], 0),
        "Connection: close": ([beat(extra=["Connection: close"])], 0),
        "Connection: keep-alive, close": ([beat(extra=["Connection: keep-alive, close"])], 0),
        "a query": ([beat(line=f"POST {PATH}?x=1 HTTP/1.1")], 0),
        "no Host": ([beat(host=None)], 0),
        "two Hosts": ([beat(extra=["Host: y"])], 0),
        "a nonce twice": ([beat(extra=["X-Nonce: abcdef"])], 0),
        "two Content-Lengths": ([beat(extra=["Content-Length: 23"])], 0),
        "Content-Length and chunked": ([beat(extra=["Transfer-Encoding: chunked"])], 0),
        "chunked and a CL, smuggled": ([beat(extra=["Transfer-Encoding: chunked"], body_sent=smuggled)], 0),
        "Content-Length too short": ([beat(length=10)], 0),
        "Content-Length too long": ([beat(length=40), b"x" * 40], 0),
        "a leading zero in the Content-Length": ([beat().replace(b"Length: ", b"Length: 0")], 0),
        "Expect: 100-continue": ([beat(extra=["Expect: 100-continue"])], 0),
        "Upgrade: websocket": ([beat(extra=["Connection: Upgrade", "Upgrade: websocket"])], 0),
        "obs-fold": ([beat(extra=["X-Note: a", " folded"])], 0),
        "a tab in a value": ([beat(extra=["X-Note: a\tb"])], 0),
        "a byte over 0x7e": ([beat(extra=["X-Note: caf\xe9"])], 0),
        "a space before the colon": ([beat(extra=["X-Note : a"])], 0),
        "an empty value": ([beat(extra=["X-Note:"])], 0),
        "bare LF": ([beat(separator="\n")], 0),
        "over the JSON limit": ([beat(body=b'{"problems": ["' + b"x" * limit + b'"]}')[:70_000]], 0),
        "not plain: its report invalid": ([beat(body=b"[1, 2")], 0),
    }


def _exchange(port: int, reads: list[bytes]) -> list[tuple[int | None, list[str], object]]:
    """Send ``reads`` (0.15 s apart), then a health request on the same connection; every answer
    until the health one or a close, as (status, header names, body — a heartbeat answer's keys
    and commands: its time is the second's)."""
    sock = connect(port, timeout_s=8)
    data = b""
    try:
        for piece in reads:
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.15)
        try:
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        while not data.endswith(b'{"status":"ok"}'):
            try:
                piece = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not piece:
                break
            data += piece
    finally:
        sock.close()
    answers: list[tuple[int | None, list[str], object]] = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        names = [line.split(":", 1)[0].lower() for line in lines[1:]]
        status = int(lines[0].split(" ")[1])
        length = 0 if status < 200 else next((int(line.split(":", 1)[1]) for line in lines[1:]
                                              if line.lower().startswith("content-length:")), len(rest))
        body, data = rest[:length], rest[length:]
        content: object = body
        if body.startswith(b'{"heartbeat_interval_s"'):
            document = json.loads(body)
            content = (sorted(document), document["commands"])
        answers.append((status, names, content))
    return answers


def test_odd_and_smuggling_requests_get_the_present_way_s_answers(served):
    """Each request sent raw to the served hall, read from its bytes where it may be and the
    present way: the same answers, in the same order, the connection left as the present way
    leaves it (a health request after it answered, or the connection closed, alike); only a
    whole plain beat with nothing after it is answered from its bytes."""
    sock = connect(served.port)
    try:
        a_first_beat(served, sock)
    finally:
        sock.close()
    differing = {}
    for name, (reads, from_bytes) in _odd_requests(served).items():
        before = served.beats.answered_from_bytes
        answers = _exchange(served.port, reads)
        taken = served.beats.answered_from_bytes - before
        with present_way_only():
            present = _exchange(served.port, _odd_requests(served)[name][0])
        if answers != present or taken != from_bytes or not answers:
            differing[name] = (taken, answers, present)
    assert differing == {}


def test_a_connection_whose_beats_were_read_from_their_bytes_is_closed_when_idle(served):
    """The keep-alive timer after an answer from bytes (the first request of the connection among
    them, whose head timer it disarms): closed after ``timeout_keep_alive`` idle, not before."""
    sock = connect(served.port)
    try:
        before = served.beats.answered_from_bytes
        for _ in range(3):
            answer, _ = in_one_read(served, sock)
            assert answer.status == 200
        assert served.beats.answered_from_bytes == before + 3
        started = time.monotonic()
        assert is_closed_by_peer(sock, timeout_s=KEEP_ALIVE_S + 5)
        assert time.monotonic() - started >= KEEP_ALIVE_S - 0.5
    finally:
        sock.close()


class _KeptTransport:
    """What a protocol writes, kept; a peer address for the access log."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default=None):  # noqa: ANN001, ANN201
        return {"sockname": ("127.0.0.1", 8000), "peername": ("10.0.0.7", 50123)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def test_a_beat_from_its_bytes_logs_counts_and_keeps_alive_as_the_present_way(served):
    """Two connections of the served protocol, one reading from bytes, one the present way, given
    the same beat (the nonce forgotten between): the same bytes written, the same access log line,
    the request counted, the keep-alive timer set and the head timer of the new connection gone."""
    import logging

    from uvicorn.server import ServerState

    from hall.api.connection_guard import GuardedHttpToolsProtocol  # type: ignore[attr-defined]

    sock = connect(served.port)
    try:
        a_first_beat(served, sock)
    finally:
        sock.close()
    config = uvicorn.Config(served.app, http=GuardedHttpToolsProtocol, lifespan="off", log_level="warning")
    config.load()
    state = ServerState()
    loop = asyncio.new_event_loop()
    lines: list[str] = []

    class Kept(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Kept()
    access = logging.getLogger("uvicorn.access")
    level = access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        for _ in range(5):
            head, body, _ = signed_request(served)
            second = int(time.time())
            seen: dict[bool, tuple] = {}
            for from_bytes in (True, False):
                protocol = GuardedHttpToolsProtocol(config, state, {}, loop)
                protocol._from_bytes = from_bytes
                protocol.access_log = True  # as under --access-log
                transport = _KeptTransport()
                protocol.connection_made(transport)
                assert protocol._head_timer is not None
                requests = state.total_requests
                served.beats.writer._seen.clear()
                before = served.beats.answered_from_bytes
                protocol.data_received(head + body)
                assert served.beats.answered_from_bytes == before + from_bytes
                assert protocol._head_timer is None and protocol.timeout_keep_alive_task is not None
                assert protocol._idle_since is not None and not transport.closing
                assert state.total_requests == requests + 1
                seen[from_bytes] = (b"".join(transport.written), lines[-1])
                protocol.connection_lost(None)
            if int(time.time()) == second:
                break
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
        loop.close()
    assert seen[True] == seen[False]
    assert seen[True][0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert seen[True][1] == '10.0.0.7:50123 - "POST /api/v1/heartbeat HTTP/1.1" 200'
