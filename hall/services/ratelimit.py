"""Rate limits kept in the database, so that every hall process counts the same attempts.

A limit is a fixed window: at most ``max_hits`` hits per ``window_s`` seconds for one
subject (an account, a client address). Each hit is ONE statement, an upsert that
either adds one to this window's count or starts a new window, and returns the count::

    INSERT INTO rate_limits (key, window_start, count) VALUES (:key, :window, 1)
    ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN rate_limits.window_start = :window THEN rate_limits.count + 1 ELSE 1 END,
        window_start = :window
    RETURNING count

SQLite (3.35+) and PostgreSQL both run it atomically, so two processes hitting the same
key at once both count. Subjects are stored as a SHA-256 prefix: the table never holds
an account name or an address in the clear.

Used by the console login (per account and per address) and ``/track`` (per address);
ready for the e-certificate API. A fixed window lets a burst of up to twice the limit
through at a window's edge, which is acceptable for these uses and keeps each hit cheap.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass

from sqlalchemy import case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hall.models import RateLimit

# Rows of windows older than this are swept now and then (about one hit in SWEEP_ONE_IN).
KEEP_S = 24 * 3600
SWEEP_ONE_IN = 200


@dataclass(frozen=True)
class Limit:
    name: str  # key prefix, e.g. "login-user"
    max_hits: int
    window_s: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after_s: int  # 0 when allowed


LOGIN_PER_ACCOUNT = Limit("login-user", max_hits=10, window_s=15 * 60)
LOGIN_PER_ADDRESS = Limit("login-addr", max_hits=50, window_s=15 * 60)
TRACK_PER_ADDRESS = Limit("track-addr", max_hits=30, window_s=60)


def subject_key(limit: Limit, subject: str) -> str:
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"{limit.name}:{digest}"


def _upsert(db: Session):
    return postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert


def hit(db: Session, limit: Limit, subject: str, now: float) -> Verdict:
    """Count one hit for ``subject`` and say whether it is within the limit (commits)."""
    window = int(now) // limit.window_s * limit.window_s
    insert = _upsert(db)(RateLimit).values(key=subject_key(limit, subject), window_start=window, count=1)
    statement = insert.on_conflict_do_update(
        index_elements=[RateLimit.key],
        set_={
            "count": case((RateLimit.window_start == window, RateLimit.count + 1), else_=1),
            "window_start": window,
        },
    ).returning(RateLimit.count)
    count = int(db.execute(statement).scalar_one())
    if secrets.randbelow(SWEEP_ONE_IN) == 0:
        db.execute(delete(RateLimit).where(RateLimit.window_start < int(now) - KEEP_S))
    db.commit()
    if count <= limit.max_hits:
        return Verdict(True, count, 0)
    return Verdict(False, count, max(1, math.ceil(window + limit.window_s - now)))


def reset(db: Session, limit: Limit, subject: str) -> None:
    """Forget a subject's hits (a successful login clears its account's failures)."""
    db.execute(delete(RateLimit).where(RateLimit.key == subject_key(limit, subject)))
    db.commit()
