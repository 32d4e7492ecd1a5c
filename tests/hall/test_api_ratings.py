"""POST /api/v1/ratings against a real hall: a signed kiosk's 好差评, recorded exactly once."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from hall.models import Rating


def rating(kiosk, **overrides) -> dict:
    body = {"id": str(uuid.uuid4()), "application_ref": kiosk.next_provisional_number(),
            "service_code": "GD-SAMPLE-001", "score": 5, "reason": "", "rated_at": "2026-12-01T10:00:00Z"}
    return {**body, **overrides}


def stored(hall, rating_id: str) -> Rating | None:
    engine = create_engine(hall.db_url)
    try:
        with Session(engine) as db:
            return db.scalar(select(Rating).where(Rating.id == rating_id))
    finally:
        engine.dispose()


def test_a_rating_is_recorded_once_and_a_repeat_gets_the_first_answer(hall, kiosk, new_kiosk):
    body = rating(kiosk, score=2, reason="slow")
    first = kiosk.post_json("/api/v1/ratings", body)
    assert first.status_code == 201 and first.json() == {"id": body["id"], "status": "recorded"}
    again = kiosk.post_json("/api/v1/ratings", body)
    assert again.status_code == 200 and again.json() == first.json()
    row = stored(hall, body["id"])
    assert (row.application_ref, row.service_code, row.score, row.reason) == \
        (body["application_ref"], "GD-SAMPLE-001", 2, "slow")
    assert row.device_id == kiosk.device_id
    # the same id from another kiosk is not its rating to repeat
    other = new_kiosk()
    taken = other.post_json("/api/v1/ratings", {**body, "application_ref": other.next_provisional_number()})
    assert taken.status_code == 409 and taken.json()["error"] == "rating_conflict"


def test_bad_ratings_are_refused_with_a_plain_reason(kiosk, new_kiosk):
    other = new_kiosk()
    for bad in (rating(kiosk, score=0), rating(kiosk, score=6), rating(kiosk, reason="rude_words"),
                rating(kiosk, score=5, reason="slow"),  # a reason only when unhappy
                rating(kiosk, id="not-a-uuid-but-long-enough-to-pass-len"),
                rating(kiosk, application_ref=other.next_provisional_number()),  # not its own application
                rating(kiosk, service_code="<script>"), rating(kiosk, rated_at="yesterday"),
                rating(kiosk, rated_at="0001-01-01T00:00:00+14:00")):  # before year 1 in UTC: was a 500
        answer = kiosk.post_json("/api/v1/ratings", bad)
        assert answer.status_code == 422, bad
        assert answer.json()["error"] == "invalid_request"
    unsigned = kiosk.session.post(f"{kiosk.base_url}/api/v1/ratings", json=rating(kiosk), timeout=15)
    assert unsigned.status_code == 401
