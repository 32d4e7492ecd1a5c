"""The idle timeout as a villager meets it: a countdown warning first, then the wipe.

A villager who walks away mid-visit must not leave their data on the screen, and one who
only paused to read must not lose their work without being asked. ``IdleWatch.check()``
(the app calls it every second) therefore goes through three states:

* active — nothing to say;
* warning — the last ``warning_s`` seconds of the timeout: ``idle_warning`` is emitted
  once (the screen shows a big countdown, the voice reads ``voice.idle_warning``); a touch
  (``VisitKeeper`` sees the activity) ends it with ``idle_warning_cleared``;
* expired — the visit is wiped: ``session_expired`` when it was abandoned (the screen says
  "已经清除"), ``visit_closed`` when it had already ended well (an application sealed, the
  status seen): there is nothing to warn about and no wipe notice to show.

A finished visit gets no countdown: the receipt stays until the timeout, then home comes
back quietly. Time comes from the keeper's injected clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kiosk.visit import VisitKeeper

log = logging.getLogger(__name__)

IDLE_WARNING_PROMPT = "voice.idle_warning"


class IdleWatch:
    """Warns before the idle wipe and announces how a visit ended; see the module docstring."""

    def __init__(self, keeper: VisitKeeper, warning_s: float, emit: Callable[..., None]) -> None:
        self.keeper = keeper
        # never more than half the timeout: a short timeout must still leave time to act
        self.warning_s = max(0.0, min(float(warning_s), keeper.idle_timeout_s / 2))
        self._emit = emit
        self.warning = False

    def seconds_left(self) -> float | None:
        """Seconds until the current visit is wiped; None without a visit."""
        visit = self.keeper.current
        if visit is None:
            return None
        return max(0.0, self.keeper.idle_timeout_s - visit.idle_for(self.keeper.clock()))

    def check(self) -> bool:
        """Warn, clear the warning or wipe, as the time says; True when the visit was wiped."""
        visit = self.keeper.current
        left = self.seconds_left()
        warn = left is not None and visit is not None and not visit.finished and left <= self.warning_s
        if warn and not self.warning:
            self.warning = True
            self._emit("idle_warning", seconds_left=left, prompt_key=IDLE_WARNING_PROMPT)
        elif not warn and self.warning:
            self.warning = False
            if left is None or left > 0:  # touched, or the visit ended another way (at 0: wiped below)
                self._emit("idle_warning_cleared")
        finished = visit is not None and visit.finished
        if not self.keeper.expire_if_idle():
            return False
        self.warning = False
        self._emit("visit_closed" if finished else "session_expired")
        return True
