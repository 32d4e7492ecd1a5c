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

The application then gets the whole body in one message. The reading and counting is
``BodyReader``'s, one per process, which the heartbeat's fast path shares
(hall/api/heartbeat_fast_path.py): its bodies count toward the same bound. The limit per route is
``limit_for(method, path)``: a chunk for ``PATCH /api/v1/uploads/…`` and for a create that
carries the first bytes (``POST /api/v1/uploads``, ``application/offset+octet-stream``), the JSON limit of
docs/protocol.md for the rest of ``/api/v1``, a few KiB for the unsigned enrolment and
for console forms.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from hall.api.errors import error_body
from hall.core.config import Settings
from hall.services.uploads import carries_first_bytes

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# A status form with the result file of a completed application (3 MiB) and its fields.
CONSOLE_RESULT_FORM_BYTES = 3 * 1024 * 1024 + 64 * 1024


def limit_for(settings: Settings, method: str, path: str, content_type: bytes = b"") -> int:
    """The largest body this route accepts, in bytes. ``content_type``: the request's, which
    tells a create that carries the upload's first bytes (a chunk) from the JSON create."""
    if path.startswith("/api/v1/uploads/") and method == "PATCH":
        return settings.max_chunk_bytes
    if path == "/api/v1/uploads" and method == "POST" and carries_first_bytes(content_type.decode("latin-1")):
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


def scope_limit(settings: Settings, scope: Scope) -> int:
    """``limit_for`` the request in ``scope``."""
    method, path = scope["method"], scope["path"]
    content_type = b""
    if method == "POST" and path == "/api/v1/uploads":  # the one route whose limit its type decides
        for name, value in scope.get("headers", ()):
            if name == b"content-type":
                content_type = value
                break
    return limit_for(settings, method, path, content_type)


Answer = tuple[int, list[tuple[bytes, bytes]], bytes]  # status, headers, body: a whole small answer


def error_answer(status: int, code: str, detail: str, *, retry_after: int | None = None,
                 close: bool = False) -> Answer:
    """A complete ``{"error", "detail"}`` answer."""
    body = error_body(code, detail)
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


def signed_path_and_query(scope: Scope) -> tuple[str, list[tuple[str, str]]]:
    """What a request's signature covers of its target, read from the scope as Starlette does
    for the FastAPI routes: the raw path, and the query's pairs (blank values kept)."""
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope["path"]
    query = scope.get("query_string", b"")
    # No query (every kiosk request but a few): no parse, the same empty list parse_qsl gives.
    return path, parse_qsl(query.decode("latin-1"), keep_blank_values=True) if query else []


