"""What the heartbeat writer keeps in memory to answer plain beats before they are written
(issue 11, "Speed"; hall/api/heartbeat_writer.py says when a beat is plain and what a crash loses).

* ``WaitingBeat``: one answered plain beat, its rows not yet written;
* ``SeenNonces``: the nonces this process answered within the clock window, so that a replay
  reaching the same process is refused before it is answered (the database's nonce book
  only learns of a plain beat at its flush);
* ``HistoryMemo``: per kiosk, what its last history row said and when, so that a history row
  is written only when the report changed or the last one is old (the chart and the timeline
  keep their points; a kiosk that says the same thing every minute costs no row a minute).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from hall.api.heartbeat_store import BeatRow
from hall.api.schemas import HeartbeatIn

# Bounds on memory whatever arrives; past them the oldest are forgotten (a forgotten nonce is
# still refused at the flush: the database writes it once).
MAX_SEEN = 1_000_000
MAX_MEMO = 200_000


@dataclass(slots=True)
class WaitingBeat:
    row: BeatRow
    nonce: str
    ts: int  # the request's timestamp (the nonce book's column)
    public_key: bytes  # the key its signature was checked with (a rotation since drops it)
    generation: int  # the fleet generation the answer was made at
    history: bool  # a history row too, or only the state row, the nonce and last_seen


class SeenNonces:
    """``(device_id, nonce)`` pairs, each kept until its timestamp leaves the clock window.
    Added to by the event loop (plain beats) and the writer's thread (the usual way's)."""

    def __init__(self, limit: int = MAX_SEEN) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._keys: set[tuple[str, str]] = set()
        self._order: deque[tuple[int, tuple[str, str]]] = deque()  # (forget after, key), ~arrival order

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._keys

    def add(self, key: tuple[str, str], now: int, keep_s: int) -> None:
        """Remember ``key`` for ``keep_s``; the pairs whose time has passed are forgotten (the
        clock check refuses them anyway; the order is arrival's, which the timestamps follow
        within the skew: good enough to sweep by)."""
        order, keys = self._order, self._keys
        with self._lock:
            keys.add(key)
            order.append((now + keep_s, key))
            if len(order) > self._limit:
                keys.discard(order.popleft()[1])
            while order[0][0] < now:
                keys.discard(order.popleft()[1])

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
            self._order.clear()


def content_of(report: HeartbeatIn) -> tuple:
    """What a history row is written for when it changes: health (each device's state and
    reason), queue depth, versions, configuration version, locked, problems — not the uptime,
    the check's time, the free disk or the oldest unsent age, which move with every beat."""
    health = report.health
    return (health.state, tuple((d.device, d.state, d.reason) for d in health.devices), report.queue.depth,
            tuple(report.versions.items()), report.config_version, report.locked, tuple(report.problems))


class HistoryMemo:
    """Per kiosk: the content of its last history row written by this process, and when."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s  # 0: a history row for every beat
        self._last: dict[str, tuple[tuple, float]] = {}

    def wants(self, device_id: str, report: HeartbeatIn, now: float) -> bool:
        """A history row for this beat? Remembered as written at once: a batch that fails
        ``forget``s (its kiosks' next beats then write one)."""
        if self.every_s <= 0:
            return True
        content = content_of(report)
        last = self._last.get(device_id)
        if last is not None and last[0] == content and now - last[1] < self.every_s:
            return False
        if len(self._last) >= MAX_MEMO and device_id not in self._last:
            self._last.clear()
        self._last[device_id] = (content, now)
        return True

    def forget(self) -> None:
        self._last.clear()
