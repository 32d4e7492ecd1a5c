"""Processing states, their full history, and the kiosks' feed.

::

    submitted ──► accepted ──► completed
        │  ▲          │   ╲──► rejected
        │  │          ▼
        └──┼──► correction_needed ◄──► supplemented ──► accepted | completed | rejected
           │          │
           └──────────┴──► rejected

A correction may be asked before acceptance (一次性告知: the materials are incomplete, so
the application cannot be accepted yet) or after. ``supplemented`` is set only by a
supplement arriving from the kiosk, never by a clerk. Every change is a ``StatusChange``
row: who, when, from which status, why, and (corrections) which materials. Its
autoincrement ``id`` is the cursor of the kiosks' feed.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall.errors import Conflict, InvalidRequest, NotFound, Unprocessable
from hall.models import Application, ApplicationResult, Device, StatusChange
from hall.services import figures_summary
from hall.services.numbering import next_official_number
from hall.timeutil import Clock, iso, system_clock, to_datetime

STATUSES = ("submitted", "accepted", "correction_needed", "supplemented", "completed", "rejected")
SETTABLE = ("accepted", "correction_needed", "completed", "rejected")  # by a clerk or the CLI
OPEN = ("submitted", "accepted", "correction_needed", "supplemented")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "submitted": ("accepted", "correction_needed", "rejected"),
    "accepted": ("correction_needed", "completed", "rejected"),
    "correction_needed": ("supplemented", "rejected"),
    "supplemented": ("accepted", "correction_needed", "completed", "rejected"),
    "completed": (),
    "rejected": (),
}
NEEDS_REASON = ("correction_needed", "rejected")
# The official number (办件编号) is given at acceptance; an application completed straight
# from ``supplemented`` was accepted by that completion and gets it then. A rejected one
# was never accepted and keeps only its receipt number.
GIVES_NUMBER = ("accepted", "completed")
PAGE_SIZE = 200
MAX_REASON = 2000


def allowed_next(status: str, by_clerk: bool = True) -> tuple[str, ...]:
    nexts = TRANSITIONS.get(status, ())
    return tuple(s for s in nexts if s in SETTABLE) if by_clerk else nexts


def change_status(db: Session, app_id: str, status: str, reason: str = "", actor: str = "",
                  clock: Clock = system_clock, *, materials: list[str] | None = None,
                  walk: bool = False, by_clerk: bool = True, require_reason: bool = False,
                  utc_offset_hours: int = 8) -> StatusChange:
    """Move an application on, refusing what the state table does not allow (409).

    ``walk``: when ``status`` is not allowed from a submitted application but is from an
    accepted one, accept it first (two recorded changes; the CLI's ``--walk``).
    ``require_reason``: a correction or rejection must say why (the console asks it).
    ``utc_offset_hours``: the county's clock (settings), for the date in an official number."""
    if by_clerk and status not in SETTABLE:
        raise Unprocessable(f"status must be one of {', '.join(SETTABLE)}", code="invalid_status")
    application = db.scalar(select(Application).where(Application.id == app_id).with_for_update())
    if application is None:
        raise NotFound(f"no application {app_id}", code="application_not_found")
    reason = reason.strip()[:MAX_REASON]
    if status in NEEDS_REASON and require_reason and not reason:
        raise InvalidRequest("say why, in plain words the villager understands")
    if status == "correction_needed" and materials is not None and not materials:
        raise InvalidRequest("name at least one material to correct")
    if (walk and status not in TRANSITIONS.get(application.status, ())
            and status in TRANSITIONS["accepted"] and "accepted" in TRANSITIONS.get(application.status, ())):
        _record(db, application, "accepted", "", actor, clock, [], utc_offset_hours)
    if status not in TRANSITIONS.get(application.status, ()):
        raise Conflict(f"an application that is {application.status} cannot become {status}",
                       code="illegal_transition")
    change = _record(db, application, status, reason, actor, clock, materials or [], utc_offset_hours)
    db.commit()
    return change


def _record(db: Session, application: Application, status: str, reason: str, actor: str, clock: Clock,
            materials: list[str], utc_offset_hours: int) -> StatusChange:
    now = to_datetime(clock())
    change = StatusChange(application_id=application.id, device_id=application.device_id, status=status,
                          from_status=application.status, reason=reason, actor=actor[:100], changed_at=now,
                          materials_json=json.dumps(materials, ensure_ascii=False))
    figures_summary.count_status(db, application, status)
    application.status = status
    application.reason = reason
    application.updated_at = now
    if status == "accepted" and application.accepted_at is None:
        application.accepted_at = now
    if status in GIVES_NUMBER and application.official_number is None:
        application.official_number = next_official_number(
            db, application.county, now, utc_offset_hours)
    db.add(change)
    db.flush()
    return change


def change_materials(change: StatusChange) -> list[str]:
    try:
        value = json.loads(change.materials_json or "[]")
    except ValueError:
        return []
    return [str(m) for m in value] if isinstance(value, list) else []


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
    completed = {change.application_id for change, _ in rows if change.status == "completed"}
    results = dict(db.execute(select(ApplicationResult.application_id, func.count())
                              .where(ApplicationResult.application_id.in_(completed))
                              .group_by(ApplicationResult.application_id)).all()) if completed else {}
    # A correction names its materials (ids of the item's materials in the catalog the
    # kiosk holds); a completion says how many results the hall keeps for the villager.
    changes = [
        {"id": change.application_id, "status": change.status, "official_number": number,
         "reason": change.reason, "changed_at": iso(change.changed_at),
         "materials": change_materials(change), "results": results.get(change.application_id, 0)
         if change.status == "completed" else 0}
        for change, number in rows
    ]
    last = rows[-1][0].id if rows else cursor
    return {"changes": changes, "cursor": str(last)}
