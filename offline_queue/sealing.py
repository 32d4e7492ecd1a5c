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

The kiosk seals to the hall (``open_box`` is the hall's, and tests'). It also seals the
hall's reasons to keys it does not hold either: an applicant's lookup key (opened with
the villager's card, ``offline_queue.applicant_lookup``) and a grid worker's staff card,
whose private key never leaves the card. ``open_box_with`` takes the X25519 step as a
callable — the card's key agreement (``hardware.pcsc_cards.StaffCardClient``) — and does
the rest (HKDF, both AES-GCM) here, the one copy of it. A stolen kiosk holds no key that
opens what it queued.
"""

from __future__ import annotations

import os
from collections.abc import Callable

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


def raw_public(public_key: X25519PublicKey) -> bytes:
    """The 32 raw bytes of an X25519 public key (what a box names and a card answers)."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _kek(shared: bytes, eph_pub: bytes, hall_pub: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=eph_pub + hall_pub, info=_KEY_INFO).derive(
        shared
    )


def seal(payload: bytes, hall_public_key: bytes, context: bytes = b"") -> bytes:
    """Encrypt ``payload`` to the hall's raw 32-byte X25519 public key."""
    hall_pub = X25519PublicKey.from_public_bytes(hall_public_key)
    ephemeral = X25519PrivateKey.generate()
    eph_pub = raw_public(ephemeral.public_key())
    kek = _kek(ephemeral.exchange(hall_pub), eph_pub, hall_public_key)
    aad = MAGIC + eph_pub + context
    content_key = AESGCM.generate_key(bit_length=256)
    wrap_nonce, content_nonce = os.urandom(12), os.urandom(12)
    wrapped = AESGCM(kek).encrypt(wrap_nonce, content_key, aad)
    body = AESGCM(content_key).encrypt(content_nonce, payload, aad)
    return MAGIC + eph_pub + wrap_nonce + wrapped + content_nonce + body


def open_box(box: bytes, hall_private_key: X25519PrivateKey, context: bytes = b"") -> bytes:
    """Decrypt a sealed box with the hall's private key; raises ``SealError``."""

    def exchange(eph_pub: bytes) -> bytes:
        try:
            return hall_private_key.exchange(X25519PublicKey.from_public_bytes(eph_pub))
        except ValueError as exc:  # a low-order ephemeral key: nothing to open
            raise SealError("sealed box does not open with this key") from exc

    return open_box_with(box, raw_public(hall_private_key.public_key()), exchange, context)


def open_box_with(box: bytes, recipient_public: bytes, exchange: Callable[[bytes], bytes],
                  context: bytes = b"") -> bytes:
    """Decrypt a box sealed to ``recipient_public`` whose X25519 step is done elsewhere.

    ``exchange(ephemeral_public)`` returns the 32-byte shared secret of the recipient's
    private key and the box's ephemeral key — e.g. a staff card's key agreement. Its own
    errors (a card taken out) pass through; a box that does not open with what it
    answered (another card, a damaged box) raises ``SealError``. The secret and the key
    derived from it live only in this call."""
    if len(box) < _HEADER_LEN + 16 or not box.startswith(MAGIC):
        raise SealError("not a sealed box")
    eph_pub = box[4:36]
    wrap_nonce, wrapped = box[36:48], box[48:96]
    content_nonce, body = box[96:108], box[108:]
    shared = exchange(eph_pub)
    if len(shared) != 32:
        raise SealError("the key agreement did not give 32 bytes")
    try:
        aad = MAGIC + eph_pub + context
        content_key = AESGCM(_kek(shared, eph_pub, recipient_public)).decrypt(wrap_nonce, wrapped, aad)
        return AESGCM(content_key).decrypt(content_nonce, body, aad)
    except (InvalidTag, ValueError) as exc:
        raise SealError("sealed box does not open with this key") from exc
