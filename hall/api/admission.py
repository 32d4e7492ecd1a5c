"""Admission control: a bounded number of requests in flight per process and per kind.

Without it the hall took every request it was given, each one a thread waiting for a
database connection; at ~50 concurrent requests everything stalled 30 s and then failed
with 500s while the CPU sat idle. Now each kind of request has its own budget:

* ``kiosk``  — requests carrying the signature headers under ``/api/v1``;
* ``login``  — ``POST /console/login`` (password hashing is the dearest thing we do);
* ``public`` — everything else (console pages, enrolment, ``/track``, unsigned junk).

A request whose budget is full waits at most ``admission_wait_s`` for a place and is
then answered ``503 busy`` with ``Retry-After``, at once and without touching the
database. So an unauthenticated flood fills ``public`` and ``login`` and cannot starve
the kiosks; ``/api/v1/health`` needs no budget at all (it does no database work).

Budgets are per process: with ``county-hall serve --workers N`` the hall admits N times
as much, and the database pool of each process is sized to its budgets
(``Settings.db_pool_size``).

Not defended here: a flood that forges the signature headers is counted as ``kiosk``
(it is refused at the signature check, quickly, but it shares the kiosks' budget).
"""

from __future__ import annotations

import asyncio

from hall.api.body_limit import ASGIApp, Receive, Scope, Send, send_error
from hall.core.config import Settings

UNLIMITED_PATHS = frozenset({"/api/v1/health"})


def request_kind(scope: Scope) -> str | None:
    """The budget a request counts against, or None for requests that need none."""
    path: str = scope["path"]
    if path in UNLIMITED_PATHS:
        return None
    if path.startswith("/api/v1/"):
        names = {name for name, _ in scope.get("headers", ())}
        if b"x-signature" in names and b"x-device-id" in names:
            return "kiosk"
        return "public"
    if path.rstrip("/") == "/console/login" and scope["method"] == "POST":
        return "login"
    return "public"


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.budgets = {
            "kiosk": asyncio.Semaphore(settings.inflight_kiosk),
            "login": asyncio.Semaphore(settings.inflight_login),
            "public": asyncio.Semaphore(settings.inflight_public),
        }
        self.refused = dict.fromkeys(self.budgets, 0)  # for logs and tests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = request_kind(scope) if scope["type"] == "http" else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        budget = self.budgets[kind]
        try:
            await asyncio.wait_for(budget.acquire(), self.settings.admission_wait_s)
        except TimeoutError:
            self.refused[kind] += 1
            await send_error(send, 503, "busy", "the hall is busy; try again later",
                             retry_after=self.settings.retry_after_s)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            budget.release()
