"""A hand-driven clock for code that takes ``clock: Callable[[], float]``."""

from __future__ import annotations


class ManualClock:
    """Unix seconds that move only when a test says so."""

    def __init__(self, now: float = 1_764_300_000.0) -> None:  # 2025-11-28 in UTC
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
