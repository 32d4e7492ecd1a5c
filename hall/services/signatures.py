"""Checking a signed request: device, clock skew, signature, revocation, nonce replay."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hall.errors import AuthFailed, DeviceRevoked
from hall.models import Device, SeenNonce
from hall.timeutil import Clock, system_clock, to_datetime
from offline_queue.signing import (
    HEADER_DEVICE,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    MAX_SKEW_SECONDS,
    verify_signature,
)

_HEADERS = (HEADER_DEVICE, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)
SIGNATURE_REFUSED = "the request's signature does not verify"
log = logging.getLogger("hall.signatures")


def authenticate(
    db: Session,
    headers: Mapping[str, str],
    method: str,
    path: str,
    query_pairs: Iterable[tuple[str, str]],
    body: bytes,
    clock: Clock = system_clock,
    max_skew_s: int = MAX_SKEW_SECONDS,
) -> Device:
    """The device that signed this request, or raise AuthFailed / DeviceRevoked."""
    values = {name: headers.get(name) for name in _HEADERS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise AuthFailed(f"missing header {missing[0]}", code="bad_signature")
    # The clock first: it does not depend on the device, so a stale answer says nothing about it.
    now = clock()
    try:
        timestamp = int(values[HEADER_TIMESTAMP])
    except ValueError as exc:
        raise AuthFailed("timestamp is not an integer", code="stale_timestamp") from exc
    if abs(now - timestamp) > max_skew_s:
        raise AuthFailed(f"timestamp differs from the hall clock by {int(now - timestamp)} s",
                         code="stale_timestamp")
    # One answer for an unknown device, a bad nonce and a bad signature, so that a caller
    # cannot tell which device ids exist; the hall's log keeps the distinction.
    nonce = values[HEADER_NONCE]
    device = db.get(Device, values[HEADER_DEVICE])
    if device is None or len(nonce) > 64:
        log.info("signed request refused: %s", "unknown device" if device is None else "nonce too long")
        raise AuthFailed(SIGNATURE_REFUSED, code="bad_signature")
    public_key = Ed25519PublicKey.from_public_bytes(device.public_key)
    if not verify_signature(public_key, values, method, path, query_pairs, body):
        log.info("signed request refused: signature does not verify (device %s)", device.id)
        raise AuthFailed(SIGNATURE_REFUSED, code="bad_signature")
    if device.revoked:
        raise DeviceRevoked("this device has been revoked")
    db.execute(delete(SeenNonce).where(SeenNonce.ts < int(now) - max_skew_s - 1))
    db.add(SeenNonce(device_id=device.id, nonce=nonce, ts=timestamp))
    device.last_seen = to_datetime(now)
    try:
        db.commit()
    except IntegrityError as exc:
        db.rollback()
        raise AuthFailed("nonce already seen", code="replayed_nonce") from exc
    return device
