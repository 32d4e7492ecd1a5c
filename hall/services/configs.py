"""Signed configuration: staff write a layer of kiosk settings, the hall checks it with the
kiosk's own models, numbers it, assigns it to kiosks, and signs it per kiosk on delivery.

A version is delivered in heartbeat answers while the kiosk reports an older
``config_version``; the kiosk keeps it and reports the new number (or why it refused) in
its next heartbeat, which is how the console knows who took it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Row, bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from hall.errors import InvalidRequest, NotFound
from hall.models import ConfigVersion, Device, DeviceConfig, DeviceState
from hall.services import audit
from hall.timeutil import Clock, iso, system_clock, to_datetime
from kiosk.agent.documents import CONFIG_CONTEXT, CONFIG_FORBIDDEN_KEYS, sign_document

MAX_SETTINGS_CHARS = 16 * 1024


def check_settings(tree: object) -> dict[str, Any]:
    """The layer checked exactly as the kiosk will check it (``kiosk.settings``)."""
    from kiosk.errors import ConfigError
    from kiosk.settings import check_layer, layer_from_tree

    if not isinstance(tree, Mapping) or not tree:
        raise InvalidRequest("a configuration is a non-empty table of settings", code="invalid_config")
    try:
        layer = layer_from_tree(tree, "configuration")
        check_layer(layer)
    except ConfigError as exc:
        raise InvalidRequest(str(exc), code="invalid_config") from exc
    forbidden = sorted(CONFIG_FORBIDDEN_KEYS & set(layer.values))
    if forbidden:
        raise InvalidRequest(f"{forbidden[0]}: the hall may not set it", code="invalid_config")
    text = json.dumps(tree, ensure_ascii=False, sort_keys=True)
    if len(text) > MAX_SETTINGS_CHARS:
        raise InvalidRequest(f"configuration larger than {MAX_SETTINGS_CHARS} characters",
                             code="invalid_config")
    return dict(tree)


def push(db: Session, tree: object, device_ids: Iterable[str], actor: str, note: str = "",
         clock: Clock = system_clock) -> ConfigVersion:
    """Check, store as a new version, assign to ``device_ids``, audit; one transaction."""
    settings = check_settings(tree)
    ids = list(dict.fromkeys(device_ids))
    if not ids:
        raise InvalidRequest("name at least one kiosk", code="invalid_config")
    devices = [db.get(Device, device_id) for device_id in ids]
    missing = [device_id for device_id, device in zip(ids, devices, strict=True) if device is None]
    if missing:
        raise NotFound(f"no device {missing[0]}", code="device_not_found")
    now = to_datetime(clock())
    version = ConfigVersion(created_at=now, created_by=actor[:100], note=note[:200],
                            settings_json=json.dumps(settings, ensure_ascii=False, sort_keys=True))
    db.add(version)
    db.flush()
    for device_id in ids:
        assignment = db.get(DeviceConfig, device_id) or DeviceConfig(device_id=device_id)
        assignment.version, assignment.assigned_at, assignment.assigned_by = version.id, now, actor[:100]
        db.add(assignment)
        audit.record(db, actor, "config.push", device_id, {"version": version.id, "note": note[:200]},
                     clock=clock)
    db.commit()
    return version


_ASSIGNED = DeviceConfig.__table__
_VERSIONS = ConfigVersion.__table__
# Built once (this runs in every heartbeat): the assigned version, only when newer than reported.
_DUE = (select(_VERSIONS.c.id, _VERSIONS.c.settings_json, _VERSIONS.c.created_at)
        .join_from(_ASSIGNED, _VERSIONS, _VERSIONS.c.id == _ASSIGNED.c.version)
        .where(_ASSIGNED.c.device_id == bindparam("device_id"), _ASSIGNED.c.version > bindparam("reported")))


def delivery_for(db: Session, sign_key: Ed25519PrivateKey, device: Device, reported: int) -> dict | None:
    """The signed configuration to send this kiosk, or None when it runs the assigned one."""
    version = db.connection().execute(_DUE, {"device_id": device.id, "reported": reported}).first()
    return None if version is None else signed_delivery(sign_key, device.id, version)


_ASSIGNED_OF_MANY = (select(_ASSIGNED.c.device_id, _VERSIONS.c.id, _VERSIONS.c.settings_json,
                            _VERSIONS.c.created_at)
                     .join_from(_ASSIGNED, _VERSIONS, _VERSIONS.c.id == _ASSIGNED.c.version)
                     .where(_ASSIGNED.c.device_id.in_(bindparam("ids", expanding=True))))


def assigned_of_many(connection: Connection, device_ids: list[str]) -> dict[str, Row]:
    """The configuration version assigned to each of these kiosks (absent: none), one read: what
    the heartbeat writer caches; ``signed_delivery`` makes the answer's part of it."""
    return {row.device_id: row for row in connection.execute(_ASSIGNED_OF_MANY, {"ids": device_ids})}


def signed_delivery(sign_key: Ed25519PrivateKey, device_id: str, version: Row) -> dict:
    """The signed configuration document of ``version`` for one kiosk."""
    document = {"version": version.id, "device_id": device_id, "settings": json.loads(version.settings_json),
                "issued_at": iso(version.created_at)}
    return {"document": document, "signature": sign_document(sign_key, CONFIG_CONTEXT, document)}


def rollout(db: Session) -> list[dict]:
    """Each assignment and whether the kiosk took it (its last heartbeat reports that version)."""
    rows = []
    for assignment in db.scalars(select(DeviceConfig).order_by(DeviceConfig.device_id)):
        state = db.get(DeviceState, assignment.device_id)
        reported = state.config_version if state is not None else 0
        problems = json.loads(state.report_json).get("problems", []) if state is not None else []
        refused = [p for p in problems if p.startswith("config_refused:")]
        rows.append({"device_id": assignment.device_id, "version": assignment.version,
                     "assigned_at": iso(assignment.assigned_at), "assigned_by": assignment.assigned_by,
                     "reported_version": reported, "took_it": reported >= assignment.version,
                     "refused": refused})
    return rows
