"""Connection-level guards: uvicorn's HTTP/1.1 protocols with a head timeout and a cap.

uvicorn waits forever for a request head: a client that connects and sends half its
headers holds a file descriptor for good (3,000 such sockets held the hall 70 s; with
1,024 descriptors it stopped answering). Its keep-alive timer only runs between
requests, and its ``limit_concurrency`` answers 503 without ``Retry-After``. So
``county-hall serve`` runs one of these subclasses (``GuardedHttpToolsProtocol``, the
faster C parser, when ``httptools`` is installed, else ``GuardedH11Protocol``):

* a connection must deliver a whole request head within ``header_timeout_s`` of its
  first byte (or of connecting, or of the previous answer): else it is closed;
* beyond ``max_connections`` open connections in the process, a new connection is
  answered ``503 busy`` with ``Retry-After`` and closed at once, before it is parsed.

It also opens the listening sockets (``listening_sockets``): several on the same port
(``SO_REUSEPORT``), because the event loop accepts ONE connection per listening socket
per loop iteration (libuv since 1.45, "don't accept() connections in a loop", which
uvloop bundles). Under the load mix of issue 9 an iteration of the busy hall's loop took
50–300 ms, so 500 new connections sat for up to 20 s in the kernel's accept queue
(``ss -ltn`` showed 100–500 waiting throughout the run) — the 4-second ``/health``
answers were connections not yet accepted. With N sockets the kernel spreads new
connections over N queues and each loop iteration accepts up to N.

Under httptools the protocol also answers, without an ASGI task, what needs no awaiting:
the front door's quick answers (health, a missing signature header, shedding) and a plain
heartbeat (issue 11, "Speed"). httptools parses a read's head and body inside
``data_received`` (but for one whole plain beat in a read: below); a ``POST
/api/v1/heartbeat`` whose whole body came in the read of its head is handed to the heartbeat's
fast path (``HeartbeatFastPath.answer_at_once``), and when the writer answers it on the spot (a
plain beat, a replay, a clock refused) the answer is written as uvicorn would frame it, in one
write. A plain beat (the four signature headers once each, no query, a kiosk the door knows)
goes straight: its head read in one pass when it is complete (``HeartbeatFastPath.plain_head``),
then checked, queued, signed and framed as bytes (``plain_answer``,
``HeartbeatWriter.answer_plain``), the same answer byte for byte; whatever
it does not answer goes on to ``answer_at_once``. Any other heartbeat — its body in a later
read, too large, one the writer must commit first — becomes an ASGI task as before, with the
same answers. In the beats-only fleet benchmark the ASGI task, its coroutines and the second
write were about a third of the hall's CPU per beat (docs/operations.md, "Fleet load").

A read that is exactly one whole plain heartbeat — ``POST /api/v1/heartbeat HTTP/1.1``, its head
and body complete and nothing after them, on a connection at rest (no message begun, no answer
owed, nothing pipelined, writing not paused) — is not even fed to httptools
(``GuardedHttpToolsProtocol._answered_from_bytes``): its head is read by one strict regular
expression (``_whole_plain_request``: a whitelist of header lines; the four signature headers,
Content-Length, Host and Connection at most once; Host present; Connection only keep-alive; no
Transfer-Encoding, Expect or Upgrade; the Content-Length the body's), checked and answered as
the straight path above (``HeartbeatFastPath.plain_fields``, ``plain_answer``), written and
logged as it, and followed by what uvicorn does after an answer (``on_response_complete``).
uvicorn's parser callbacks, its scope, cycle and event were ≈ 10 % of a plain beat's CPU. Any
doubt, and any beat the writer does not answer at once, goes to httptools exactly as before.

The body of a request is guarded by hall/api/body_limit.py (idle and total timeouts).
The limits come from the settings the serve command hands each worker process
(``hall.app.ENV_SERVE_SETTINGS``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
import time
from collections.abc import Coroutine
from functools import cache

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

try:
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
except ImportError:  # httptools is not installed: h11 only
    HttpToolsProtocol = None

from hall.api.admission import ARRIVED_KEY
from hall.api.body_limit import Answer, BodyRefused, declared_length
from hall.api.errors import error_body
from hall.api.front_door import FrontDoor
from hall.api.heartbeat_fast_path import HEARTBEAT_PATH, SIGNATURE_HEADER_NAMES, HeartbeatFastPath, PlainHead
from hall.core.config import Settings

log = logging.getLogger("hall.connections")


@cache
def _settings() -> Settings:
    from hall.app import ENV_SERVE_SETTINGS
    from hall.core.config import load_settings

    return load_settings(**json.loads(os.environ.get(ENV_SERVE_SETTINGS, "{}")))


def busy_response(retry_after_s: int) -> bytes:
    body = error_body("busy", "the hall is busy; try again later")
    return (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\nretry-after: %d\r\ncache-control: no-store\r\nconnection: close\r\n\r\n%s"
            % (len(body), retry_after_s, body))


class _Guard:
    """Mixed in before a uvicorn HTTP protocol class; uses its ``cycle``, ``loop``,
    ``transport`` and ``connections``."""

    _beats_here = False
    _one_write = False  # answers written as uvicorn's send writes them, but in one write
    _lazy_head_timer = False  # the head timer armed only for a head left incomplete by a read
    _plain_tried = False  # this read's beat was tried straight from its bytes: not plain after all

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        settings = _settings()
        self.header_timeout_s = settings.header_timeout_s
        self.max_connections = settings.max_connections
        self.retry_after_s = settings.retry_after_s
        self._head_timer: asyncio.TimerHandle | None = None
        self._feeding = False  # inside data_received's parsing
        self._in_head = False  # httptools: a head begun and not yet complete
        self._pending_beat: tuple | None = None  # (cycle, app, HeartbeatFastPath)
        self._pending_plain: tuple | None = None  # (cycle, app, HeartbeatFastPath, its PlainHead)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            log.warning("over %d connections: answering busy", self.max_connections)
            transport.write(busy_response(self.retry_after_s))
            transport.close()
            return
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        if not self._lazy_head_timer and self._waiting_for_head() and self._head_timer is None:
            self._arm_head_timer()
        # httptools calls on_headers_complete, on_body and on_message_complete from within
        # this: a heartbeat whose head came in it waits as ``_pending_beat`` for the rest.
        self._feeding = True
        try:
            super().data_received(data)
        finally:
            self._feeding = False
        plain = self._pending_plain
        if plain is not None:
            self._pending_plain = None
            self._plain_beat(*plain)
        pending = self._pending_beat
        if pending is not None:
            self._pending_beat = None
            self._beat_now_or_task(*pending)
        if not self._waiting_for_head():
            self._disarm_head_timer()
        elif self._lazy_head_timer and self._in_head and self._head_timer is None:
            # httptools: armed only when this read leaves a head begun and not complete — a
            # head that came whole in one read, nearly every one, costs no timer (a call_later
            # and its cancel per request). The deadline still counts from the head's first read.
            self._arm_head_timer()

    def on_response_complete(self) -> None:
        # Between requests uvicorn's keep-alive timer runs; the head timer starts again
        # with the next request's first byte (data_received). (An answer given at once, in
        # the middle of data_received, must not leave the head timer of its request armed.)
        self._disarm_head_timer()
        super().on_response_complete()

    def _start_asgi_task(self, cycle, app) -> None:  # type: ignore[no-untyped-def]
        """The front door's own answers (health, a missing signature header, a kind whose
        queue is full) written here, without an ASGI task: under an unauthenticated flood
        the task, uvicorn's proxy-header middleware and the ASGI messages of such an answer
        cost more of the event loop than the answer itself (issue 9, "Load")."""
        door, beats = _layers(app)
        if (self._feeding and cycle.more_body and beats is not None and door is not None and self._beats_here
                and not self.flow.write_paused and not self._plain_tried):
            # A heartbeat that may be plain: the door would let it through (``plain_head``), and
            # data_received answers it straight once its body is parsed (``_plain_beat``).
            head = beats.plain_head(cycle.scope, door)
            if head is not None:
                self._pending_plain = (cycle, app, beats, head)
                return
        answer = (door.quick_answer(cycle.scope, len(self.connections))
                  if door is not None and not self.flow.write_paused else None)
        if answer is None:
            if beats is not None and self._beats_here and beats.takes(cycle.scope):
                cycle.scope[ARRIVED_KEY] = time.monotonic()  # as the door stamps it
                if self._feeding and cycle.more_body:
                    self._pending_beat = (cycle, app, beats)  # data_received decides, once parsed
                else:  # a pipelined request started after its predecessor's answer
                    self._beat_now_or_task(cycle, app, beats)
                return
            super()._start_asgi_task(cycle, app)  # type: ignore[misc]
            return
        self._write_whole(cycle, answer)

    def _beat_now_or_task(self, cycle, app, beats: HeartbeatFastPath) -> None:  # type: ignore[no-untyped-def]
        """A heartbeat whose whole body has come (the usual case: a small beat in one read)
        answered here when the heartbeat writer answers it on the spot (a plain beat, a replay,
        a clock refused), in one write; any other — its body not complete in this read, larger
        than the JSON limit or the process's body budget, a beat that must go to the writer,
        writing paused — goes on as an ASGI task as every request (which reads the body
        uvicorn's cycle holds, and gives the same answers)."""
        if self.transport.is_closing():
            return  # the parser refused what followed (uvicorn answered 400 and closes)
        if not cycle.more_body and not self.flow.write_paused and _fits(beats, cycle):
            answer = beats.answer_at_once(cycle.scope, bytes(cycle.body))
            if answer is not None:
                self._write_whole(cycle, answer)
                return
        super()._start_asgi_task(cycle, app)  # type: ignore[misc]

    def _plain_beat(self, cycle, app, beats: HeartbeatFastPath, head: PlainHead) -> None:  # type: ignore[no-untyped-def]
        """A plain heartbeat (issue 11, "Speed"): its whole body came in the read of its head, and
        the heartbeat writer answers it at once (``HeartbeatFastPath.plain_answer``): one write of
        the answer, framed as ``_write_whole`` frames it. Any other — its body not whole in this
        read, writing paused, not answered at once — goes the present way, as from
        ``_start_asgi_task`` (which the door would have let through: ``plain_head``)."""
        if self.transport.is_closing():
            return  # the parser refused what followed (uvicorn answered 400 and closes)
        body = cycle.body
        if not cycle.more_body and not self.flow.write_paused and len(body) <= beats.settings.max_json_bytes:
            answer = beats.plain_answer(head, body)
            if answer is not None:
                self._write_framed(cycle, 200, answer[0], False, answer[1])
                return
        cycle.scope[ARRIVED_KEY] = time.monotonic()  # as the door stamps it
        self._beat_now_or_task(cycle, app, beats)

    def _write_whole(self, cycle, answer: Answer) -> None:  # type: ignore[no-untyped-def]
        status, headers, body = answer
        if not self._one_write:
            # uvicorn's own send, so the answer is framed, kept alive or closed as any other;
            # it cannot wait while writing is not paused (checked above), so it completes now.
            _complete_now(cycle.send({"type": "http.response.start", "status": status, "headers": headers}))
            _complete_now(cycle.send({"type": "http.response.body", "body": body, "more_body": False}))
            return
        # What uvicorn's send writes for a whole answer with a Content-Length (the status line,
        # its default headers — date, server — and ours, ``connection: close`` when the
        # connection is not kept alive), in one write, not two: one send() system call.
        says_close = (b"connection", b"close") in headers  # our answers' only Connection header
        lines = b"".join([name + b": " + value + b"\r\n" for name, value in headers])
        self._write_framed(cycle, status, lines, says_close, body)

    def _write_framed(self, cycle, status: int, head: bytes, says_close: bool,  # type: ignore[no-untyped-def]
                      body: bytes) -> None:
        """``head``: the answer's own header lines (each ending in CRLF); ``says_close``: one of
        them is ``connection: close``."""
        keep_alive = cycle.keep_alive and not says_close
        cycle.keep_alive = keep_alive
        cycle.response_started = True
        cycle.waiting_for_100_continue = False
        if self.access_log:
            self._log_answer(cycle.scope, status)
        end_of_head = b"\r\n" if keep_alive or says_close else b"connection: close\r\n\r\n"
        self._write_answer(status, head, end_of_head, body)
        cycle.response_complete = True
        cycle.message_event.set()
        if not keep_alive:
            self.transport.close()
        cycle.on_response()

    def _write_answer(self, status: int, head: bytes, end_of_head: bytes, body: bytes) -> None:
        """The status line, uvicorn's default headers, ``head``, ``end_of_head`` (the blank line,
        with ``connection: close`` before it when we close), ``body``: one write."""
        self.transport.write(b"".join((
            STATUS_LINE[status], _default_head(self.server_state.default_headers), head, end_of_head, body)))

    def _log_answer(self, scope, status: int) -> None:  # type: ignore[no-untyped-def]
        """uvicorn's access log line for an answer (as its ``RequestResponseCycle.send`` logs it)."""
        self.access_logger.info('%s - "%s %s HTTP/%s" %d', get_client_addr(scope), scope["method"],
                                get_path_with_query_string(scope), scope["http_version"], status)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)
        keep_alive_timer = getattr(self, "timeout_keep_alive_task", None)
        if keep_alive_timer is not None:  # (the lazy one is not cancelled by uvicorn's own)
            keep_alive_timer.cancel()
            self.timeout_keep_alive_task = None

    def _waiting_for_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._waiting_for_head() and not self.transport.is_closing():
            self.transport.close()


