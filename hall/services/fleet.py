"""Heartbeats: the latest state of every kiosk, and a bounded history per kiosk.

A heartbeat replaces the kiosk's row in ``device_states`` (what the fleet overview shows)
and adds one row to ``heartbeats``; only the newest ``Settings.heartbeat_history`` rows per
kiosk are kept, so a kiosk beating every minute for years costs a bounded table.
Everything in a heartbeat comes from a kiosk and is hostile: it is validated by
``HeartbeatIn`` (sizes bounded) before it reaches here.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hall.core.config import Settings
from hall.models import Device, DeviceState, Heartbeat
from hall.timeutil import Clock, iso, system_clock, to_datetime


def record_heartbeat(db: Session, settings: Settings, device: Device, report: dict[str, Any],
                     clock: Clock = system_clock) -> None:
    """Store one heartbeat (``report`` is ``HeartbeatIn.model_dump()``); the caller commits.

    Core statements, not the ORM's unit of work: this runs for every beat of every kiosk,
    inside the write transaction (on SQLite, holding the one write lock), and the unit of
    work cost more CPU than the statements themselves."""
    now = to_datetime(clock())
    health = report.get("health") or {}
    queue = report.get("queue") or {}
    versions = report.get("versions") or {}
    text = json.dumps(report, ensure_ascii=False, sort_keys=True)
    state = {
        "reported_at": now,
        "health_state": str(health.get("state", ""))[:16],
        "queue_depth": int(queue.get("depth", 0)),
        "oldest_unsent_s": queue.get("oldest_unsent_s"),
        "free_disk_bytes": int(report.get("free_disk_bytes", 0)),
        # The release the kiosk's launcher started, else (factory install) the package version.
        "software_version": str(versions.get("release") or versions.get("kiosk", ""))[:40],
        "config_version": int(report.get("config_version", 0)),
        "uptime_s": int(report.get("uptime_s", 0)),
        "locked": bool(report.get("locked", False)),
        "report_json": text,
    }
    # One upsert: two beats of one kiosk at once (a retry crossing a slow answer) must not
    # both find no row and both insert one (an IntegrityError, a 500 on PostgreSQL).
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    db.execute(dialect.insert(DeviceState).values(device_id=device.id, **state)
               .on_conflict_do_update(index_elements=[DeviceState.device_id], set_=state))
    db.execute(insert(Heartbeat).values(
        device_id=device.id, received_at=now, health_state=state["health_state"],
        queue_depth=state["queue_depth"],
        oldest_unsent_s=state["oldest_unsent_s"], report_json=text))
    _trim_history(db, device.id, settings.heartbeat_history)


def _trim_history(db: Session, device_id: str, keep: int) -> None:
    cutoff = db.scalar(select(Heartbeat.id).where(Heartbeat.device_id == device_id)
                       .order_by(Heartbeat.id.desc()).offset(keep).limit(1))
    if cutoff is not None:
        db.execute(delete(Heartbeat).where(Heartbeat.device_id == device_id, Heartbeat.id <= cutoff))


def history(db: Session, device_id: str, limit: int = 200) -> list[Heartbeat]:
    """The newest ``limit`` heartbeats of one kiosk, oldest first."""
    rows = db.scalars(select(Heartbeat).where(Heartbeat.device_id == device_id)
                      .order_by(Heartbeat.id.desc()).limit(limit))
    return list(reversed(list(rows)))


def state_json(state: DeviceState | None) -> dict:
    if state is None:
        return {}
    return {"reported_at": iso(state.reported_at), "health_state": state.health_state,
            "queue_depth": state.queue_depth, "oldest_unsent_s": state.oldest_unsent_s,
            "free_disk_bytes": state.free_disk_bytes, "software_version": state.software_version,
            "config_version": state.config_version, "uptime_s": state.uptime_s, "locked": state.locked,
            "report": json.loads(state.report_json or "{}")}
