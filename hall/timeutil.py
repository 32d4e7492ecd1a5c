"""UTC time helpers: the clock is injected as ``Callable[[], float]`` (unix seconds)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]
system_clock: Clock = time.time


def to_datetime(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, tz=UTC)


def iso(value: datetime | None) -> str:
    """``2026-11-28T04:11:52Z`` (seconds precision), or "" for None."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 time; naive means UTC. Raises ValueError."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # "0001-01-01T00:00:00+14:00" lies before year 1 in UTC
        raise ValueError(f"time out of range: {text!r}") from exc
