"""The take-your-card reminder: a villager who has what they came for must not leave the
ID card on the reader for the next person to pick up.

When a visit in which the ID card reader read a card ends well (``finish`` after the
receipt or the status, or the idle timeout closing such a visit), ``TakeCardReminder``
looks at the reader on a ``BackgroundLoop``: while the card is still there it emits
``take_card_reminder`` (the screen shows a big 请取回身份证, the voice reads
``voice.take_card``), and ``take_card_done`` when the card is taken (``reason`` "taken"),
after ``timeout_s`` ("timeout"), or when the next visit starts ("next_visit").

A reader that cannot tell whether a card lies on it (no ``card_present()``, or it does not
answer) gets the reminder all the same, closed by the timeout. Nothing of the villager is
kept: the visit is wiped before the reminder starts; it only knows that a card was read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from kiosk.visit import VisitKeeper
from workers import BackgroundLoop
from workers.loop import PassResult

log = logging.getLogger(__name__)

TAKE_CARD_PROMPT = "voice.take_card"
TAKE_CARD_TIMEOUT_S = 20.0
POLL_S = 0.5


class TakeCardReminder:
    """See the module docstring. ``reader`` is the ID card reader (or None)."""

    def __init__(self, reader: Any, keeper: VisitKeeper, emit: Callable[..., None],
                 timeout_s: float = TAKE_CARD_TIMEOUT_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.reader = reader
        self.keeper = keeper
        self.timeout_s = timeout_s
        self._emit = emit
        self._clock = clock
        self._deadline = 0.0
        self.showing = False
        self._loop = BackgroundLoop("take-card", self._pass, interval_s=POLL_S, crash_backoff_s=POLL_S)

    def start(self) -> None:
        """A visit that read a card ended well: remind while the card is on the reader."""
        self._loop.stop()
        self._deadline = self._clock() + self.timeout_s
        self.showing = False
        self._loop.start()

    @property
    def running(self) -> bool:
        return self._loop.running

    def close(self) -> None:
        self._loop.stop()

    def _present(self) -> bool | None:
        """True / False from the reader; None when it cannot tell."""
        probe = getattr(self.reader, "card_present", None)
        if not callable(probe):
            return None
        try:
            return bool(probe())
        except Exception as exc:
            log.info("the reader could not tell whether a card is there: %s", type(exc).__name__)
            return None

    def _pass(self) -> PassResult:
        if self.keeper.current is not None:
            return self._done("next_visit")
        if self._clock() >= self._deadline:
            return self._done("timeout")
        present = self._present()
        if present is False:
            return self._done("taken")
        if not self.showing:
            self.showing = True
            self._emit("take_card_reminder", prompt_key=TAKE_CARD_PROMPT)
        return POLL_S

    def _done(self, reason: str) -> PassResult:
        if self.showing:  # a card taken before the reminder showed needs no word
            self.showing = False
            self._emit("take_card_done", reason=reason)
        return BackgroundLoop.STOP
