"""The hall's own keys: X25519 (kiosks seal to it) and Ed25519 (the hall signs with it).

Raw 32-byte private keys in ``<data-dir>/keys/seal.key`` and ``sign.key`` (mode 0600),
generated on first start.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hall.core.secrets_store import read_or_create

_RAW = (serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
_RAW_PUB = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class HallKeys:
    seal_private: X25519PrivateKey
    sign_private: Ed25519PrivateKey

    @property
    def seal_public(self) -> bytes:
        return self.seal_private.public_key().public_bytes(*_RAW_PUB)

    @property
    def sign_public(self) -> bytes:
        return self.sign_private.public_key().public_bytes(*_RAW_PUB)


def load_or_create_keys(keys_dir: Path) -> HallKeys:
    keys_dir.mkdir(parents=True, exist_ok=True)
    keys_dir.chmod(0o700)
    seal_raw = read_or_create(
        keys_dir / "seal.key", lambda: X25519PrivateKey.generate().private_bytes(*_RAW)
    )
    sign_raw = read_or_create(
        keys_dir / "sign.key", lambda: Ed25519PrivateKey.generate().private_bytes(*_RAW)
    )
    return HallKeys(
        seal_private=X25519PrivateKey.from_private_bytes(seal_raw),
        sign_private=Ed25519PrivateKey.from_private_bytes(sign_raw),
    )
