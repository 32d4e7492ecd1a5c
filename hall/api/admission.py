"""Admission control: a bounded number of requests in flight per process and per kind.

Without it the hall took every request it was given, each one a thread waiting for a
database connection; at ~50 concurrent requests everything stalled 30 s and then failed
with 500s while the CPU sat idle. Now each kind of request has its own budget:

* ``kiosk``  — requests to the signed endpoints of ``/api/v1`` (with the signature headers);
* ``login``  — ``POST /console/login`` (password hashing is the dearest thing we do);
* ``public`` — everything else (console pages, enrolment, ``/track``, unsigned junk).

The budgets are not independent (hall/api/priority_gate.py): kiosks come first. Each
kiosk request in flight or waiting takes a place from ``public`` (down to one), and
logins wait while half the kiosk places are taken, because every anonymous request being
served delays the kiosks' requests on the same event loop.

A request whose budget is full waits a moment for a place (``kiosk_wait_s`` for
kiosks, ``admission_wait_s`` for the rest: a kiosk's request is worth waiting for) and
is then answered ``503 busy`` with ``Retry-After``, without touching the database.

The cheapest rejection comes first: a request to a signed endpoint that lacks any of the
four signature headers is answered ``401 bad_signature`` here, before routing, the
same answer the signature check would give. So an unauthenticated flood fills ``public``
and ``login`` and cannot starve the kiosks; ``/api/v1/health`` needs no budget at all.

Budgets are per process: with ``county-hall serve --workers N`` the hall admits N times
as much, and the database pool of each process is sized to its budgets
(``Settings.db_pool_size``).

A request with the signature headers counts as ``kiosk`` only when its ``X-Device-Id``
names a kiosk the process knows to be enrolled (hall/api/known_devices.py); a flood that
forges the headers with made-up ids counts as ``public``. Not defended here: a flood that
names a real kiosk's id with a forged signature still counts as ``kiosk`` (it is refused
at the signature check, quickly, but it shares the kiosks' budget).
"""

from __future__ import annotations

import time

from hall.api.body_limit import ASGIApp, Receive, Scope, Send, send_error
from hall.api.known_devices import KnownDevices
from hall.api.priority_gate import KINDS, PriorityGate
from hall.core.config import Settings

ARRIVED_KEY = "hall.arrived"  # time.monotonic() at the front door (hall/api/front_door.py)
# A request that has already waited this long since the front door (on a busy event loop,
# reading its body) waits no more for a place: a fast 503 serves a kiosk better than a
# late 200 (issue 9: no answer later than 2 s).
MAX_AGE_AT_ADMISSION_S = 1.0
UNLIMITED_PATHS = frozenset({"/api/v1/health"})
UNSIGNED_API_PATHS = frozenset({"/api/v1/health", "/api/v1/enrolment"})
SIGNATURE_HEADERS = (b"x-device-id", b"x-timestamp", b"x-nonce", b"x-signature")
_HEADER_NAMES = {b"x-device-id": "X-Device-Id", b"x-timestamp": "X-Timestamp", b"x-nonce": "X-Nonce",
                 b"x-signature": "X-Signature"}


def missing_signature_header(scope: Scope) -> str | None:
    """The first signature header a request to a signed endpoint lacks, or None."""
    path: str = scope["path"]
    if not path.startswith("/api/v1/") or path.rstrip("/") in UNSIGNED_API_PATHS:
        return None
    present = {name for name, value in scope.get("headers", ()) if value}
    for name in SIGNATURE_HEADERS:
        if name not in present:
            return _HEADER_NAMES[name]
    return None


def request_kind(scope: Scope, known: KnownDevices | None = None) -> str | None:
    """The budget a request counts against, or None for requests that need none. With
    ``known``, a signed request naming an id that is not an enrolled kiosk's counts as
    ``public`` (hall/api/known_devices.py)."""
    path: str = scope["path"]
    if path in UNLIMITED_PATHS:
        return None
    if path.startswith("/api/v1/"):
        if path.rstrip("/") in UNSIGNED_API_PATHS:
            return "public"
        # The signature headers are there (missing_signature_header).
        if known is not None and not known.knows(_device_id(scope)):
            return "public"
        return "kiosk"
    if path.rstrip("/") == "/console/login" and scope["method"] == "POST":
        return "login"
    return "public"


def _device_id(scope: Scope) -> bytes:
    for name, value in scope.get("headers", ()):
        if name == b"x-device-id":
            return value
    return b""


def gate_for(settings: Settings) -> PriorityGate:
    return PriorityGate(kiosk=settings.inflight_kiosk, login=settings.inflight_login,
                        public=settings.inflight_public)


def admission_wait(settings: Settings, kind: str, scope: Scope) -> float:
    """How long a request of ``kind`` may wait for a place: its kind's wait, and no longer than
    the front door's bound on the request's whole wait when it came through the door."""
    wait = settings.kiosk_wait_s if kind == "kiosk" else settings.admission_wait_s
    arrived = scope.get(ARRIVED_KEY)
    if arrived is not None:
        wait = min(wait, MAX_AGE_AT_ADMISSION_S - (time.monotonic() - arrived))
    return wait


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings, gate: PriorityGate | None = None,
                 known: KnownDevices | None = None) -> None:
        self.app = app
        self.settings = settings
        self.gate = gate or gate_for(settings)
        self.known = known
        self.refused = dict.fromkeys(KINDS, 0)  # for logs and tests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        missing = missing_signature_header(scope)
        if missing is not None:
            await send_error(send, 401, "bad_signature", f"missing header {missing}")
            return
        kind = request_kind(scope, self.known)
        if kind is None:
            await self.app(scope, receive, send)
            return
        if not await self.gate.enter(kind, admission_wait(self.settings, kind, scope)):
            self.refused[kind] += 1
            await send_error(send, 503, "busy", "the hall is busy; try again later",
                             retry_after=self.settings.retry_after_s)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.leave(kind)
