"""Key rotation: a kiosk swaps its Ed25519 key pair for a new one (the ``rotate_keys`` command).

The kiosk sends ``{device_id, old_public_key, new_public_key}`` signed by the old key (the one
the hall knows, which vouches for the new one) and by the new key (proof the kiosk holds it),
in a request itself signed by the old key. The hall then stores the new public key: from that
commit on, a request signed with the old key is refused like any forged one.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.errors import AuthFailed, Conflict, InvalidRequest
from hall.models import Device
from hall.services import audit
from hall.timeutil import Clock, system_clock
from kiosk.agent.documents import ROTATION_CONTEXT, verify_document
from offline_queue.signing import usable_public_key


def _raw_key(text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("a key is not base64", code="invalid_key") from exc
    if not usable_public_key(raw):
        raise InvalidRequest("a key is not a raw 32-byte Ed25519 key", code="invalid_key")
    return raw


def rotate(db: Session, device: Device, document: dict, old_signature: str, new_signature: str,
           clock: Clock = system_clock) -> Device:
    """Switch ``device`` to the new key in ``document``; raises for anything that does not fit."""
    if document.get("device_id") != device.id:
        raise InvalidRequest("the rotation is for another device", code="invalid_rotation")
    old, new = _raw_key(document["old_public_key"]), _raw_key(document["new_public_key"])
    if old != device.public_key:
        raise Conflict("the old key is not this device's key", code="stale_rotation")
    if new == old:
        raise InvalidRequest("the new key is the old key", code="invalid_rotation")
    old_key, new_key = Ed25519PublicKey.from_public_bytes(old), Ed25519PublicKey.from_public_bytes(new)
    if not (verify_document(old_key, ROTATION_CONTEXT, document, old_signature)
            and verify_document(new_key, ROTATION_CONTEXT, document, new_signature)):
        raise AuthFailed("the rotation is not signed by both keys", code="bad_signature")
    if db.scalar(select(Device.id).where(Device.public_key == new)) is not None:
        raise Conflict("that key belongs to a device already", code="key_in_use")
    device.public_key = new
    audit.record(db, f"device:{device.id}", "device.rotate_keys", device.id,
                 {"old_key": document["old_public_key"][:12], "new_key": document["new_public_key"][:12]},
                 clock=clock)
    db.commit()
    return device
