"""hall/services/ratelimit.py on the real databases: one upsert per hit, exact under concurrency."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from hall.db import make_engine, make_sessionmaker
from hall.models import RateLimit
from hall.services.ratelimit import Limit, hit, reset, subject_key


@pytest.fixture
def sessions(hall):
    engine = make_engine(hall.db_url)  # the hall process migrated it
    yield make_sessionmaker(engine)
    engine.dispose()


def test_windows_count_and_reset(sessions):
    limit = Limit(f"test-{uuid.uuid4().hex[:6]}", max_hits=3, window_s=60)
    with sessions() as db:
        verdicts = [hit(db, limit, "203.0.113.5", 1_000_040.0) for _ in range(4)]
        assert [v.allowed for v in verdicts] == [True, True, True, False]
        assert verdicts[-1].retry_after_s == 40  # the window began at 1_000_020 (a multiple of 60)
        assert hit(db, limit, "203.0.113.6", 1_000_020.0).allowed  # another subject
        assert hit(db, limit, "203.0.113.5", 1_000_080.0).count == 1  # the next window
        reset(db, limit, "203.0.113.5")
        assert hit(db, limit, "203.0.113.5", 1_000_080.0).count == 1
        stored = db.scalars(select(RateLimit.key).where(RateLimit.key.like(f"{limit.name}:%"))).all()
        assert all("203.0.113" not in key for key in stored)  # subjects are hashed
        assert subject_key(limit, "203.0.113.5") in stored


def test_concurrent_hits_are_all_counted(sessions):
    limit = Limit(f"test-{uuid.uuid4().hex[:6]}", max_hits=1000, window_s=3600)

    def one(_):
        with sessions() as db:
            return hit(db, limit, "clerk", 7_200.0).count

    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = sorted(pool.map(one, range(40)))
    assert counts == list(range(1, 41))
