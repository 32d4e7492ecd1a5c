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

The body of a request is guarded by hall/api/body_limit.py (idle and total timeouts).
The limits come from the settings the serve command hands each worker process
(``hall.app.ENV_SERVE_SETTINGS``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import Coroutine
from functools import cache

from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed: h11 only
    HttpToolsProtocol = None

from hall.api.errors import error_body
from hall.api.front_door import FrontDoor
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

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        settings = _settings()
        self.header_timeout_s = settings.header_timeout_s
        self.max_connections = settings.max_connections
        self.retry_after_s = settings.retry_after_s
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            log.warning("over %d connections: answering busy", self.max_connections)
            transport.write(busy_response(self.retry_after_s))
            transport.close()
            return
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        if self._waiting_for_head() and self._head_timer is None:
            self._arm_head_timer()
        super().data_received(data)
        if not self._waiting_for_head():
            self._disarm_head_timer()

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
        door = _front_door(app)
        answer = (door.quick_answer(cycle.scope, len(self.connections))
                  if door is not None and not self.flow.write_paused else None)
        if answer is None:
            super()._start_asgi_task(cycle, app)  # type: ignore[misc]
            return
        status, headers, body = answer
        # uvicorn's own send, so the answer is framed, kept alive or closed as any other;
        # it cannot wait while writing is not paused (checked above), so it completes now.
        _complete_now(cycle.send({"type": "http.response.start", "status": status, "headers": headers}))
        _complete_now(cycle.send({"type": "http.response.body", "body": body, "more_body": False}))

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

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


def _front_door(app: object) -> FrontDoor | None:
    """The FrontDoor inside the app uvicorn serves (behind its proxy-header middleware)."""
    for _ in range(4):
        if isinstance(app, FrontDoor):
            return app
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


def _complete_now(step: Coroutine[object, None, None]) -> None:
    """Run a coroutine that does not wait; a coroutine that would wait is a bug here."""
    try:
        step.send(None)
    except StopIteration:
        return
    step.close()
    raise RuntimeError("an answer at the door had to wait")


class GuardedH11Protocol(_Guard, H11Protocol):
    pass


if HttpToolsProtocol is not None:
    class GuardedHttpToolsProtocol(_Guard, HttpToolsProtocol):
        pass


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
