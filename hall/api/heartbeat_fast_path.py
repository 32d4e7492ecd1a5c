"""``POST /api/v1/heartbeat`` answered as raw ASGI, before FastAPI (issue 11, "Speed").

The fleet's hottest request: 30,000 kiosks at one a minute are 500 a second. Through
FastAPI it cost ~6-10 ms of CPU (routing, dependencies, five ASGI middlewares, a thread-pool
trip, a transaction); here the event loop reads the body (size-bound and timed, like
hall/api/body_limit.py) and either answers it at once — a plain beat, checked against the
writer's cache and written behind (``HeartbeatWriter.answer_now``: no trip to another thread,
no database) — or hands it to the process's heartbeat writer (hall/api/heartbeat_writer.py),
which checks, writes and answers a whole batch of kiosks in one transaction; the answer goes
out signed like every API answer (``X-Hall-Signature``,
hall/api/answer_signing.py). Same checks, same statuses and bodies as the FastAPI route
(hall/api/routes/fleet.py, which still documents it in the OpenAPI schema and serves it
when the app runs without this layer).

Under ``county-hall serve`` (httptools) a heartbeat whose body came with its head is not even
an ASGI request: the connection's protocol calls ``answer_at_once`` and writes the answer
itself (hall/api/connection_guard.py); ``__call__`` answers the rest, and every heartbeat
under h11 or in tests that call the application.

Every other request, and the lifespan (which starts and stops the writer), goes on to the
application unchanged. ``serve_app`` puts this behind the front door, so health and the
door's shedding come first.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import time
from typing import Any

from fastapi import FastAPI

from hall.api.admission import ARRIVED_KEY
from hall.api.answer_signing import signature_header
from hall.api.body_limit import (
    Answer,
    BodyReader,
    BodyRefused,
    ClientLeft,
    Message,
    Receive,
    Scope,
    Send,
    send_answer,
    signed_path_and_query,
)
from hall.api.errors import encode_json
from hall.api.errors import error_body as _error_body
from hall.api.front_door import FrontDoor
from hall.api.heartbeat_writer import Beat, HeartbeatWriter
from hall.errors import HallError
from hall.services.signatures import public_key_of
from offline_queue.signing import (
    ANSWER_CONTEXT,
    HEADER_DEVICE,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    AnswerSigner,
    signature_matches,
)

log = logging.getLogger("hall.api")
HEARTBEAT_PATH = "/api/v1/heartbeat"
# Set in the scope when the connection's protocol asked ``answer_now`` and was told no.
_TRIED_KEY = "hall.beat_tried"
_SIGNATURE_HEADERS = {name.lower().encode("latin-1"): name
                      for name in (HEADER_DEVICE, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)}
# A plain beat's head (``plain_head``): the four signature headers (device, timestamp, nonce,
# signature: ``_SIGNATURE_HEADERS``' order) and the body's length, each once, at these places; a
# Transfer-Encoding makes it not plain.
_PLAIN_SLOTS = {**{name: slot for slot, name in enumerate(_SIGNATURE_HEADERS)},
                b"content-length": 4, b"transfer-encoding": 5}
_HEARTBEAT_RAW_PATH = HEARTBEAT_PATH.encode("ascii")
# The four signature headers' names as a request's bytes name them, lower-cased, in
# ``plain_fields``' order (device, timestamp, nonce, signature): for a head read from its bytes.
SIGNATURE_HEADER_NAMES: tuple[bytes, ...] = tuple(_SIGNATURE_HEADERS)
# What the request's signature covers before its timestamp (offline_queue.signing.canonical_string
# of a heartbeat: device id, method, path, the empty query), and the answer's (answer_string).
_SIGNED_AFTER_DEVICE = b"\nPOST\n" + _HEARTBEAT_RAW_PATH + b"\n\n"
_ANSWER_CONTEXT = ANSWER_CONTEXT.encode("ascii") + b"\n"
PlainHead = tuple[bytes, bytes, bytes, bytes]  # device id, timestamp, nonce, signature: as sent


class _NoBody(Exception):
    """Answered already (too large, too slow) or the client left."""


class HeartbeatFastPath:
    """``HeartbeatFastPath(app)`` around the FastAPI application ``create_app`` made."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        state = app.state
        self.settings = state.settings
        self._sign_key = AnswerSigner(state.keys.sign_private)  # libsodium's (same signatures)
        self.body_reader: BodyReader = state.body_reader
        self.answered_at_once = 0  # answered by the connection's protocol (``answer_at_once``; tests)
        self.answered_plain = 0  # of those, by the straight path (``plain_answer``; tests)
        self.answered_from_bytes = 0  # of those, read from the request's bytes (connection_guard.py)
        self._plain_hash: tuple[bytes, bytes] = (b"", b"")  # the plain answer and its SHA-256 (hex)
        self.writer = HeartbeatWriter(state.engine, state.settings, state.keys, state.clock,
                                      self._deliver)

    def __getattr__(self, name: str) -> object:
        return getattr(self.app, name)  # ``app.state`` and friends, as on the application

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == HEARTBEAT_PATH and scope["method"] == "POST":
            await self._heartbeat(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self.app(scope, self._lifespan(receive), send)
        else:
            await self.app(scope, receive, send)

    def _lifespan(self, receive: Receive) -> Receive:
        async def watching() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.writer.start()
            elif message["type"] == "lifespan.shutdown":
                self.writer.stop()
            return message
        return watching

    def takes(self, scope: Scope) -> bool:
        """Whether ``scope`` is a request this layer answers (the heartbeat)."""
        return scope["path"] == HEARTBEAT_PATH and scope["method"] == "POST"

    def answer_at_once(self, scope: Scope, body: bytes) -> Answer | None:
        """The whole answer to a heartbeat whose body has arrived, when ``HeartbeatWriter.answer_now``
        gives it on the spot (a plain beat, a replay, a clock refused), else None: the request
        goes on as an ASGI task (``__call__``), which then hands it to the writer without asking
        ``answer_now`` again. Synchronous, for the connection's protocol, which calls it with the
        body it parsed in the same read as the head (hall/api/connection_guard.py); the caller
        has checked the body's size against ``max_json_bytes`` and the process's body budget."""
        headers = _signature_headers(scope)
        path, query = signed_path_and_query(scope)
        beat = Beat(headers, path, query, body, arrived=scope.get(ARRIVED_KEY) or time.monotonic())
        if not self.writer.answer_now(beat):
            scope[_TRIED_KEY] = True
            return None
        self.answered_at_once += 1
        return self._answer_of(headers, beat)

    # -- a plain beat, straight (issue 11, "Speed") ---------------------------------------

    def plain_head(self, scope: Scope, door: FrontDoor) -> PlainHead | None:
        """The head of a request that may be a plain heartbeat, read from uvicorn's scope in one
        pass: ``POST /api/v1/heartbeat`` as sent, no query, the four signature headers and one
        Content-Length, each once, no Transfer-Encoding; then ``plain_fields``' checks. None: the
        request goes the present way (the door, ``answer_at_once``, the ASGI task), which gives
        every other answer."""
        if scope["method"] != "POST" or scope["raw_path"] != _HEARTBEAT_RAW_PATH or scope["query_string"]:
            return None
        found: list[bytes | None] = [None, None, None, None, None, None]
        slots = _PLAIN_SLOTS
        for name, value in scope["headers"]:
            slot = slots.get(name)
            if slot is not None:
                if found[slot] is not None:
                    return None  # twice: which one counts is the present way's to say
                found[slot] = value
        if found[5] is not None:
            return None  # a Transfer-Encoding
        return self.plain_fields(found[0], found[1], found[2], found[3], found[4], door)

    def plain_fields(self, device: bytes | None, timestamp: bytes | None, nonce: bytes | None,
                     signature: bytes | None, length: bytes | None, door: FrontDoor) -> PlainHead | None:
        """A plain heartbeat's head from its header values as sent (each given once; None: absent),
        whoever read them — uvicorn's scope (``plain_head``) or the connection's protocol from the
        request's bytes (hall/api/connection_guard.py): the four signature headers not empty,
        ASCII, the timestamp in digits, a Content-Length within the JSON limit and the process's
        body budget, a kiosk the door knows and nothing waiting for the kiosks' places (so the
        front door would let it through: hall/api/front_door.py). None: not plain."""
        if (not device or not timestamp or not nonce or not signature or length is None
                or not device.isascii() or not nonce.isascii()
                or not timestamp.isdigit() or len(timestamp) > 18
                or not length.isdigit() or len(length) > 18):
            return None
        declared = int(length)
        settings = self.settings
        if declared > settings.max_json_bytes or (self.body_reader.held + declared
                                                  > settings.max_buffered_bytes):
            return None
        known = door.known
        if (known is not None and not known.knows(device)) or door.gate.waiting["kiosk"]:
            return None  # the door's kind "public", or its shedding: the door decides
        return device, timestamp, nonce, signature

    def plain_answer(self, head: PlainHead, body: bytes) -> tuple[bytes, bytes] | None:
        """What follows the status line and the server's default headers in the answer to a plain
        beat (its headers, but for the connection's and the blank line; its body) when the writer
        answers it at once (``HeartbeatWriter.answer_plain``), else None with nothing done: the
        caller gives the beat to ``answer_at_once``. The same bytes ``_answer_of`` and the
        protocol's framing make (tests/hall/test_heartbeat_in_protocol.py compares them)."""
        device, timestamp, nonce, signature = head
        try:
            raw_signature = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            return None
        signed = b"".join((device, _SIGNED_AFTER_DEVICE, timestamp, b"\n", nonce, b"\n",
                           hashlib.sha256(body).hexdigest().encode("ascii")))
        encoded = self.writer.answer_plain(device.decode("ascii"), nonce.decode("ascii"), int(timestamp),
                                           signed, raw_signature, body, _verifies)
        if encoded is None:
            return None
        self.answered_at_once += 1
        self.answered_plain += 1
        known = self._plain_hash
        if known[0] is not encoded:  # the plain answer changes once a second
            known = self._plain_hash = (encoded, hashlib.sha256(encoded).hexdigest().encode("ascii"))
        # binascii's, as base64.b64encode calls it (without that function's Python frame)
        answer_signature = binascii.b2a_base64(self._sign_key.sign(b"".join(
            (_ANSWER_CONTEXT, device, b"\n", nonce, b"\n200\n", known[1]))), newline=False)
        return b"content-type: application/json\r\ncontent-length: %d\r\nx-hall-signature: %s\r\n" % (
            len(encoded), answer_signature), encoded

    async def _heartbeat(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _signature_headers(scope)
        try:
            body = await self._read_body(scope, receive, send, headers)
        except _NoBody:
            return
        path, query = signed_path_and_query(scope)
        beat = Beat(headers, path, query, body, arrived=scope.get(ARRIVED_KEY) or time.monotonic())
        self.writer.ensure_running()  # an app called without its lifespan (benchmarks, tests)
        # A plain beat (or a refusal) answered here, on the loop — unless the connection's protocol
        # already asked (answer_at_once) and was told no.
        if not scope.get(_TRIED_KEY) and self.writer.answer_now(beat):
            await send_answer(send, self._answer_of(headers, beat))
            return
        loop = asyncio.get_running_loop()
        beat.waiter = (loop, loop.create_future())
        if not self.writer.submit(beat):
            busy = _error_body("busy", "the hall is busy; try again later")
            await send_answer(send, self._signed(headers, 503, busy, retry=True))
            return
        await beat.waiter[1]
        await send_answer(send, self._answer_of(headers, beat))

    def _answer_of(self, headers: dict[str, str], beat: Beat) -> Answer:
        if beat.answer is not None:
            return self._signed(headers, 200, beat.encoded or encode_json(beat.answer).encode())
        error = beat.error or HallError("no answer")
        log.info("POST %s -> %s %s", HEARTBEAT_PATH, error.status, error.code)
        return self._signed(headers, error.status, _error_body(error.code, error.detail),
                            retry=error.status == 429 or error.status > 500)

    async def _read_body(self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]) -> bytes:
        """The whole body, at most ``max_json_bytes``, read by the process's one body reader
        (hall/api/body_limit.py: the same refusals and timeouts as every other request, and
        counted toward ``max_buffered_bytes`` until this request's task ends: its answer sent)."""
        reader = self.body_reader
        try:
            body = await reader.take(scope, receive, self.settings.max_json_bytes)
        except BodyRefused as refused:
            refusal = _error_body(refused.code, refused.detail)
            await send_answer(send, self._signed(headers, refused.status, refusal, retry=refused.transient,
                                                 close=True))
            raise _NoBody() from None
        except ClientLeft:
            raise _NoBody() from None
        reader.release_with_task(len(body))
        return body

    def _signed(self, request_headers: dict[str, str], status: int, body: bytes, *,
                retry: bool = False, close: bool = False) -> Answer:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        if retry:
            headers.append((b"retry-after", str(self.settings.retry_after_s).encode()))
        if close:
            headers.append((b"connection", b"close"))
        device_id, nonce = request_headers.get(HEADER_DEVICE), request_headers.get(HEADER_NONCE)
        if device_id and nonce:  # as AnswerSigning: a signed request gets a signed answer
            headers.append(signature_header(self._sign_key, device_id, nonce, status, body))
        return status, headers, body

    def _deliver(self, batch: list[Beat]) -> None:
        """On the writer's thread: wake each beat's request on its event loop, one call per loop."""
        loops: dict[Any, list[Beat]] = {}
        for beat in batch:
            if beat.waiter is not None:
                loops.setdefault(beat.waiter[0], []).append(beat)
        for loop, beats in loops.items():
            try:
                loop.call_soon_threadsafe(_wake, beats)
            except RuntimeError:  # that loop has closed: nobody waits any more
                pass


def _signature_headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        known = _SIGNATURE_HEADERS.get(name)
        if known is not None and known not in headers:  # the first, as Starlette's headers.get
            headers[known] = value.decode("latin-1")
    return headers


def _wake(beats: list[Beat]) -> None:
    for beat in beats:
        future = beat.waiter[1]
        if not future.done():
            future.set_result(None)


def _verifies(public_key: bytes, signed: bytes, signature: bytes) -> bool:
    """``offline_queue.signing.verify_signature``'s check of ``signature`` over the canonical
    string ``signed``, with the kiosk's pinned key (libsodium)."""
    return signature_matches(public_key_of(public_key), signed, signature)