_LAYERS: dict[int, tuple[object, FrontDoor | None, HeartbeatFastPath | None]] = {}


def _layers(app: object) -> tuple[FrontDoor | None, HeartbeatFastPath | None]:
    """The FrontDoor inside the app uvicorn serves (behind its proxy-header middleware) and the
    heartbeat's fast path behind it (looked for once per app: asked per request)."""
    known = _LAYERS.get(id(app))
    if known is not None and known[0] is app:
        return known[1], known[2]
    door: FrontDoor | None = None
    beats: HeartbeatFastPath | None = None
    layer: object = app
    for _ in range(6):
        if isinstance(layer, FrontDoor) and door is None:
            door = layer
        elif isinstance(layer, HeartbeatFastPath) and door is not None:
            beats = layer  # only behind the door: its checks come first
            break
        # vars(): a layer's own ``app``, not one its ``__getattr__`` would hand out
        layer = vars(layer).get("app") if hasattr(layer, "__dict__") else None
        if layer is None:
            break
    _LAYERS[id(app)] = (app, door, beats)
    return door, beats


def _fits(beats: HeartbeatFastPath, cycle) -> bool:  # type: ignore[no-untyped-def]
    """The body is within the JSON limit, and a Content-Length was declared that the process's
    body budget can hold now (else the ASGI task's body reader gives its refusal)."""
    try:
        beats.body_reader.check_declared(cycle.scope, beats.settings.max_json_bytes)
    except BodyRefused:
        return False
    return declared_length(cycle.scope) is not None and len(cycle.body) <= beats.settings.max_json_bytes


