"""The fleet: list and revoke kiosks."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall.errors import NotFound
from hall.models import Application, Device
from hall.timeutil import iso


def list_devices(db: Session) -> list[Device]:
    return list(db.scalars(select(Device).order_by(Device.enrolled_at, Device.id)))


def application_counts(db: Session) -> dict[str, int]:
    rows = db.execute(select(Application.device_id, func.count()).group_by(Application.device_id))
    return {device_id: count for device_id, count in rows}


def revoke(db: Session, device_id: str) -> Device:
    device = db.get(Device, device_id)
    if device is None:
        raise NotFound(f"no device {device_id}", code="device_not_found")
    device.revoked = True
    db.commit()
    return device


def device_json(device: Device, applications: int = 0) -> dict:
    return {
        "device_id": device.id, "name": device.name, "county": device.county,
        "revoked": device.revoked, "enrolled_at": iso(device.enrolled_at),
        "last_seen": iso(device.last_seen), "applications": applications,
    }
