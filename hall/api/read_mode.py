"""GET and HEAD requests read the SQLite database without taking its write lock.

Every request used to begin ``BEGIN IMMEDIATE``, so a page view queued behind every
upload. In WAL mode a DEFERRED transaction reads a snapshot while writers go on; this
middleware makes that the mode of safe methods (it sets a context variable that the
request's threads inherit). Code on such a request that writes anyway wraps the write in
``hall.db.sqlite_begin("IMMEDIATE")`` (the signed-request check does); a write that
still meets a lock fails fast and becomes 503 + Retry-After (hall/api/errors.py).
"""

from __future__ import annotations

from hall.api.body_limit import ASGIApp, Receive, Scope, Send
from hall.db import set_sqlite_begin

READ_METHODS = frozenset({"GET", "HEAD"})


class ReadModeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            set_sqlite_begin("DEFERRED" if scope["method"] in READ_METHODS else "IMMEDIATE")
        await self.app(scope, receive, send)