# A plain heartbeat read from its bytes (``GuardedHttpToolsProtocol._answered_from_bytes``): this
# request line exactly, then header lines a strict whitelist takes — a token, a colon, one space, a
# value of visible ASCII with single spaces inside and none around it, CRLF — and the blank line.
# One regular expression reads the whole head in one pass: it takes the four signature headers, the
# Content-Length (digits), Host and Connection (``keep-alive`` only) at most once each (a second
# one fails the match: ``(?(n)(?!))``), any other name but Transfer-Encoding, Expect and Upgrade,
# and keeps the values it needs. Names in any case, as HTTP has them. Anything else (obs-fold, a
# tab, a bare LF, a byte over 0x7e, an empty value, another method, path, query or version) is not
# read here: httptools and uvicorn read it, as before.
_PLAIN_BEAT_LINE = b"POST " + HEARTBEAT_PATH.encode("ascii") + b" HTTP/1.1\r\n"
_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]++"  # RFC 9110's tchar
_VISIBLE = rb"[\x21-\x7e]++(?: [\x21-\x7e]++)*+"


def _any_case(name: bytes) -> bytes:
    """``name`` in any case, as character classes (re.IGNORECASE made the match twice as long)."""
    return b"".join(b"[%c%c]" % (char, char - 32) if 97 <= char <= 122 else re.escape(bytes([char]))
                    for char in name)


