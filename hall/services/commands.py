"""Commands for kiosks: created by staff, signed by the hall, delivered in heartbeat answers
until the kiosk acknowledges them or ``not_after`` passes.

    pending ──ack──> done | failed | refused
       └──── not_after passed ────> expired

The signed document is stored as the exact JSON that was signed, so every delivery of a
command carries the same bytes and the same signature. The kiosk checks the signature with
the hall key it pinned at enrolment (``kiosk.agent.documents``).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from hall.errors import Conflict, InvalidRequest, NotFound
from hall.models import Device, DeviceCommand
from hall.services import audit
from hall.timeutil import Clock, iso, system_clock, to_datetime
from kiosk.agent.documents import COMMAND_CONTEXT, BadCommandArgs, check_args, sign_document

PENDING = "pending"
EXPIRED = "expired"
ACK_STATUSES = ("done", "failed", "refused")
MAX_RESULT_CHARS = 16 * 1024
MAX_TTL_S = 30 * 24 * 3600


def issue(db: Session, sign_key: Ed25519PrivateKey, device_id: str, kind: str, args: dict,
          actor: str, ttl_s: int, clock: Clock = system_clock) -> DeviceCommand:
    """Create, sign and store one command, and audit who issued it."""
    device = db.get(Device, device_id)
    if device is None:
        raise NotFound(f"no device {device_id}", code="device_not_found")
    if device.revoked:
        raise Conflict(f"device {device_id} is revoked", code="device_revoked")
    try:
        checked = check_args(kind, args)
    except BadCommandArgs as exc:
        raise InvalidRequest(str(exc), code="invalid_command") from exc
    if not 60 <= ttl_s <= MAX_TTL_S:
        raise InvalidRequest(f"ttl must be between 60 s and {MAX_TTL_S} s", code="invalid_command")
    now = clock()
    document = {"id": str(uuid.uuid4()), "device_id": device_id, "kind": kind, "args": checked,
                "issued_at": iso(to_datetime(now)), "not_after": iso(to_datetime(now + ttl_s))}
    command = DeviceCommand(
        id=document["id"], device_id=device_id, kind=kind,
        document=json.dumps(document, ensure_ascii=False, sort_keys=True),
        signature=sign_document(sign_key, COMMAND_CONTEXT, document), issued_by=actor,
        issued_at=to_datetime(now), not_after=to_datetime(now + ttl_s), status=PENDING,
    )
    db.add(command)
    audit.record(db, actor, f"command.{kind}", device_id, {"command_id": command.id, **checked}, clock=clock)
    db.commit()
    return command


def expire_overdue(db: Session, clock: Clock = system_clock) -> int:
    """Mark every pending command past its ``not_after`` expired; the number marked."""
    overdue = (DeviceCommand.status == PENDING, DeviceCommand.not_after < to_datetime(clock()))
    result = db.execute(update(DeviceCommand).where(*overdue).values(status=EXPIRED))
    return int(getattr(result, "rowcount", 0) or 0)


_COMMANDS = DeviceCommand.__table__
# Built once (this runs in every heartbeat): the device's pending commands, oldest first.
_PENDING = (select(_COMMANDS.c.id, _COMMANDS.c.document, _COMMANDS.c.signature, _COMMANDS.c.not_after,
                   _COMMANDS.c.delivered_at)
            .where(_COMMANDS.c.device_id == bindparam("device_id"), _COMMANDS.c.status == PENDING)
            .order_by(_COMMANDS.c.issued_at, _COMMANDS.c.id).limit(20))
_EXPIRE = (update(_COMMANDS).where(_COMMANDS.c.id.in_(bindparam("ids", expanding=True)),
                                   _COMMANDS.c.status == PENDING).values(status=EXPIRED))
_MARK_DELIVERED = (update(_COMMANDS).where(_COMMANDS.c.id.in_(bindparam("ids", expanding=True)),
                                           _COMMANDS.c.delivered_at.is_(None))
                   .values(delivered_at=bindparam("now")))


def pending_for(db: Session, device: Device, clock: Clock = system_clock) -> list[Row]:
    """The commands to deliver in this heartbeat answer (oldest first), marked delivered.

    This kiosk's overdue ones are marked expired on the way (the console's list expires
    everyone's); a beat with nothing pending, the usual one, is one indexed read."""
    connection = db.connection()
    rows = list(connection.execute(_PENDING, {"device_id": device.id}))
    if not rows:
        return []
    now = to_datetime(clock())
    overdue = [row.id for row in rows if row.not_after < now]
    if overdue:
        connection.execute(_EXPIRE, {"ids": overdue})
    due = [row for row in rows if row.not_after >= now]
    undelivered = [row.id for row in due if row.delivered_at is None]
    if undelivered:
        connection.execute(_MARK_DELIVERED, {"ids": undelivered, "now": now})
    return due


