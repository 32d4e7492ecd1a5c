"""Checking a signed request: device, clock skew, signature, revocation, nonce replay
(the nonce is recorded by hall/services/nonce_book.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from nacl.signing import VerifyKey
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from hall.errors import AuthFailed, DeviceRevoked
from hall.models import Device
from hall.timeutil import Clock, system_clock
from offline_queue.signing import (
    HEADER_DEVICE,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    MAX_SKEW_SECONDS,
    request_key,
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
    record_nonce: Callable[[str, str, int, float], bool],
    clock: Clock = system_clock,
    max_skew_s: int = MAX_SKEW_SECONDS,
    load_device: Callable[[Session, str], Device | None] | None = None,
) -> Device:
    """The device that signed this request, or raise AuthFailed / DeviceRevoked.

    Reads only; the read transaction is over before the nonce is recorded by
    ``record_nonce(device_id, nonce, timestamp, now)`` (True: new; False: seen before),
    usually ``NonceBook.record``, which writes many requests' nonces in one transaction.
    ``load_device``: how the device is read (default: the ORM's ``db.get``; the heartbeat
    passes ``device_row``, which reads it fresh too but cheaper)."""
    values, timestamp, now = check_clock(headers, clock, max_skew_s)
    # One answer for an unknown device, a bad nonce and a bad signature, so that a caller
    # cannot tell which device ids exist; the hall's log keeps the distinction.
    try:
        device = (load_device or _load_orm)(db, values[HEADER_DEVICE])
    finally:
        db.commit()  # end the read: no snapshot or lock is held while the nonce is written
    check_device(device, values, method, path, query_pairs, body)
    assert device is not None
    if not record_nonce(device.id, values[HEADER_NONCE], timestamp, now):
        raise AuthFailed("nonce already seen", code="replayed_nonce")
    return device


def authenticate_on(connection: Connection, headers: Mapping[str, str], method: str, path: str,
                    query_pairs: Iterable[tuple[str, str]], body: bytes,
                    record_nonces: Callable[[Connection, list[tuple[str, str, int]], float, int],
                                            set[tuple[str, str]]],
                    clock: Clock = system_clock, max_skew_s: int = MAX_SKEW_SECONDS) -> Device:
    """``authenticate`` inside the caller's write transaction on ``connection`` (the upload's
    fast path: one transaction for the check and the request's own work): the same checks in
    the same order and the same answers; the nonce (``record_nonces``, usually
    ``nonce_book.record_nonces``) is written only once the signature verified, in that
    transaction, so the caller commits it (also when its own work is then refused)."""
    values, timestamp, now = check_clock(headers, clock, max_skew_s)
    device = read_device(connection, values[HEADER_DEVICE])
    check_device(device, values, method, path, query_pairs, body)
    assert device is not None
    if not record_nonces(connection, [(device.id, values[HEADER_NONCE], timestamp)], now, max_skew_s):
        raise AuthFailed("nonce already seen", code="replayed_nonce")
    return device


def check_clock(headers: Mapping[str, str], clock: Clock = system_clock,
                max_skew_s: int = MAX_SKEW_SECONDS) -> tuple[dict[str, str], int, float]:
    """The signature headers, the request's timestamp and the hall's now; raise AuthFailed when a
    header is missing or the timestamp is outside the clock window. Needs no device."""
    values = {name: headers.get(name) or "" for name in _HEADERS}
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
    return values, timestamp, now


@dataclass(frozen=True, slots=True)
class KnownDevice:
    """What the signature check reads of a device, as plain attributes: the heartbeat's fleet
    cache holds these (hall/services/fleet_cache.py), read on every beat, where an ORM
    ``Device``'s instrumented attributes cost ~1 µs each."""

    id: str
    county: str
    public_key: bytes
    revoked: bool


def check_device(device: Device | KnownDevice | None, values: Mapping[str, str], method: str, path: str,
                 query_pairs: Iterable[tuple[str, str]], body: bytes) -> None:
    """Raise AuthFailed (unknown device, nonce too long, signature that does not verify with the
    device's pinned key) or DeviceRevoked; ``values`` from ``check_clock``. The nonce's replay
    is the caller's to check (``authenticate``: the nonce book; the heartbeat: its writer)."""
    nonce = values[HEADER_NONCE]
    if device is None or len(nonce) > 64:
        log.info("signed request refused: %s", "unknown device" if device is None else "nonce too long")
        raise AuthFailed(SIGNATURE_REFUSED, code="bad_signature")
    if not verify_signature(public_key_of(device.public_key), values, method, path, query_pairs, body):
        log.info("signed request refused: signature does not verify (device %s)", device.id)
        raise AuthFailed(SIGNATURE_REFUSED, code="bad_signature")
    if device.revoked:
        raise DeviceRevoked("this device has been revoked")


def _load_orm(db: Session, device_id: str) -> Device | None:
    return db.get(Device, device_id)


_DEVICES = Device.__table__
# Built once. Every signed request reads its device afresh (revocation and key rotation take
# effect at the next request, in every hall process): the read is made cheap, not skipped.
_DEVICE = (select(_DEVICES.c.id, _DEVICES.c.county, _DEVICES.c.public_key, _DEVICES.c.revoked)
           .where(_DEVICES.c.id == bindparam("device_id")))


def device_row(db: Session, device_id: str) -> Device | None:
    """The device as a detached ``Device`` (id, county, public key, revoked) read by one Core
    statement, without the ORM's loading: for routes that only read those."""
    return read_device(db.connection(), device_id)


def read_device(connection: Connection, device_id: str) -> Device | None:
    """``device_row`` on a connection."""
    row = connection.execute(_DEVICE, {"device_id": device_id}).first()
    if row is None:
        return None
    return Device(id=row.id, county=row.county, public_key=row.public_key, revoked=row.revoked)


_DEVICES_OF_MANY = (select(_DEVICES.c.id, _DEVICES.c.county, _DEVICES.c.public_key, _DEVICES.c.revoked)
                    .where(_DEVICES.c.id.in_(bindparam("ids", expanding=True))))


def devices_of_many(connection: Connection, device_ids: list[str]) -> dict[str, KnownDevice]:
    """Many devices as ``KnownDevice``s, one read; unknown ids absent."""
    return {row.id: KnownDevice(row.id, row.county, row.public_key, row.revoked)
            for row in connection.execute(_DEVICES_OF_MANY, {"ids": device_ids})}


@lru_cache(maxsize=65536)  # a province's kiosks: the heartbeat verifies each key every minute
def public_key_of(raw: bytes) -> VerifyKey:
    """Keyed by the key's bytes, so a rotated key is a new entry, never a stale one."""
    return request_key(raw)
