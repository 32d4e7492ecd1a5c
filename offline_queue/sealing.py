"""Sealing: encrypt a payload so that only the county hall can open it.

A sealed box is self-contained bytes:

    magic "KSB1" (4) | ephemeral X25519 public key (32) | wrap nonce (12)
    | wrapped content key (32 + 16 tag) | content nonce (12) | ciphertext + tag

* A fresh random AES-256-GCM *content key* encrypts the payload.
* The content key is wrapped with a key-encryption key derived by HKDF-SHA256 from
  X25519(ephemeral private, hall public); salt = ephemeral public || hall public.
* Both AES-GCM operations authenticate the header (magic, ephemeral key, and the
  caller's ``context``, e.g. the application id) as associated data, so a box cannot
  be moved to another application without detection.

The kiosk only ever seals; ``open_box`` is used by the hall (and tests). A stolen
kiosk holds no key that opens what it queued.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"KSB1"
_KEY_INFO = b"village-kiosk seal v1"
_HEADER_LEN = 4 + 32 + 12 + 48 + 12


class SealError(Exception):
    """A sealed box is malformed or does not open with this key."""


def _raw(public_key: X25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _kek(shared: bytes, eph_pub: bytes, hall_pub: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=eph_pub + hall_pub, info=_KEY_INFO).derive(
        shared
    )


def seal(payload: bytes, hall_public_key: bytes, context: bytes = b"") -> bytes:
    """Encrypt ``payload`` to the hall's raw 32-byte X25519 public key."""
    hall_pub = X25519PublicKey.from_public_bytes(hall_public_key)
    ephemeral = X25519PrivateKey.generate()
    eph_pub = _raw(ephemeral.public_key())
    kek = _kek(ephemeral.exchange(hall_pub), eph_pub, hall_public_key)
    aad = MAGIC + eph_pub + context
    content_key = AESGCM.generate_key(bit_length=256)
    wrap_nonce, content_nonce = os.urandom(12), os.urandom(12)
    wrapped = AESGCM(kek).encrypt(wrap_nonce, content_key, aad)
    body = AESGCM(content_key).encrypt(content_nonce, payload, aad)
    return MAGIC + eph_pub + wrap_nonce + wrapped + content_nonce + body


def open_box(box: bytes, hall_private_key: X25519PrivateKey, context: bytes = b"") -> bytes:
    """Decrypt a sealed box with the hall's private key; raises ``SealError``."""
    if len(box) < _HEADER_LEN + 16 or not box.startswith(MAGIC):
        raise SealError("not a sealed box")
    eph_pub = box[4:36]
    wrap_nonce, wrapped = box[36:48], box[48:96]
    content_nonce, body = box[96:108], box[108:]
    hall_pub = _raw(hall_private_key.public_key())
    try:
        shared = hall_private_key.exchange(X25519PublicKey.from_public_bytes(eph_pub))
        aad = MAGIC + eph_pub + context
        content_key = AESGCM(_kek(shared, eph_pub, hall_pub)).decrypt(wrap_nonce, wrapped, aad)
        return AESGCM(content_key).decrypt(content_nonce, body, aad)
    except (InvalidTag, ValueError) as exc:
        raise SealError("sealed box does not open with this key") from exc
