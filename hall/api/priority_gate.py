"""Places in flight per kind of request, kiosks first (hall/api/admission.py uses it).

One event loop serves every request of a process, so each anonymous request that is
being served delays every kiosk request behind it: under an unauthenticated flood the
signed p99 was 3 s although the flood had budgets of its own. So the budgets are not
independent: the kiosks' requests take places from the anonymous ones.

* ``kiosk``  — its own budget (``inflight_kiosk``);
* ``public`` — its budget less one place per kiosk request in flight or waiting, but
  always at least one (a clerk can still open a page while kiosks sync);
* ``login``  — its budget (password hashing takes a core) only while fewer than half
  the kiosk places are taken; otherwise logins wait.

A request that finds no place waits in a first-come queue of its kind (oldest first); on
every exit the gate admits waiting requests, kiosks first. A wait has a limit (the
caller's): past it the answer is False and the caller sheds the request (503 +
Retry-After). Each step is O(1): no thundering herd however many requests wait. A kind
whose queue already holds as many requests as it has places is shed at the front door
(``shed_at_door``, hall/api/front_door.py) without waiting at all.
"""

from __future__ import annotations

import asyncio
from collections import deque

KINDS = ("kiosk", "login", "public")  # the order waiting requests are admitted in


class PriorityGate:
    def __init__(self, kiosk: int, login: int, public: int) -> None:
        self.limits = {"kiosk": kiosk, "login": login, "public": public}
        self.in_flight = dict.fromkeys(KINDS, 0)
        self.waiting = dict.fromkeys(KINDS, 0)  # tickets not yet settled
        # Settled tickets stay in their queue until _admit passes them (removing one from
        # the middle of a deque would cost O(n) per timeout).
        self._queues: dict[str, deque[asyncio.Future[bool]]] = {kind: deque() for kind in KINDS}

    def allowance(self, kind: str) -> int:
        """Places ``kind`` may hold now."""
        if kind == "kiosk":
            return self.limits["kiosk"]
        kiosk_demand = self.in_flight["kiosk"] + self.waiting["kiosk"]
        if kind == "public":
            return max(1, self.limits["public"] - kiosk_demand)
        return self.limits["login"] if kiosk_demand * 2 < self.limits["kiosk"] else 0

    def shed_at_door(self, kind: str) -> bool:
        """True when ``kind`` already has as many requests waiting as it may hold places:
        one more would wait out its bound behind them and be shed anyway, later, having
        cost the event loop more (hall/api/front_door.py answers it at once)."""
        return self.waiting[kind] >= max(1, self.allowance(kind))

    async def enter(self, kind: str, wait_s: float) -> bool:
        """True once a place is taken (``leave(kind)`` must follow), False after ``wait_s``."""
        if not self.waiting[kind] and self.in_flight[kind] < self.allowance(kind):
            self.in_flight[kind] += 1
            return True
        loop = asyncio.get_running_loop()
        ticket: asyncio.Future[bool] = loop.create_future()
        self._queues[kind].append(ticket)
        self.waiting[kind] += 1
        timer = loop.call_later(wait_s, self._settle, kind, ticket, False)
        try:
            return await ticket
        except asyncio.CancelledError:  # the client went away
            if ticket.cancelled():
                self.waiting[kind] -= 1
            elif ticket.result():  # it was given a place: give it back
                self.leave(kind)
            raise
        finally:
            timer.cancel()

    def leave(self, kind: str) -> None:
        self.in_flight[kind] -= 1
        self._admit()

    def _settle(self, kind: str, ticket: asyncio.Future[bool], admitted: bool) -> None:
        if not ticket.done():
            self.waiting[kind] -= 1
            if admitted:
                self.in_flight[kind] += 1
            ticket.set_result(admitted)

    def _admit(self) -> None:
        for kind in KINDS:
            queue = self._queues[kind]
            while queue and (queue[0].done() or self.in_flight[kind] < self.allowance(kind)):
                self._settle(kind, queue.popleft(), True)
