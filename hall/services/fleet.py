"""Heartbeats: the latest state of every kiosk, and a bounded history per kiosk.

A heartbeat replaces the kiosk's row in ``device_states`` (what the fleet overview shows)
and adds one row to ``heartbeats``; only the newest ``Settings.heartbeat_history`` rows per
kiosk are kept, so a kiosk beating every minute for years costs a bounded table.
Everything in a heartbeat comes from a kiosk and is hostile: it is validated by
``HeartbeatIn`` (sizes bounded) before it reaches here.
"""

from __future__ import annotations

import json
from datetime import datetime
from types import ModuleType
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from hall.core.config import Settings
from hall.models import Device, DeviceState, Heartbeat
from hall.timeutil import Clock, iso, system_clock, to_datetime


def _upsert_state(dialect: ModuleType) -> Insert:
    columns = {name: bindparam(name) for name in (*_STATE_COLUMNS, "device_id")}
    statement = dialect.insert(_STATES).values(columns)
    return statement.on_conflict_do_update(
        index_elements=[_STATES.c.device_id],
        set_={name: statement.excluded[name] for name in _STATE_COLUMNS})


_STATES = DeviceState.__table__
_BEATS = Heartbeat.__table__
_STATE_COLUMNS = ("reported_at", "health_state", "queue_depth", "oldest_unsent_s", "free_disk_bytes",
                  "software_version", "config_version", "uptime_s", "locked", "report_json")
# Built once: a statement built anew each call costs more CPU (construction, cache key) than
# running it, and this runs for every beat of every kiosk.
_UPSERT_STATE = {"postgresql": _upsert_state(postgresql), "sqlite": _upsert_state(sqlite)}
_INSERT_BEAT = insert(_BEATS).values(
    {name: bindparam(name) for name in ("device_id", "received_at", "health_state", "queue_depth",
                                        "oldest_unsent_s", "report_json")})
# One statement: the kiosk's rows from its ``keep``-th newest down (NULL when it has fewer: none).
_TRIM = delete(_BEATS).where(
    _BEATS.c.device_id == bindparam("device_id"),
    _BEATS.c.id <= select(_BEATS.c.id).where(_BEATS.c.device_id == bindparam("device_id"))
    .order_by(_BEATS.c.id.desc()).offset(bindparam("keep")).limit(1).scalar_subquery())


def record_heartbeat(db: Session, settings: Settings, device: Device, report: dict[str, Any],
                     clock: Clock = system_clock) -> None:
    """Store one heartbeat (``report`` is ``HeartbeatIn.model_dump()``) and trim the kiosk's
    history to ``settings.heartbeat_history``; the caller commits. (The served heartbeat goes
    through hall/services/heartbeat_writer.py, many kiosks to a transaction.)"""
    write_beats(db.connection(), [state_row(device.id, report, to_datetime(clock()))],
                settings.heartbeat_history, trim=[device.id])


def state_row(device_id: str, report: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The ``device_states`` row of one heartbeat (also what its history row is made of)."""
    health = report.get("health") or {}
    queue = report.get("queue") or {}
    versions = report.get("versions") or {}
    return {
        "device_id": device_id,
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
        "report_json": json.dumps(report, ensure_ascii=False, sort_keys=True),
    }


def write_beats(connection: Connection, states: list[dict[str, Any]], keep: int, trim: list[str]) -> None:
    """Many kiosks' heartbeats in the caller's transaction: ``states`` (``state_row``s, at most
    one per kiosk) replace the kiosks' rows and join their histories (one executemany each);
    the kiosks named in ``trim`` keep only their newest ``keep`` history rows.

    Core statements built once, not the ORM's unit of work: this runs for every beat of
    every kiosk, inside the write transaction (on SQLite, holding the one write lock)."""
    if states:
        # An upsert: two beats of one kiosk at once (a retry crossing a slow answer, in two hall
        # processes) must not both find no row and both insert one.
        connection.execute(_UPSERT_STATE[connection.dialect.name], states)
        connection.execute(_INSERT_BEAT, [{
            "device_id": state["device_id"], "received_at": state["reported_at"],
            "health_state": state["health_state"], "queue_depth": state["queue_depth"],
            "oldest_unsent_s": state["oldest_unsent_s"], "report_json": state["report_json"]}
            for state in states])
    if trim:
        connection.execute(_TRIM, [{"device_id": device_id, "keep": keep} for device_id in trim])


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
