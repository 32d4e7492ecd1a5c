"""Sealed boxes open with the hall's private key only, for the right context only."""

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from offline_queue.sealing import MAGIC, SealError, open_box, seal


def test_round_trip(hall_key, hall_public):
    box = seal(b"hello village", hall_public, context=b"app-1")
    assert box.startswith(MAGIC)
    assert b"hello village" not in box
    assert open_box(box, hall_key, context=b"app-1") == b"hello village"


def test_each_seal_is_fresh(hall_public):
    assert seal(b"same", hall_public) != seal(b"same", hall_public)


@pytest.mark.parametrize("position", [0, 10, 40, 100, -1])
def test_tampered_box_fails(hall_key, hall_public, position):
    box = bytearray(seal(b"payload bytes", hall_public, context=b"c"))
    box[position] ^= 0x01
    with pytest.raises(SealError):
        open_box(bytes(box), hall_key, context=b"c")


def test_wrong_context_fails(hall_key, hall_public):
    box = seal(b"payload", hall_public, context=b"app-1")
    with pytest.raises(SealError):
        open_box(box, hall_key, context=b"app-2")


def test_wrong_key_fails(hall_public):
    box = seal(b"payload", hall_public)
    with pytest.raises(SealError):
        open_box(box, X25519PrivateKey.generate())


def test_truncated_box_fails(hall_key, hall_public):
    with pytest.raises(SealError):
        open_box(seal(b"x", hall_public)[:50], hall_key)


def test_a_box_opens_with_the_x25519_step_done_elsewhere(hall_key, hall_public):
    """``open_box_with``: the ECDH is a callable (a staff card's key agreement); the rest is here."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

    from offline_queue.sealing import open_box_with

    asked = []

    def card(eph_pub):
        asked.append(eph_pub)
        return hall_key.exchange(X25519PublicKey.from_public_bytes(eph_pub))

    box = seal(b"reason", hall_public, context=b"app-1")
    assert open_box_with(box, hall_public, card, context=b"app-1") == b"reason"
    assert asked == [box[4:36]]  # the card sees only the box's ephemeral public key
    other = X25519PrivateKey.generate()  # another card: fails closed
    with pytest.raises(SealError):
        open_box_with(box, hall_public, lambda e: other.exchange(X25519PublicKey.from_public_bytes(e)),
                      context=b"app-1")
    with pytest.raises(SealError):
        open_box_with(box, hall_public, lambda e: b"short", context=b"app-1")

    class Gone(Exception):
        pass

    def pulled(_eph):
        raise Gone

    with pytest.raises(Gone):  # the card's own trouble is the caller's to tell, not a bad box
        open_box_with(box, hall_public, pulled, context=b"app-1")