def declared_length(scope: Scope) -> int | None | str:
    """``Content-Length`` as an int, None when absent, "bad" when it is not ASCII digits."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.strip()
            if len(text) > 18 or not text.isdigit():  # bytes.isdigit: ASCII digits only, False for b""
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


class ClientLeft(Exception):
    """The client went away while sending its body: there is no one to answer."""


class BodyRefused(Exception):
    """The body is not taken; ``answer(retry_after_s)`` says why (the connection is closed:
    the rest of the body is not read)."""

    def __init__(self, status: int, code: str, detail: str, *, transient: bool = False) -> None:
        super().__init__(code)
        self.status, self.code, self.detail, self.transient = status, code, detail, transient

    def answer(self, retry_after_s: int) -> Answer:
        return error_answer(self.status, self.code, self.detail,
                            retry_after=retry_after_s if self.transient else None, close=True)


def _busy() -> BodyRefused:
    return BodyRefused(503, "busy", "the hall is busy; try again later", transient=True)


def _too_slow() -> BodyRefused:
    return BodyRefused(503, "body_timeout", "the request body arrived too slowly", transient=True)


class BodyReader:
    """The one reader of request bodies of a process, and the count of the bytes they hold.

    Used by ``BodyLimitMiddleware`` and by the heartbeat's fast path
    (hall/api/heartbeat_fast_path.py), so every body a process holds counts toward
    ``max_buffered_bytes``. One event loop per process: the count needs no lock. Whoever
    takes a body gives its bytes back with ``release(len(body))`` when done with it.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.held = 0  # bytes of bodies held by this process right now

    def check_declared(self, scope: Scope, limit: int) -> None:
        """Refuse before a byte is read: a bad ``Content-Length``, one over ``limit``, or one
        the process cannot hold now."""
        declared = declared_length(scope)
        if declared == "bad":
            raise BodyRefused(400, "bad_request", "Content-Length must be ASCII digits")
        if isinstance(declared, int):
            if declared > limit:
                raise BodyRefused(413, "too_large", f"body larger than {limit} bytes")
            if self.held + declared > self.settings.max_buffered_bytes:
                raise _busy()

    async def take(self, scope: Scope, receive: Receive, limit: int) -> bytes:
        """``check_declared``, then ``read``."""
        self.check_declared(scope, limit)
        return await self.read(receive, limit)

    async def read(self, receive: Receive, limit: int) -> bytes:
        """The whole body, counted into ``held`` as it arrives (``release`` it when done).

        Raises ``BodyRefused`` (over ``limit``, the process full of bodies, a pause over
        ``body_idle_timeout_s`` or not complete after ``body_total_timeout_s``) or
        ``ClientLeft``; either way nothing stays counted.
        """
        settings = self.settings
        deadline = time.monotonic() + settings.body_total_timeout_s
        parts: list[bytes] = []
        size = 0
        try:
            while True:
                wait = min(settings.body_idle_timeout_s, deadline - time.monotonic())
                if wait <= 0:
                    raise _too_slow()
                try:
                    # asyncio.timeout, not wait_for: no task of its own per receive (a third of the
                    # heartbeat fast path's event-loop time in a profile).
                    async with asyncio.timeout(wait):
                        message = await receive()
                except TimeoutError:
                    raise _too_slow() from None
                if message["type"] == "http.disconnect":
                    raise ClientLeft()
                chunk = message.get("body", b"")
                if chunk:
                    size += len(chunk)
                    self.held += len(chunk)
                    if size > limit:
                        raise BodyRefused(413, "too_large", f"body larger than {limit} bytes")
                    if self.held > settings.max_buffered_bytes:
                        raise _busy()  # the process is full of bodies: come back later
                    parts.append(chunk)
                if not message.get("more_body", False):
                    return parts[0] if len(parts) == 1 else b"".join(parts)
        except BaseException:
            self.held -= size
            raise

    def release(self, size: int) -> None:
        self.held -= size

    def release_with_task(self, size: int) -> None:
        """Give ``size`` bytes back when the current task ends: for a caller whose body
        lives until its answer is sent (under uvicorn, one task per request)."""
        task = asyncio.current_task()
        if task is None or task.done():
            self.release(size)
        else:
            task.add_done_callback(lambda _task: self.release(size))


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings, reader: BodyReader | None = None) -> None:
        self.app = app
        self.settings = settings
        self.reader = reader or BodyReader(settings)

    @property
    def buffered(self) -> int:
        """Bytes of bodies this process holds now (the reader's count)."""
        return self.reader.held

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == HEALTH_PATH and scope["method"] in ("GET", "HEAD"):
            await send_health(send, scope["method"])  # the cheapest answer: a flood of it costs little
            return
        limit = scope_limit(self.settings, scope)
        reader = self.reader
        try:
            reader.check_declared(scope, limit)
            # Nothing to read or count when no body is declared (most GETs): no timed read,
            # whose timer costs the busy event loop per request (issue 9, "Load").
            body = await reader.read(receive, limit) if declares_body(scope) else None
        except BodyRefused as refused:
            await send_answer(send, refused.answer(self.settings.retry_after_s))
            return
        except ClientLeft:
            return
        if body is None:
            await self.app(scope, receive, send)
            return
        try:
            delivered = False

            async def replay() -> Message:
                nonlocal delivered
                if not delivered:
                    delivered = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()  # only http.disconnect can come now

            await self.app(scope, replay, send)
        finally:
            reader.release(len(body))
