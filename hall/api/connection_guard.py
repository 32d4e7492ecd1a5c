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

The body of a request is guarded by hall/api/body_limit.py (idle and total timeouts).
The limits come from the settings the serve command hands each worker process
(``hall.app.ENV_SERVE_SETTINGS``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from functools import cache

from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed: h11 only
    HttpToolsProtocol = None

from hall.core.config import Settings

log = logging.getLogger("hall.connections")


@cache
def _settings() -> Settings:
    from hall.app import ENV_SERVE_SETTINGS
    from hall.core.config import load_settings

    return load_settings(**json.loads(os.environ.get(ENV_SERVE_SETTINGS, "{}")))


def busy_response(retry_after_s: int) -> bytes:
    body = b'{"error": "busy", "detail": "the hall is busy; try again later"}'
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
        super().on_response_complete()
        # Between requests uvicorn's keep-alive timer runs; the head timer starts again
        # with the next request's first byte (data_received).

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


class GuardedH11Protocol(_Guard, H11Protocol):
    pass


if HttpToolsProtocol is not None:
    class GuardedHttpToolsProtocol(_Guard, HttpToolsProtocol):
        pass


def protocol_path() -> str:
    """The import path of the guarded protocol ``county-hall serve`` hands uvicorn."""
    name = "GuardedHttpToolsProtocol" if HttpToolsProtocol is not None else "GuardedH11Protocol"
    return f"{__name__}:{name}"
