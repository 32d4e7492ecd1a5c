"""Rotating the kiosk's Ed25519 key pair (the ``rotate_keys`` command).

    1. a new key pair is made and kept in ``<data_dir>/rotating.key`` (0600) before anything
       is sent, so a power cut after the hall switched cannot leave the kiosk without the key
       the hall now expects;
    2. ``{device_id, old_public_key, new_public_key}`` is signed by the old key and the new
       one and sent in a request signed by the old key;
    3. the hall's signed "rotated" answer: ``identity.json`` is rewritten with the new key and
       ``rotating.key`` removed. A definite refusal: ``rotating.key`` is removed, the old key
       stays. No answer: ``rotating.key`` stays, and ``settle_rotation`` decides at the next
       beat — if the hall refuses the old key, it took the new one.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.agent.documents import ROTATION_CONTEXT, sign_document
from offline_queue.errors import HallAuthRefused, HallError, HallRejected
from offline_queue.identity import DeviceIdentity, public_key_bytes

PENDING_FILE = "rotating.key"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _save_pending(data_dir: Path, key: Ed25519PrivateKey) -> None:
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    tmp = Path(data_dir) / f".{PENDING_FILE}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        json.dump({"private_key": _b64(raw)}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, Path(data_dir) / PENDING_FILE)


def _load_pending(data_dir: Path) -> Ed25519PrivateKey | None:
    try:
        raw = json.loads((Path(data_dir) / PENDING_FILE).read_text(encoding="ascii"))["private_key"]
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(raw, validate=True))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        _drop_pending(data_dir)  # unreadable: it cannot be the key the hall took, it was never sent whole
        return None


def _drop_pending(data_dir: Path) -> None:
    (Path(data_dir) / PENDING_FILE).unlink(missing_ok=True)


def rotation_request(identity: DeviceIdentity, new_key: Ed25519PrivateKey) -> dict:
    document = {"device_id": identity.device_id, "old_public_key": _b64(identity.public_key),
                "new_public_key": _b64(public_key_bytes(new_key))}
    return {"document": document,
            "old_signature": sign_document(identity.private_key, ROTATION_CONTEXT, document),
            "new_signature": sign_document(new_key, ROTATION_CONTEXT, document)}


def rotate(identity: DeviceIdentity, send: Callable[[dict], None], data_dir: Path) -> DeviceIdentity:
    """The identity with the new key once the hall took it; raises ``HallError`` otherwise."""
    new_key = Ed25519PrivateKey.generate()
    _save_pending(data_dir, new_key)
    try:
        send(rotation_request(identity, new_key))
    except HallRejected:
        _drop_pending(data_dir)  # the hall said no for good: the old key is still the one
        raise
    return _adopt(identity, new_key, data_dir)


def _adopt(identity: DeviceIdentity, new_key: Ed25519PrivateKey, data_dir: Path) -> DeviceIdentity:
    rotated = replace(identity, private_key=new_key)
    rotated.save(data_dir)
    _drop_pending(data_dir)
    return rotated


def settle_rotation(identity: DeviceIdentity, data_dir: Path,
                    probe: Callable[[DeviceIdentity], object]) -> DeviceIdentity:
    """After a rotation whose answer was lost: the identity the hall accepts now.

    ``probe(identity)`` makes one signed request with that identity (a heartbeat)."""
    pending = _load_pending(data_dir)
    if pending is None:
        return identity
    try:
        probe(identity)
    except HallAuthRefused:
        candidate = replace(identity, private_key=pending)
        try:
            probe(candidate)
        except HallAuthRefused:
            return identity  # neither key is taken (revoked?): keep the files as they are
        return _adopt(identity, pending, data_dir)
    except HallError:
        return identity  # hall not reached: decide later
    _drop_pending(data_dir)  # the old key still works: the hall never switched
    return identity
