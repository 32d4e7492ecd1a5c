"""Ratings (好差评): one row per rating a kiosk sends, exactly once.

The kiosk queues a rating as its own record (never inside the sealed application) and
may send it again after a lost answer: the rating's UUID is its key, so a repeat from the
same device is answered as the first (200), and the same UUID from another device is
refused (409 ``rating_conflict``). The application it rates is named by the kiosk's own
provisional number (``check_provisional``: another kiosk's number is refused); it need not
have arrived yet. A reason comes only with an unhappy score (2 or 1).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hall.errors import Conflict, InvalidRequest
from hall.models import Device, Rating
from hall.services import figures_summary
from hall.services.numbering import check_provisional
from hall.timeutil import Clock, parse_iso, system_clock, to_datetime

UNHAPPY_SCORES = (1, 2)


@dataclass(frozen=True)
class RatingIntake:
    body: dict
    status: int  # 201 recorded now, 200 a repeat


def record_rating(db: Session, device: Device, payload: dict, clock: Clock = system_clock) -> RatingIntake:
    """``payload`` is the validated body (api/schemas.py ``RatingIn``)."""
    rating_id = payload["id"].lower()
    try:
        if str(uuid.UUID(rating_id)) != rating_id:
            raise ValueError(rating_id)
    except ValueError as exc:
        raise InvalidRequest("id must be a UUID") from exc
    body = {"id": rating_id, "status": "recorded"}
    known = db.get(Rating, rating_id)
    if known is not None:
        if known.device_id != device.id:
            raise Conflict("rating id already used by another device", code="rating_conflict")
        return RatingIntake(body, 200)
    check_provisional(payload["application_ref"], device.id)
    score, reason = int(payload["score"]), payload.get("reason") or ""
    if reason and score not in UNHAPPY_SCORES:
        raise InvalidRequest("a reason is given only with an unhappy score (2 or 1)")
    try:
        rated_at = parse_iso(payload["rated_at"])
    except ValueError as exc:
        raise InvalidRequest("rated_at is not an ISO 8601 time") from exc
    db.add(rating := Rating(id=rating_id, device_id=device.id, county=device.county,
                            application_ref=payload["application_ref"], service_code=payload["service_code"],
                            score=score, reason=reason, rated_at=rated_at, received_at=to_datetime(clock())))
    try:
        figures_summary.count_rating(db, rating)  # flushes: a twin's IntegrityError lands here too
        db.commit()
    except IntegrityError:
        db.rollback()  # a concurrent twin won the race
        if db.get(Rating, rating_id) is None:
            raise
        return RatingIntake(body, 200)
    return RatingIntake(body, 201)
