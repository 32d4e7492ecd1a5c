"""Take the page by itself once every check has passed for a moment.

``AutoCapture.update(quality_ok, now)`` returns True once, when the checks have passed
without a break for ``hold_s`` seconds; it then waits ``cooldown_s`` and for the page
to be taken away or moved (a failed check) before it may fire again, so one page is not
taken twice. The clock is passed in.
"""

from __future__ import annotations


class AutoCapture:
    def __init__(self, hold_s: float = 1.2, cooldown_s: float = 2.5, enabled: bool = True) -> None:
        self.hold_s = hold_s
        self.cooldown_s = cooldown_s
        self.enabled = enabled
        self._since: float | None = None
        self._fired_at: float | None = None
        self._armed = True

    def reset(self) -> None:
        self._since = None
        self._fired_at = None
        self._armed = True

    @property
    def waiting_for_change(self) -> bool:
        """A page was just taken: no new picture until the page is moved or taken away."""
        return self._fired_at is not None and not self._armed

    def progress(self, now: float) -> float:
        """0–1: how far along the hold is (for a filling ring on the screen)."""
        if self._since is None or not self._armed or self.hold_s <= 0:
            return 0.0
        return min(1.0, (now - self._since) / self.hold_s)

    def update(self, ok: bool, now: float) -> bool:
        if not ok:
            self._since = None
            if self._fired_at is not None and now - self._fired_at >= self.cooldown_s:
                self._armed = True
            return False
        if not self.enabled or not self._armed:
            return False
        if self._fired_at is not None and now - self._fired_at < self.cooldown_s:
            return False
        if self._since is None:
            self._since = now
        if now - self._since >= self.hold_s:
            self._fired_at = now
            self._since = None
            self._armed = False
            return True
        return False
