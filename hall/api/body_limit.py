"""Streaming body limits: the first thing every request meets (a pure ASGI middleware).

Starlette's ``request.body()`` buffers whatever arrives, chunked or not, before any
signature check; one chunked request took the hall from 95 MiB to 3 GiB. This
middleware reads the body itself, counting bytes as they arrive, and answers:

* ``413 too_large`` as soon as the route's limit is passed (a declared
  ``Content-Length`` over it is refused before a byte of the body is read);
* ``503 body_timeout`` (with ``Retry-After``) when the body stops arriving for
  ``body_idle_timeout_s`` or is not complete after ``body_total_timeout_s`` — a
  status the kiosk treats as transient, since a slow link is not a bad application;
* ``503 busy`` when the bodies this process holds already add up to
  ``max_buffered_bytes``.

The application then gets the whole body in one message. The limit per route is
``limit_for(method, path)``: a chunk for ``PATCH /api/v1/uploads/…``, the JSON limit of
docs/protocol.md for the rest of ``/api/v1``, a few KiB for the unsigned enrolment and
for console forms.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from hall.core.config import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# A status form with the result file of a completed application (3 MiB) and its fields.
CONSOLE_RESULT_FORM_BYTES = 3 * 1024 * 1024 + 64 * 1024


def limit_for(settings: Settings, method: str, path: str) -> int:
    """The largest body this route accepts, in bytes."""
    if path.startswith("/api/v1/uploads/") and method == "PATCH":
        return settings.max_chunk_bytes
    if path.rstrip("/") == "/api/v1/enrolment":
        return settings.max_enrolment_bytes
    if path.startswith("/api/v1/"):
        return settings.max_json_bytes
    if method == "POST" and path.startswith("/console/applications/") and path.endswith("/status"):
        return CONSOLE_RESULT_FORM_BYTES  # the form may carry a result (hall/services/results.py)
    if method == "POST" and path == "/console/releases/upload":
        return settings.max_release_upload_bytes  # wheels of a release, county admins only
    return settings.max_form_bytes


Answer = tuple[int, list[tuple[bytes, bytes]], bytes]  # status, headers, body: a whole small answer


def error_answer(status: int, code: str, detail: str, *, retry_after: int | None = None,
                 close: bool = False) -> Answer:
    """A complete ``{"error", "detail"}`` answer."""
    body = json.dumps({"error": code, "detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"cache-control", b"no-store")]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    if close:
        headers.append((b"connection", b"close"))
    return status, headers, body


async def send_answer(send: Send, answer: Answer) -> None:
    status, headers, body = answer
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_error(send: Send, status: int, code: str, detail: str, *, retry_after: int | None = None,
                     close: bool = False) -> None:
    """A complete ``{"error", "detail"}`` answer sent straight from a middleware."""
    await send_answer(send, error_answer(status, code, detail, retry_after=retry_after, close=close))


def declared_length(scope: Scope) -> int | None | str:
    """``Content-Length`` as an int, None when absent, "bad" when it is not ASCII digits."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.strip()
            if not text or len(text) > 18 or not all(0x30 <= byte <= 0x39 for byte in text):
                return "bad"
            return int(text)
    return None


def declares_body(scope: Scope) -> bool:
    """True when the request announces a body: a Content-Length over 0, or a
    Transfer-Encoding (RFC 9112 6.3: without either, an HTTP/1.1 request has none)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length" and value.strip().lstrip(b"0") != b"":
            return True
        if name == b"transfer-encoding":
            return True
    return False


HEALTH_PATH = "/api/v1/health"
_HEALTH_BODY = b'{"status":"ok"}'
_HEALTH_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(_HEALTH_BODY)),
                   (b"cache-control", b"no-store")]


def health_answer(method: str) -> Answer:
    """``GET /api/v1/health`` answered before routing (hall/api/routes/health.py documents
    it in the OpenAPI schema and answers the same)."""
    return 200, _HEALTH_HEADERS, b"" if method == "HEAD" else _HEALTH_BODY


async def send_health(send: Send, method: str) -> None:
    await send_answer(send, health_answer(method))


class _Disconnected(Exception):
    """The client went away while sending its body: there is no one to answer."""


class _Timeout(Exception):
    pass


class _TooBig(Exception):
    pass


class _Busy(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.buffered = 0  # bytes of bodies held by this process right now (one event loop)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == HEALTH_PATH and scope["method"] in ("GET", "HEAD"):
            await send_health(send, scope["method"])  # the cheapest answer: a flood of it costs little
            return
        limit = limit_for(self.settings, scope["method"], scope["path"])
        declared = declared_length(scope)
        if declared == "bad":
            await send_error(send, 400, "bad_request", "Content-Length must be ASCII digits", close=True)
            return
        if isinstance(declared, int) and declared > limit:
            await send_error(send, 413, "too_large", f"body larger than {limit} bytes", close=True)
            return
        if isinstance(declared, int) and self.buffered + declared > self.settings.max_buffered_bytes:
            await send_error(send, 503, "busy", "the hall is busy; try again later",
                             retry_after=self.settings.retry_after_s, close=True)
            return
        if not declares_body(scope):
            # Nothing to read or count (most GETs): no timed read, whose task and timer cost
            # the busy event loop several turns per request (issue 9, "Load").
            await self.app(scope, receive, send)
            return
        held = 0
        try:
            try:
                parts, held = await self._read_body(receive, limit)
            except _TooBig:
                await send_error(send, 413, "too_large", f"body larger than {limit} bytes", close=True)
                return
            except _Timeout:
                await send_error(send, 503, "body_timeout", "the request body arrived too slowly",
                                 retry_after=self.settings.retry_after_s, close=True)
                return
            except _Busy:
                await send_error(send, 503, "busy", "the hall is busy; try again later",
                                 retry_after=self.settings.retry_after_s, close=True)
                return
            except _Disconnected:
                return
            body = b"".join(parts)
            parts.clear()
            delivered = False

            async def replay() -> Message:
                nonlocal delivered
                if not delivered:
                    delivered = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()  # only http.disconnect can come now

            await self.app(scope, replay, send)
        finally:
            self.buffered -= held

    async def _read_body(self, receive: Receive, limit: int) -> tuple[list[bytes], int]:
        """The body's pieces and their size, counted into ``self.buffered`` as they arrive."""
        settings = self.settings
        deadline = time.monotonic() + settings.body_total_timeout_s
        parts: list[bytes] = []
        size = 0
        try:
            while True:
                wait = min(settings.body_idle_timeout_s, deadline - time.monotonic())
                if wait <= 0:
                    raise _Timeout()
                try:
                    message = await asyncio.wait_for(receive(), wait)
                except TimeoutError as exc:
                    raise _Timeout() from exc
                if message["type"] == "http.disconnect":
                    raise _Disconnected()
                chunk = message.get("body", b"")
                if chunk:
                    size += len(chunk)
                    self.buffered += len(chunk)
                    if size > limit:
                        raise _TooBig()
                    if self.buffered > settings.max_buffered_bytes:
                        raise _Busy()  # the process is full of bodies: come back later
                    parts.append(chunk)
                if not message.get("more_body", False):
                    return parts, size
        except BaseException:
            self.buffered -= size
            raise
