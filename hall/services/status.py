"""Status changes: one function used by the console and the CLI, and the kiosks' feed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.errors import InvalidRequest, NotFound, Unprocessable
from hall.models import Application, Device, StatusChange
from hall.timeutil import Clock, iso, system_clock, to_datetime

STATUSES = ("submitted", "accepted", "correction_needed", "completed", "rejected")
SETTABLE = ("accepted", "correction_needed", "completed", "rejected")
PAGE_SIZE = 200


def change_status(db: Session, app_id: str, status: str, reason: str = "", actor: str = "",
                  clock: Clock = system_clock) -> StatusChange:
    if status not in SETTABLE:
        raise Unprocessable(f"status must be one of {', '.join(SETTABLE)}", code="invalid_status")
    application = db.scalar(select(Application).where(Application.id == app_id).with_for_update())
    if application is None:
        raise NotFound(f"no application {app_id}", code="application_not_found")
    now = to_datetime(clock())
    reason = reason.strip()[:2000]
    application.status = status
    application.reason = reason
    application.updated_at = now
    change = StatusChange(application_id=app_id, device_id=application.device_id, status=status,
                          reason=reason, actor=actor[:100], changed_at=now)
    db.add(change)
    db.commit()
    return change


def parse_cursor(since: str | None) -> int:
    if since is None or since == "":
        return 0
    try:
        value = int(since)
    except ValueError as exc:
        raise InvalidRequest("since must be a cursor returned by this endpoint") from exc
    if value < 0:
        raise InvalidRequest("since must not be negative")
    return value


def changes_since(db: Session, device: Device, since: str | None) -> dict:
    cursor = parse_cursor(since)
    rows = db.execute(
        select(StatusChange, Application.official_number)
        .join(Application, Application.id == StatusChange.application_id)
        .where(StatusChange.device_id == device.id, StatusChange.id > cursor)
        .order_by(StatusChange.id)
        .limit(PAGE_SIZE)
    ).all()
    changes = [
        {"id": change.application_id, "status": change.status, "official_number": number,
         "reason": change.reason, "changed_at": iso(change.changed_at)}
        for change, number in rows
    ]
    last = rows[-1][0].id if rows else cursor
    return {"changes": changes, "cursor": str(last)}
