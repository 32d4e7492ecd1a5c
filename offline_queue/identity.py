"""Who this kiosk is to the county hall: its Ed25519 key and what enrolment returned.

Kept in ``<data_dir>/identity.json`` (mode 0600, written atomically). ``enroll`` makes
a fresh key pair, presents a one-time enrolment code to the hall and saves the answer.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from offline_queue.errors import EnrolmentFailed, NotEnrolled, StorageError
from offline_queue.transport import request_enrolment

IDENTITY_FILE = "identity.json"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, length: int) -> bytes:
    raw = base64.b64decode(text, validate=True)
    if len(raw) != length:
        raise ValueError(f"expected {length} bytes, got {len(raw)}")
    return raw


def public_key_bytes(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class DeviceIdentity:
    device_id: str
    county: str
    hall_url: str
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)
    hall_seal_public_key: bytes = field(repr=False)
    hall_sign_public_key: bytes = field(repr=False)

    @property
    def public_key(self) -> bytes:
        return public_key_bytes(self.private_key)

    @staticmethod
    def is_enrolled(data_dir: Path) -> bool:
        return (Path(data_dir) / IDENTITY_FILE).is_file()

    @classmethod
    def load(cls, data_dir: Path) -> DeviceIdentity:
        path = Path(data_dir) / IDENTITY_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise NotEnrolled("this kiosk is not enrolled with a county hall") from exc
        except (OSError, ValueError) as exc:
            raise StorageError("identity.json cannot be read") from exc
        try:
            return cls(
                device_id=str(raw["device_id"]),
                county=str(raw["county"]),
                hall_url=str(raw["hall_url"]),
                private_key=Ed25519PrivateKey.from_private_bytes(_unb64(raw["private_key"], 32)),
                hall_seal_public_key=_unb64(raw["hall_seal_public_key"], 32),
                hall_sign_public_key=_unb64(raw["hall_sign_public_key"], 32),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StorageError("identity.json is damaged") from exc

    def save(self, data_dir: Path) -> Path:
        """Write ``identity.json`` atomically with mode 0600."""
        folder = Path(data_dir)
        path = folder / IDENTITY_FILE
        private = self.private_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        body = {
            "device_id": self.device_id,
            "county": self.county,
            "hall_url": self.hall_url,
            "private_key": _b64(private),
            "public_key": _b64(self.public_key),
            "hall_seal_public_key": _b64(self.hall_seal_public_key),
            "hall_sign_public_key": _b64(self.hall_sign_public_key),
        }
        tmp = folder / f".{IDENTITY_FILE}.{secrets.token_hex(4)}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(body, fh, indent=2)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StorageError(f"cannot write identity.json: {exc.strerror}") from exc
        return path


def _kiosk_version() -> str:
    try:
        return version("village-kiosk")
    except PackageNotFoundError:  # not installed: a version string is only informative
        return "0.1.0"


def enroll(hall_url: str, code: str, data_dir: Path, name: str = "", timeout_s: float = 10,
           hall_sign_key: bytes | None = None) -> DeviceIdentity:
    """Enrol with the hall using a one-time ``code``; saves and returns the identity.

    The hall's Ed25519 key in the answer is pinned in ``identity.json``; every later answer
    must be signed by it. ``hall_sign_key`` (when the county hands it out with the code)
    must match it. Raises ``InsecureHallUrl`` (plain http:// to another machine),
    ``EnrolmentFailed`` (refused code, odd or unsigned answer) or ``HallUnreachable``.
    """
    private_key = Ed25519PrivateKey.generate()
    answer = request_enrolment(
        hall_url,
        {
            "code": code.strip(),
            "public_key": _b64(public_key_bytes(private_key)),
            "name": name,
            "versions": {"kiosk": _kiosk_version()},
        },
        timeout_s=timeout_s,
        pinned_sign_key=hall_sign_key,
    )
    try:
        identity = DeviceIdentity(
            device_id=str(answer["device_id"]),
            county=str(answer["county"]),
            hall_url=hall_url.rstrip("/"),
            private_key=private_key,
            hall_seal_public_key=_unb64(answer["hall_seal_public_key"], 32),
            hall_sign_public_key=_unb64(answer["hall_sign_public_key"], 32),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise EnrolmentFailed("the hall's enrolment answer is malformed", "bad_answer") from exc
    identity.save(data_dir)
    return identity
