"""What the console shows of the fleet: one row per kiosk with its flags, and a timeline.

Flags (a kiosk with any is listed first): ``quiet`` (no heartbeat for three intervals, or
never), ``paper`` (the printer reports it is out of paper), ``queue_old`` (the oldest
unsent application is older than a day), ``devices`` (a required device is not ok),
``locked``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.models import AuditEntry, Device, DeviceCommand, DeviceState, Heartbeat
from hall.timeutil import to_datetime

QUEUE_TOO_OLD_S = 24 * 3600
QUIET_INTERVALS = 3
FLAG_LABELS = {"quiet": "失联 Quiet", "paper": "缺纸 Out of paper", "queue_old": "积压 Queue too old",
               "devices": "设备故障 Device problem", "locked": "已锁定 Locked"}
SORT_KEYS = ("device", "village", "last_heard", "queue", "oldest", "version")


@dataclass
class FleetRow:
    device: Device
    state: DeviceState | None
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)  # device kind -> its health
    flags: list[str] = field(default_factory=list)

    @property
    def online(self) -> bool:
        return "quiet" not in self.flags


def _health(state: DeviceState | None) -> dict[str, dict[str, Any]]:
    if state is None:
        return {}
    report = json.loads(state.report_json or "{}")
    return {str(d.get("device")): d for d in (report.get("health") or {}).get("devices", [])}


def fleet_rows(db: Session, now: float, interval_s: int, query: str = "", sort: str = "device",
               descending: bool = False) -> list[FleetRow]:
    states = {s.device_id: s for s in db.scalars(select(DeviceState))}
    rows = []
    needle = query.strip().lower()
    for device in db.scalars(select(Device)):
        if needle and needle not in f"{device.id} {device.name} {device.county}".lower():
            continue
        state = states.get(device.id)
        row = FleetRow(device, state, _health(state))
        if device.revoked:
            rows.append(row)
            continue
        if state is None or now - state.reported_at.timestamp() > QUIET_INTERVALS * interval_s:
            row.flags.append("quiet")
        if any("paper" in str(d.get("reason", "")) for d in row.devices.values()):
            row.flags.append("paper")
        if state is not None and (state.oldest_unsent_s or 0) > QUEUE_TOO_OLD_S:
            row.flags.append("queue_old")
        if any(d.get("required") and d.get("state") != "ok" for d in row.devices.values()):
            row.flags.append("devices")
        if state is not None and state.locked:
            row.flags.append("locked")
        rows.append(row)
    rows.sort(key=lambda r: _sort_value(r, sort), reverse=descending)
    rows.sort(key=lambda r: not r.flags or r.device.revoked)  # stable: flagged first, in the chosen order
    return rows


def _sort_value(row: FleetRow, sort: str) -> Any:
    state = row.state
    return {
        "village": (row.device.name or "", row.device.id),
        "last_heard": state.reported_at.timestamp() if state else 0.0,
        "queue": state.queue_depth if state else -1,
        "oldest": (state.oldest_unsent_s or 0) if state else -1,
        "version": (state.software_version, state.config_version) if state else ("", 0),
    }.get(sort, row.device.id)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # heartbeat | command | staff | problem
    text: str


def timeline(db: Session, device_id: str, limit: int = 60) -> list[TimelineEntry]:
    """Newest first: staff actions, commands with their answers, problems and heartbeats that
    changed something (health state, lock) rather than every beat."""
    entries: list[TimelineEntry] = []
    for entry in db.scalars(select(AuditEntry).where(AuditEntry.device_id == device_id)
                            .order_by(AuditEntry.id.desc()).limit(limit)):
        entries.append(TimelineEntry(entry.at, "staff", f"{entry.actor}: {entry.action} {entry.detail}"))
    for command in db.scalars(select(DeviceCommand).where(DeviceCommand.device_id == device_id)
                              .order_by(DeviceCommand.issued_at.desc()).limit(limit)):
        if command.acked_at is not None:
            ack = json.loads(command.result_json or "{}")
            reason = f" ({ack.get('reason')})" if ack.get("reason") else ""
            entries.append(TimelineEntry(command.acked_at, "command",
                                         f"{command.kind} → {ack.get('status', command.status)}{reason}"))
        elif command.status == "expired":
            entries.append(TimelineEntry(command.not_after, "command", f"{command.kind} → expired"))
    previous: tuple[str, bool] | None = None
    beats = list(db.scalars(select(Heartbeat).where(Heartbeat.device_id == device_id)
                            .order_by(Heartbeat.id.desc()).limit(500)))
    for beat in reversed(beats):
        report = json.loads(beat.report_json or "{}")
        now = (beat.health_state, bool(report.get("locked")))
        if now != previous:
            locked = ", locked" if now[1] else ""
            entries.append(TimelineEntry(beat.received_at, "heartbeat", f"health {now[0] or '?'}{locked}"))
            previous = now
        for problem in report.get("problems", []):
            entries.append(TimelineEntry(beat.received_at, "problem", str(problem)))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def queue_points(db: Session, device_id: str, limit: int = 200) -> list[tuple[float, int]]:
    beats = db.scalars(select(Heartbeat).where(Heartbeat.device_id == device_id)
                       .order_by(Heartbeat.id.desc()).limit(limit))
    return [(b.received_at.timestamp(), b.queue_depth) for b in reversed(list(beats))]


def when(unix: float) -> datetime:
    return to_datetime(unix)
