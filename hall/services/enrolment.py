"""One-time enrolment codes and the enrolment of a kiosk."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hall.core.config import Settings, validate_county
from hall.core.keys import HallKeys
from hall.errors import InvalidCode, InvalidRequest
from hall.models import Device, EnrolmentCode
from hall.services.numbering import device_short
from hall.timeutil import Clock, system_clock, to_datetime
from offline_queue.signing import usable_public_key

log = logging.getLogger("hall.enrolment")
CODE_REFUSED = "this enrolment code cannot be used; ask the county for a new one"

# No 0/O, 1/I/L: codes are read aloud and typed on a touchscreen.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def normalise_code(text: str) -> str:
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else raw


def create_code(db: Session, settings: Settings, county: str | None = None,
                clock: Clock = system_clock) -> EnrolmentCode:
    county = validate_county(county or settings.county)
    now = to_datetime(clock())
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    code = EnrolmentCode(
        code=normalise_code(raw), county=county, created_at=now,
        expires_at=now + timedelta(seconds=settings.enrolment_ttl_s),
    )
    db.add(code)
    db.commit()
    return code


def _new_device_id(db: Session) -> str:
    """``kiosk-<8 hex>`` whose first four (the kiosk's mark in provisional numbers) no other kiosk has."""
    for _ in range(100):
        device_id = f"kiosk-{secrets.token_hex(4)}"
        taken = db.scalar(select(Device.id).where(Device.id.like(f"kiosk-{device_id[6:10]}%")).limit(1))
        if taken is None and device_short(device_id) == device_id[6:10].upper():
            return device_id
    raise InvalidCode("no free kiosk mark is left; the county has 65,536 kiosks already")


@dataclass(frozen=True)
class EnrolmentRequest:
    code: str
    public_key: str
    name: str = ""
    versions: dict | None = None


def enrol(db: Session, keys: HallKeys, request: EnrolmentRequest,
          clock: Clock = system_clock) -> dict:
    try:
        public_key = base64.b64decode(request.public_key, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("public_key is not base64") from exc
    if not usable_public_key(public_key):
        raise InvalidRequest("public_key must be a raw 32-byte Ed25519 key")
    now = to_datetime(clock())
    code = db.get(EnrolmentCode, normalise_code(request.code))
    # One answer for an unknown, used or expired code, so that guesses learn nothing about
    # which codes exist; the hall's own log keeps the distinction (never the code itself).
    problem = ("unknown" if code is None else "already used" if code.used_at is not None
               else "expired" if code.expires_at <= now else "")
    if problem:
        log.info("enrolment refused: code %s", problem)
        raise InvalidCode(CODE_REFUSED)
    device_id = _new_device_id(db)
    claimed = db.execute(
        update(EnrolmentCode)
        .where(EnrolmentCode.code == code.code, EnrolmentCode.used_at.is_(None))
        .values(used_at=now, device_id=device_id)
    )
    if claimed.rowcount != 1:
        db.rollback()
        log.info("enrolment refused: code already used (race)")
        raise InvalidCode(CODE_REFUSED)
    db.add(Device(
        id=device_id, name=(request.name or "")[:200], county=code.county, public_key=public_key,
        revoked=False, versions=json.dumps(request.versions or {}, sort_keys=True),
        enrolled_at=now, last_seen=now,
    ))
    db.commit()
    return {
        "device_id": device_id,
        "county": code.county,
        "hall_seal_public_key": base64.b64encode(keys.seal_public).decode("ascii"),
        "hall_sign_public_key": base64.b64encode(keys.sign_public).decode("ascii"),
    }
