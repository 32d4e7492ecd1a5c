"""The device identity on disk: private, atomic, refuses to pretend when absent."""

import json
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from offline_queue.errors import NotEnrolled, StorageError
from offline_queue.identity import IDENTITY_FILE, DeviceIdentity


def _identity() -> DeviceIdentity:
    return DeviceIdentity(
        device_id="kiosk-3f9a1c2e",
        county="441423",
        hall_url="http://hall.example:8080",
        private_key=Ed25519PrivateKey.generate(),
        hall_seal_public_key=os.urandom(32),
        hall_sign_public_key=os.urandom(32),
    )


def test_save_and_load(tmp_path):
    identity = _identity()
    assert not DeviceIdentity.is_enrolled(tmp_path)
    path = identity.save(tmp_path)
    assert DeviceIdentity.is_enrolled(tmp_path)
    assert (path.stat().st_mode & 0o777) == 0o600
    loaded = DeviceIdentity.load(tmp_path)
    assert loaded == identity
    assert loaded.public_key == identity.public_key
    assert [p.name for p in tmp_path.iterdir()] == [IDENTITY_FILE]


def test_private_key_not_in_repr():
    identity = _identity()
    assert "private" not in repr(identity)


def test_absent_identity_is_not_enrolled(tmp_path):
    with pytest.raises(NotEnrolled) as caught:
        DeviceIdentity.load(tmp_path)
    assert caught.value.message_key == "queue.not_enrolled"


def test_damaged_identity(tmp_path):
    (tmp_path / IDENTITY_FILE).write_text(json.dumps({"device_id": "x"}))
    with pytest.raises(StorageError):
        DeviceIdentity.load(tmp_path)
    (tmp_path / IDENTITY_FILE).write_text("{not json")
    with pytest.raises(StorageError):
        DeviceIdentity.load(tmp_path)


def test_overwrite_keeps_mode(tmp_path):
    _identity().save(tmp_path)
    second = _identity()
    path = second.save(tmp_path)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert DeviceIdentity.load(tmp_path).device_id == second.device_id
