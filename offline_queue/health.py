"""Whether the kiosk may take a new application now, and what to tell the grid worker.

The rules (in the manner of MOSIP's registration client): *warn*, then *stop* taking new
applications, when

* the queue's disk budget is nearly used, or one more application would not fit
  (``reserve_bytes`` is the room one application may need), or the filesystem itself
  would keep less than ``min_free_bytes`` free;
* the oldest unsent application has waited longer than ``warn_unsent_s`` / ``stop_unsent_s``;
* the hall last answered longer ago than ``warn_offline_s`` / ``stop_offline_s`` (a queue
  that never reached the hall counts from the day it was created).

The decision is made on the home screen, *before* a villager starts: a villager is never
turned away after handing in papers. ``assess`` is pure: a ``QueueSummary`` and limits
in, a ``Health`` out; notices are message keys with their values, translated by the UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from offline_queue.outbox import QueueSummary

OK = "ok"
WARN = "warn"
STOP = "stop"
_RANK = {OK: 0, WARN: 1, STOP: 2}


@dataclass(frozen=True)
class QueueLimits:
    near_full_fraction: float = 0.9
    reserve_bytes: int = 32 * 1024 * 1024
    min_free_bytes: int = 64 * 1024 * 1024
    warn_unsent_s: float = 24 * 3600
    stop_unsent_s: float = 72 * 3600
    warn_offline_s: float = 48 * 3600
    stop_offline_s: float = 7 * 24 * 3600

    @classmethod
    def from_settings(cls, queue: Any) -> QueueLimits:
        """From the kiosk's ``settings.queue`` section."""
        mb, hour = 1024 * 1024, 3600.0
        return cls(
            near_full_fraction=queue.near_full_fraction,
            reserve_bytes=int(queue.reserve_mb * mb),
            min_free_bytes=int(queue.min_free_mb * mb),
            warn_unsent_s=queue.warn_unsent_hours * hour,
            stop_unsent_s=queue.stop_unsent_hours * hour,
            warn_offline_s=queue.warn_offline_hours * hour,
            stop_offline_s=queue.stop_offline_hours * hour,
        )


@dataclass(frozen=True)
class Notice:
    level: str  # WARN | STOP
    message_key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Health:
    level: str
    notices: tuple[Notice, ...]

    @property
    def can_take_applications(self) -> bool:
        return self.level != STOP


def _hours(seconds: float) -> int:
    return int(seconds // 3600)


def assess(summary: QueueSummary, limits: QueueLimits) -> Health:
    notices: list[Notice] = []
    used, budget = summary.bytes_used, summary.budget_bytes
    free = summary.free_disk_bytes
    if budget - used < limits.reserve_bytes or (
        free is not None and free - limits.reserve_bytes < limits.min_free_bytes
    ):
        notices.append(Notice(STOP, "queue.notice.full"))
    elif summary.near_full:
        notices.append(Notice(WARN, "queue.notice.near_full", {"percent": int(100 * used / max(1, budget))}))
    age = summary.oldest_unsent_age_s
    if age is not None and age >= limits.stop_unsent_s:
        notices.append(Notice(STOP, "queue.notice.unsent_old_stop", {"hours": _hours(age)}))
    elif age is not None and age >= limits.warn_unsent_s:
        notices.append(Notice(WARN, "queue.notice.unsent_old_warn", {"hours": _hours(age)}))
    offline = summary.last_contact_age_s
    if offline is not None and offline >= limits.stop_offline_s:
        notices.append(Notice(STOP, "queue.notice.offline_stop", {"hours": _hours(offline)}))
    elif offline is not None and offline >= limits.warn_offline_s:
        notices.append(Notice(WARN, "queue.notice.offline_warn", {"hours": _hours(offline)}))
    failed = summary.counts.get("failed", 0)
    if failed:
        notices.append(Notice(WARN, "queue.notice.quarantined", {"count": failed}))
    notices.sort(key=lambda n: -_RANK[n.level])
    level = max((n.level for n in notices), key=_RANK.__getitem__, default=OK)
    return Health(level, tuple(notices))


def age_words(seconds: float) -> tuple[str, dict[str, int]]:
    """A rough age as a message key and its value: under a minute, minutes, hours or days."""
    if seconds < 60:
        return "queue.age.moment", {}
    if seconds < 3600:
        return "queue.age.minutes", {"n": int(seconds // 60)}
    if seconds < 48 * 3600:
        return "queue.age.hours", {"n": int(seconds // 3600)}
    return "queue.age.days", {"n": int(seconds // 86400)}