_PENDING_OF_MANY = (select(_COMMANDS.c.id, _COMMANDS.c.device_id, _COMMANDS.c.document, _COMMANDS.c.signature,
                           _COMMANDS.c.not_after, _COMMANDS.c.delivered_at)
                    .where(_COMMANDS.c.device_id.in_(bindparam("ids", expanding=True)),
                           _COMMANDS.c.status == PENDING)
                    .order_by(_COMMANDS.c.issued_at, _COMMANDS.c.id))


def pending_of_many(connection: Connection, device_ids: list[str]) -> dict[str, list[Row]]:
    """The pending commands of many kiosks (oldest first, at most 20 each), one read: what the
    heartbeat writer caches; it expires and marks them with ``expire`` and ``mark_delivered``."""
    found: dict[str, list[Row]] = {device_id: [] for device_id in device_ids}
    for row in connection.execute(_PENDING_OF_MANY, {"ids": device_ids}):
        if len(found[row.device_id]) < 20:
            found[row.device_id].append(row)
    return found


def expire(connection: Connection, command_ids: list[str]) -> None:
    """Mark these pending commands expired (their ``not_after`` has passed)."""
    if command_ids:
        connection.execute(_EXPIRE, {"ids": command_ids})


def mark_delivered(connection: Connection, command_ids: list[str], now: datetime) -> None:
    """Note the first delivery of these commands (a command already marked keeps its time)."""
    if command_ids:
        connection.execute(_MARK_DELIVERED, {"ids": command_ids, "now": now})


def delivery_json(command: DeviceCommand | Row) -> dict:
    return {"document": json.loads(command.document), "signature": command.signature}


def acknowledge(db: Session, device: Device, command_id: str, status: str, reason: str, result: dict,
                clock: Clock = system_clock) -> DeviceCommand:
    """Record the kiosk's answer to one of its own commands. A repeat of the same answer is
    accepted (the first ack's reply may have been lost); a different second answer is refused."""
    command = db.get(DeviceCommand, command_id)
    if command is None or command.device_id != device.id:
        raise NotFound(f"no command {command_id} for this device", code="command_not_found")
    if status not in ACK_STATUSES:
        raise InvalidRequest(f"status must be one of {', '.join(ACK_STATUSES)}")
    stored = json.dumps({"status": status, "reason": reason, "result": result}, ensure_ascii=False,
                        sort_keys=True)
    if len(stored) > MAX_RESULT_CHARS:
        raise InvalidRequest(f"result larger than {MAX_RESULT_CHARS} characters")
    if command.acked_at is not None:
        if command.result_json == stored:
            return command
        raise Conflict(f"command {command_id} was already acknowledged", code="already_acknowledged")
    # An ack after expiry is still recorded (the kiosk usually refuses an expired command),
    # but the command stays expired: it was not carried out in time.
    if command.status == PENDING:
        command.status = status
    command.acked_at = to_datetime(clock())
    command.result_json = stored
    db.commit()
    return command


def list_commands(db: Session, device_id: str | None = None, limit: int = 100,
                  clock: Clock = system_clock) -> list[DeviceCommand]:
    if expire_overdue(db, clock):
        db.commit()
    query = select(DeviceCommand).order_by(DeviceCommand.issued_at.desc(), DeviceCommand.id).limit(limit)
    if device_id is not None:
        query = query.where(DeviceCommand.device_id == device_id)
    return list(db.scalars(query))


def command_json(command: DeviceCommand) -> dict:
    document = json.loads(command.document)
    ack = json.loads(command.result_json or "{}")
    return {"id": command.id, "device_id": command.device_id, "kind": command.kind,
            "args": document.get("args", {}), "issued_by": command.issued_by,
            "issued_at": iso(command.issued_at), "not_after": iso(command.not_after),
            "status": command.status, "delivered_at": iso(command.delivered_at),
            "acked_at": iso(command.acked_at), "ack": ack}