def _once(group: int, name: bytes, value: bytes = b"(" + _VISIBLE + b")") -> bytes:
    """A header line of ``name``, its value captured as ``group``; the match fails on a second one."""
    return _any_case(name) + b": (?(%d)(?!))" % group + value


# Groups: 1-4 the signature headers (SIGNATURE_HEADER_NAMES' order), 5 Content-Length, 6 Host.
_PLAIN_HEAD = re.compile(
    rb"(?:\r\n(?:" + b"|".join([
        *(_once(group, name) for group, name in enumerate(SIGNATURE_HEADER_NAMES, 1)),
        _once(5, b"content-length", rb"([0-9]++)"), _once(6, b"host"),
        _once(7, b"connection", rb"((?i:keep-alive))"),
        rb"(?!(?i:" + b"|".join([*SIGNATURE_HEADER_NAMES, b"content-length", b"host", b"connection",
                                  b"transfer-encoding", b"expect", b"upgrade"]) + rb"):)"
        + _TOKEN + b": " + _VISIBLE,
    ]) + rb"))++\r\n")


def _whole_plain_request(data: bytes) -> tuple[tuple[bytes | None, ...], bytes] | None:
    """A read that is exactly one whole ``POST /api/v1/heartbeat HTTP/1.1``, its head read in one
    strict pass (``_PLAIN_HEAD``): the four signature headers' values as sent (None: absent) and
    the Content-Length's, and the body. None at any doubt — a header line the whitelist does not
    take, one of those names twice, no Host, a Transfer-Encoding, an Expect, an Upgrade, a
    Connection other than ``keep-alive``, a Content-Length that is not the body's length in plain
    digits (a body short, a body longer — a pipelined request after it — or none declared)."""
    start = len(_PLAIN_BEAT_LINE) - 2
    end = data.find(b"\r\n\r\n", start)
    if end < 0 or not data.startswith(_PLAIN_BEAT_LINE):
        return None
    head = _PLAIN_HEAD.fullmatch(data, start, end + 2)
    if head is None or head[6] is None:
        return None
    body = data[end + 4:]
    if head[5] != b"%d" % len(body):
        return None
    return head.group(1, 2, 3, 4, 5), body


