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
from hall.api.priority_gate import PriorityGate


class FrontDoor:
    """``FrontDoor(app, gate, retry_after_s)``: ``app`` is the FastAPI application,
    ``gate`` the process's PriorityGate that its admission middleware uses."""

    def __init__(self, app: ASGIApp, gate: PriorityGate, retry_after_s: int) -> None:
        self.app = app
        self.gate = gate
        self.retry_after_s = retry_after_s
        self.shed = 0  # for logs and tests
        self.unsigned = 0  # refused 401 here for want of a signature header

    def __getattr__(self, name: str) -> object:
        return getattr(self.app, name)  # ``app.state`` and friends, as on the application

    def quick_answer(self, scope: Scope) -> Answer | None:
        """The door's own answer to a request (health, a missing signature header, a kind
        whose queue is full), or None: the request goes on to the application. Synchronous,
        so the connection's protocol can answer without starting an ASGI task
        (hall/api/connection_guard.py); ``__call__`` gives the same answers otherwise."""
        path: str = scope["path"]
        if path == HEALTH_PATH and scope["method"] in ("GET", "HEAD"):
            return health_answer(scope["method"])
        missing = missing_signature_header(scope)
        if missing is not None:
            self.unsigned += 1
            return error_answer(401, "bad_signature", f"missing header {missing}", close=declares_body(scope))
        kind = request_kind(scope)
        if kind is not None and self.gate.shed_at_door(kind):
            self.shed += 1
            return error_answer(503, "busy", "the hall is busy; try again later",
                                retry_after=self.retry_after_s, close=declares_body(scope))
        return None

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
