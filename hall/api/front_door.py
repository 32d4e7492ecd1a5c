"""The front door: the cheapest answers, before FastAPI's own middleware stack.

Measured under the load mix of issue 9 (docs/operations.md, "Load figures"): the hall's
one event loop thread was the bottleneck. Every request paid for uvicorn's proxy
headers, Starlette, the error middleware, FastAPI's telemetry check (environment lookups
per request) and its body limit layer before it reached our body limit and admission;
a request that was then shed had cost nearly as much loop time as one that was served,
and the loop, busy with them, left new connections in the kernel's accept queue for
seconds (the 4-second health answers were connections not yet accepted, not slow
answers). So this wraps the whole application and, per request:

* answers ``GET``/``HEAD /api/v1/health`` at once (no framework, no budget);
* answers ``401 bad_signature`` at once to a request to a signed endpoint that lacks
  one of the four signature headers (the answer admission and the signature check give;
  an unauthenticated flood of such junk paid the whole stack before it);
* answers ``503 busy`` + ``Retry-After`` at once when the request's kind already has as
  many requests waiting in the priority gate as it has places: a request behind them
  would wait out its bound and be shed anyway, later, after costing more. A request
  that declared a body is answered with ``Connection: close`` (its body is not read);
* answers ``503 busy`` + ``Retry-After`` to an anonymous request (console pages and
  logins, enrolment, ``/track``) while the event loop is over ``OVERLOAD_LAG_S`` behind
  and the process holds ``FLOOD_CONNECTIONS`` or more: a login page (FastAPI's stack, a
  template, a signed token) costs the loop many times a health answer, and a flood of
  them made every turn of the loop, and so every kiosk's answer, seconds long
  (hall/api/loop_lag.py). A signed request naming an id that is not an enrolled kiosk's
  counts as anonymous here and in admission (hall/api/known_devices.py);
* stamps the request's arrival (``ARRIVED_KEY`` in the scope) so admission can bound
  the whole time a request waits, not only its time in the gate.

Everything else goes on to the application unchanged (body limit, admission, routes).

``quick_answer`` makes these decisions without awaiting anything, so that under
``county-hall serve`` the connection's protocol writes them itself, without starting an
ASGI task (hall/api/connection_guard.py); ``__call__`` gives the same answers to a server
that calls the application for every request (the h11 protocol, tests).
"""

from __future__ import annotations

import time

from hall.api.admission import ARRIVED_KEY, missing_signature_header, request_kind
from hall.api.body_limit import (
    HEALTH_PATH,
    Answer,
    ASGIApp,
    Receive,
    Scope,
    Send,
    declares_body,
    error_answer,
    health_answer,
    send_answer,
)
from hall.api.known_devices import KnownDevices
from hall.api.loop_lag import LoopLag
from hall.api.priority_gate import PriorityGate

# An anonymous request (kinds "public" and "login") is answered 503 + Retry-After at the
# door while the event loop is this far behind AND the process holds at least this many
# connections: a flood, not a clerk on a slow machine. Kiosks' signed requests pass.
OVERLOAD_LAG_S = 0.2
FLOOD_CONNECTIONS = 100
ANONYMOUS_KINDS = frozenset({"public", "login"})


class FrontDoor:
    """``FrontDoor(app, gate, retry_after_s)``: ``app`` is the FastAPI application,
    ``gate`` the process's PriorityGate that its admission middleware uses."""

    def __init__(self, app: ASGIApp, gate: PriorityGate, retry_after_s: int,
                 known: KnownDevices | None = None) -> None:
        self.app = app
        self.gate = gate
        self.known = known  # the enrolled ids (hall/api/known_devices.py), as admission sorts by
        self.retry_after_s = retry_after_s
        self.shed = 0  # for logs and tests
        self.unsigned = 0  # refused 401 here for want of a signature header
        self.lag = LoopLag()

    def __getattr__(self, name: str) -> object:
        return getattr(self.app, name)  # ``app.state`` and friends, as on the application

    def quick_answer(self, scope: Scope, open_connections: int = 0) -> Answer | None:
        """The door's own answer to a request (health, a missing signature header, a kind
        whose queue is full, an anonymous request while a flood holds the loop back), or
        None: the request goes on to the application. Synchronous, so the connection's
        protocol can answer without starting an ASGI task (hall/api/connection_guard.py,
        which also says how many connections are open); ``__call__`` gives the same answers
        otherwise, but for the flood rule, which needs the count."""
        path: str = scope["path"]
        if path == HEALTH_PATH and scope["method"] in ("GET", "HEAD"):
            return health_answer(scope["method"])
        missing = missing_signature_header(scope)
        if missing is not None:
            self.unsigned += 1
            return error_answer(401, "bad_signature", f"missing header {missing}", close=declares_body(scope))
        kind = request_kind(scope, self.known)
        if kind is not None and (self.gate.shed_at_door(kind) or (
                kind in ANONYMOUS_KINDS and open_connections >= FLOOD_CONNECTIONS and self._behind())):
            self.shed += 1
            return error_answer(503, "busy", "the hall is busy; try again later",
                                retry_after=self.retry_after_s, close=declares_body(scope))
        return None

    def _behind(self) -> bool:
        self.lag.watch()
        return self.lag.lag_s() >= OVERLOAD_LAG_S

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answer = self.quick_answer(scope)
        if answer is not None:
            await send_answer(send, answer)
            return
        scope[ARRIVED_KEY] = time.monotonic()  # after the checks above: they are the door's own time
        await self.app(scope, receive, send)
