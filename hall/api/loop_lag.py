"""How late the event loop is running right now (the front door sheds by it).

Under an unauthenticated flood of many connections, every request the loop serves
delays every other one by its cost, and a turn of the loop grew to seconds: the kiosks'
signed requests, which take two or three turns (read, database trip, answer), waited
behind hundreds of anonymous ones. Budgets per kind bound what is *in flight*, not how
many cheap-but-not-free requests pass through a turn, so the front door also needs to
know when the loop itself is behind. This probe is a timer every ``period_s``; its
lateness is the loop's lag. ``lag_s()`` is live: while a turn runs long, the overdue
probe counts as late already.
"""

from __future__ import annotations

import asyncio
import time


class LoopLag:
    def __init__(self, period_s: float = 0.05) -> None:
        self.period_s = period_s
        self._late_s = 0.0  # lateness of the last probe that ran
        self._due: float | None = None  # when the pending probe should run

    def lag_s(self) -> float:
        """Seconds the loop is behind now (0 before the probe runs; start it with ``watch``)."""
        if self._due is None:
            return 0.0
        return max(self._late_s, time.monotonic() - self._due)

    def watch(self) -> None:
        """Start the probe on the running loop, once (from a callback or coroutine on it)."""
        if self._due is None:
            self._schedule(asyncio.get_running_loop())

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        self._due = time.monotonic() + self.period_s
        loop.call_later(self.period_s, self._probe, loop)

    def _probe(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self._due is not None
        self._late_s = max(0.0, time.monotonic() - self._due)
        self._schedule(loop)
