"""The kiosk's queue of ratings (好差评): small records sent on their own, exactly once.

A rating names the application by its provisional number and holds the item code, the
score (5 非常满意 … 1 非常不满意), a reason code when unhappy and the time: no personal
data, so it is kept as plain JSON, apart from the sealed outbox, in ``ratings.sqlite``
(WAL, ``synchronous=FULL``) beside it. The file is made on the first rating; a kiosk that
was never rated has none.

``add`` queues a rating under a fresh UUID (the hall's key for it: a repeat after a lost
answer is answered as the first); ``due`` lists those ready to send, oldest first;
``mark_sent`` after a verified 2xx; ``retry_later`` after a failure. The sync engine
(``offline_queue.sync``) sends them after the applications of each pass.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from offline_queue.errors import StorageError

FILE_NAME = "ratings.sqlite"
SCORES = (5, 4, 3, 2, 1)  # 非常满意, 满意, 基本满意, 不满意, 非常不满意
UNHAPPY = (2, 1)  # a reason is asked for, and sent, only with these
REASONS = ("slow", "hard_to_use", "unclear", "device_problem", "staff", "other")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ratings (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    queued_at REAL NOT NULL,
    sent_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0
)
"""


@dataclass(frozen=True)
class QueuedRating:
    id: str
    body: dict[str, object]
    attempts: int


class RatingQueue:
    def __init__(self, data_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self._clock = clock
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _open(self, create: bool) -> sqlite3.Connection | None:
        if self._db is None:
            if not create and not self.path.exists():
                return None
            try:
                db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.execute("PRAGMA busy_timeout=5000")
                db.execute(_SCHEMA)
            except sqlite3.Error as exc:
                raise StorageError(f"ratings queue: {type(exc).__name__}") from exc
            self._db = db
        return self._db

    def add(self, application_ref: str, service_code: str, score: int, reason: str = "") -> str:
        """Queue one rating; its id. ``ValueError`` for a score or reason out of the lists."""
        if score not in SCORES:
            raise ValueError("score must be 1 to 5")
        if reason and (reason not in REASONS or score not in UNHAPPY):
            raise ValueError("a reason from the list, and only with an unhappy score")
        rating_id = str(uuid.uuid4())
        now = self._clock()
        body = {"id": rating_id, "application_ref": application_ref, "service_code": service_code,
                "score": score, "reason": reason,
                "rated_at": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        with self._lock:
            db = self._open(create=True)
            assert db is not None
            try:
                db.execute("INSERT INTO ratings (id, body, queued_at) VALUES (?, ?, ?)",
                           (rating_id, json.dumps(body, sort_keys=True), now))
            except sqlite3.Error as exc:
                raise StorageError(f"ratings queue: {type(exc).__name__}") from exc
        return rating_id

    def due(self, limit: int = 50) -> list[QueuedRating]:
        with self._lock:
            db = self._open(create=False)
            if db is None:
                return []
            rows = db.execute("SELECT id, body, attempts FROM ratings WHERE sent_at IS NULL"
                              " AND next_attempt_at <= ? ORDER BY queued_at LIMIT ?",
                              (self._clock(), limit)).fetchall()
        return [QueuedRating(r[0], json.loads(r[1]), int(r[2])) for r in rows]

    def mark_sent(self, rating_id: str) -> None:
        with self._lock:
            db = self._open(create=False)
            if db is not None:
                db.execute("UPDATE ratings SET sent_at = ? WHERE id = ?", (self._clock(), rating_id))

    def retry_later(self, rating_id: str, at: float) -> None:
        with self._lock:
            db = self._open(create=False)
            if db is not None:
                db.execute("UPDATE ratings SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
                           (at, rating_id))

    def counts(self) -> dict[str, int]:
        with self._lock:
            db = self._open(create=False)
            if db is None:
                return {"waiting": 0, "sent": 0}
            row = db.execute("SELECT COUNT(*) - COUNT(sent_at), COUNT(sent_at) FROM ratings").fetchone()
        waiting, sent = row
        return {"waiting": int(waiting), "sent": int(sent)}

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
