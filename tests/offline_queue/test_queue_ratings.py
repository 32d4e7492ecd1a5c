"""Ratings (好差评) from the kiosk's own small queue to the real hall, exactly once."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from hall.models import Rating
from offline_queue.errors import HallUnreachable
from offline_queue.ratings import RatingQueue
from tests.offline_queue.test_queue_sync import Kiosk, hall  # noqa: F401  (the module's real hall)


class LosesFirstAnswer:
    """The real client, but the hall's first answer to each rating is lost on the way back."""

    def __init__(self, client) -> None:
        self._client = client
        self.lost: set[str] = set()

    def __getattr__(self, name):
        return getattr(self._client, name)

    def submit_rating(self, payload):
        self._client.submit_rating(payload)
        if payload["id"] not in self.lost:
            self.lost.add(payload["id"])
            raise HallUnreachable("read timed out")


def rows_on_hall(hall_process, rating_id: str) -> list[tuple]:
    engine = create_engine(hall_process.db_url)
    try:
        with Session(engine) as db:
            return [(r.application_ref, r.service_code, r.score, r.reason)
                    for r in db.scalars(select(Rating).where(Rating.id == rating_id))]
    finally:
        engine.dispose()


def test_a_rating_reaches_the_hall_once_even_when_its_answer_is_lost(hall, tmp_path, make_app):  # noqa: F811
    kiosk = Kiosk(hall, tmp_path / "kiosk")
    entry = kiosk.enqueue(make_app)
    ratings = kiosk.engine.ratings
    assert not ratings.path.exists()  # no file until the first rating
    rating_id = ratings.add(entry.provisional_number, entry.service_code, 1, "slow")
    kiosk.engine.client = LosesFirstAnswer(kiosk.client)

    report = kiosk.engine.run_once()
    assert report.sent == 1 and report.ratings_sent == 0 and "hall_unreachable" in report.errors
    assert ratings.counts() == {"waiting": 1, "sent": 0}
    kiosk.clock.advance(10)
    report = kiosk.engine.run_once()
    assert report.ratings_sent == 1 and ratings.counts() == {"waiting": 0, "sent": 1}
    assert kiosk.engine.run_once().ratings_sent == 0  # nothing sent twice
    assert rows_on_hall(hall, rating_id) == [(entry.provisional_number, entry.service_code, 1, "slow")]
    engine = create_engine(hall.db_url)
    with Session(engine) as db:
        assert db.scalar(select(func.count()).select_from(Rating).where(Rating.id == rating_id)) == 1
    engine.dispose()
    ratings.close()
    kiosk.queue.close()


def test_the_queue_takes_only_the_lists(tmp_path):
    ratings = RatingQueue(tmp_path)
    for score, reason in ((0, ""), (6, ""), (5, "slow"), (2, "rude")):
        with pytest.raises(ValueError):
            ratings.add("K7E57-20261201-0001", "GD-SAMPLE-001", score, reason)
    assert ratings.due() == [] and not ratings.path.exists()
    ratings.add("K7E57-20261201-0001", "GD-SAMPLE-001", 3)
    [due] = ratings.due()
    assert due.body["score"] == 3 and due.body["reason"] == "" and due.body["rated_at"].endswith("Z")
    assert set(due.body) == {"id", "application_ref", "service_code", "score", "reason", "rated_at"}
