"""The audit log: every staff action (who, when, what, on which device), never personal data."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.models import AuditEntry
from hall.timeutil import Clock, iso, system_clock, to_datetime


def record(db: Session, actor: str, action: str, device_id: str = "", detail: dict | None = None,
           clock: Clock = system_clock) -> AuditEntry:
    """Add one entry to the session; the caller commits it with the action it records."""
    entry = AuditEntry(at=to_datetime(clock()), actor=actor[:100], action=action[:64], device_id=device_id,
                       detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True))
    db.add(entry)
    return entry


def recent(db: Session, limit: int = 200, device_id: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if device_id is not None:
        query = query.where(AuditEntry.device_id == device_id)
    return list(db.scalars(query))


def audit_json(entry: AuditEntry) -> dict:
    return {"id": entry.id, "at": iso(entry.at), "actor": entry.actor, "action": entry.action,
            "device_id": entry.device_id, "detail": json.loads(entry.detail or "{}")}
