"""Official tracking numbers: ``<county>-<YYYYMMDD>-<6-digit daily sequence>``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.models import NumberSequence


def next_official_number(db: Session, county: str, received_at: datetime, utc_offset_hours: int) -> str:
    """Reserve the next number inside the caller's transaction (row-locked on PostgreSQL)."""
    day = received_at.astimezone(timezone(timedelta(hours=utc_offset_hours))).strftime("%Y%m%d")
    row = db.scalar(
        select(NumberSequence)
        .where(NumberSequence.county == county, NumberSequence.day == day)
        .with_for_update()
    )
    if row is None:
        row = NumberSequence(county=county, day=day, last=0)
        db.add(row)
    row.last += 1
    db.flush()
    return f"{county}-{day}-{row.last:06d}"