_last_defaults: list = [None, b""]


def _default_head(default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """uvicorn's default headers (its ``server`` and ``date``: a new list every second), joined."""
    if _last_defaults[0] is not default_headers:
        _last_defaults[0], _last_defaults[1] = default_headers, b"".join(
            name + b": " + value + b"\r\n" for name, value in default_headers)
    return _last_defaults[1]


def _complete_now(step: Coroutine[object, None, None]) -> None:
    """Run a coroutine that does not wait; a coroutine that would wait is a bug here."""
    try:
        step.send(None)
    except StopIteration:
        return
    step.close()
    raise RuntimeError("an answer at the door had to wait")


class GuardedH11Protocol(_Guard, H11Protocol):
    # h11 never calls ``_start_asgi_task``: its requests all run as tasks (FrontDoor.__call__
    # gives the door's answers there).
    _beats_here = False


if HttpToolsProtocol is not None:
    class GuardedHttpToolsProtocol(_Guard, HttpToolsProtocol):
        _beats_here = True  # heartbeats answered in the protocol (``_beat_now_or_task``)
        _one_write = True
        _lazy_head_timer = True
        _from_bytes = True  # a plain beat answered from its bytes (False: the present way; tests)
        _in_message = False  # a message begun and not complete: the parser is not at a start
        _beat_layers: tuple[FrontDoor | None, HeartbeatFastPath | None] | None = None  # _layers(app)

        def data_received(self, data: bytes) -> None:
            if data.startswith(_PLAIN_BEAT_LINE) and self._from_bytes and self._answered_from_bytes(data):
                return
            try:
                super().data_received(data)
            finally:
                self._plain_tried = False

        def _answered_from_bytes(self, data: bytes) -> bool:
            """A read that is exactly one whole plain heartbeat, answered without httptools (issue
            11, "Speed": its callbacks, the scope, the cycle and its event were ≈ 10 % of a plain
            beat's CPU): the head read from the bytes (``_whole_plain_request``), the present
            straight path's checks (``HeartbeatFastPath.plain_fields``, ``plain_answer``) and its
            answer, byte for byte, in one write; then what uvicorn does after an answer (the
            keep-alive timer, the request count: ``on_response_complete``). Only on a connection
            at rest — no message begun, no answer owed, nothing pipelined, writing not paused,
            served without a root path or a concurrency limit — else, or when the beat is not
            plain or not answered at once, False having written nothing: the parser reads it."""
            cycle = self.cycle
            if (self._in_message or (cycle is not None and not cycle.response_complete) or self.pipeline
                    or self.flow.write_paused or self.transport.is_closing() or self.root_path
                    or self.limit_concurrency is not None):
                return False
            request = _whole_plain_request(data)
            if request is None:
                return False
            layers = self._beat_layers
            if layers is None:  # asked once per connection (a kiosk's stays open for its beats)
                layers = self._beat_layers = _layers(self.app)
            door, beats = layers
            if door is None or beats is None:
                return False
            fields, body = request
            head = beats.plain_fields(*fields, door)
            if head is None:
                return False
            answer = beats.plain_answer(head, body)
            if answer is None:  # the present way answers it, without asking plain_answer again
                self._plain_tried = True
                return False
            beats.answered_from_bytes += 1
            if self.access_log:  # as for the same beat read by uvicorn (its scope's client: the peer)
                self._log_answer({"client": self.client, "method": "POST", "path": HEARTBEAT_PATH,
                                  "query_string": b"", "http_version": "1.1"}, 200)
            self._write_answer(200, answer[0], b"\r\n", answer[1])
            self.on_response_complete()
            return True

        def on_message_begin(self) -> None:
            self._in_head = True
            self._in_message = True
            super().on_message_begin()

        def on_message_complete(self) -> None:
            self._in_message = False
            super().on_message_complete()

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()

        # The keep-alive timer, armed lazily: uvicorn arms one (``call_later``) after every answer
        # and cancels it at the next request's first read — a timer made and cancelled per
        # request, ~2 % of a plain heartbeat's CPU on the loop. Here one timer stays armed while
        # the connection serves; when it fires it closes the connection only if it has been idle
        # since an answer for ``timeout_keep_alive`` (uvicorn's rule), else it is set again for
        # what is left of that (or, a request in progress, left to the answer to set).
        _idle_since: float | None = None  # loop time of the last answer; None: a request is in

        def _unset_keepalive_if_required(self) -> None:
            self._idle_since = None

        def on_response_complete(self) -> None:
            # uvicorn's HttpToolsProtocol.on_response_complete (0.54), but the keep-alive timer
            # armed only when none is (and the head timer disarmed, as ``_Guard``'s).
            self._disarm_head_timer()
            self.server_state.total_requests += 1
            if self.transport.is_closing():
                return
            self._idle_since = None
            self.flow.resume_reading()
            if self.pipeline:
                cycle, app = self.pipeline.pop()
                self._start_asgi_task(cycle, app)
                return
            self._idle_since = self.loop.time()
            if self.timeout_keep_alive_task is None:
                self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive,
                                                                    self._keep_alive_due)

        def _keep_alive_due(self) -> None:
            self.timeout_keep_alive_task = None
            idle_since = self._idle_since
            if idle_since is None:
                return  # a request is being served: its answer sets the timer again
            left = idle_since + self.timeout_keep_alive - self.loop.time()
            if left > 0:
                self.timeout_keep_alive_task = self.loop.call_later(left, self._keep_alive_due)
                return
            self.timeout_keep_alive_handler()


def protocol_path() -> str:
    """The import path of the guarded protocol ``county-hall serve`` hands uvicorn."""
    name = "GuardedHttpToolsProtocol" if HttpToolsProtocol is not None else "GuardedH11Protocol"
    return f"{__name__}:{name}"


def listening_sockets(host: str, port: int, count: int, backlog: int) -> list[socket.socket]:
    """``count`` listening TCP sockets on ``host:port`` (``SO_REUSEPORT`` when more than one;
    Linux only lets processes of the same user join them). Port 0: one free port for all.
    A port another process listens on is refused (``OSError``), with or without its own
    ``SO_REUSEPORT``: a second hall must not silently take a share of the first's connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:  # no SO_REUSEPORT: in use = refused
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        port = probe.getsockname()[1]
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if count > 1:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.listen(backlog)
            sock.set_inheritable(True)  # ``--workers N``: the worker processes serve them too
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets
