"""The staff card's key pair (GET DATA 04, KEY AGREE 80 86) over a transport straight to the
virtual card's APDU handler: the same bytes the PC/SC tests send through pcscd (test_pcsc.py)."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from hardware.errors import CardRemoved, SmartCardError
from hardware.pcsc_cards import StaffCardClient, VerifiedStaffCard
from hardware.pcsc_transport import ApduTransport
from hardware.vpcd_card import sample_staff_card, sample_staff_key


class CardWire:
    """A connection whose ``transmit`` is the virtual card's own APDU handler (no pcscd)."""

    def __init__(self, card):
        self.card = card
        self.pulled = False

    def transmit(self, apdu):
        if self.pulled:
            raise OSError("Card was removed.")  # as pcsc-lite says it
        answer = self.card.process(bytes(apdu))
        return list(answer[:-2]), answer[-2], answer[-1]


def raw(public):
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def client_for(card):
    wire = CardWire(card)
    client = StaffCardClient(ApduTransport(wire))
    client.select()
    return client, wire


def test_the_public_key_reads_without_a_pin_and_the_agreement_needs_one():
    card = sample_staff_card()
    client, _ = client_for(card)
    public = client.public_key()
    assert public == raw(sample_staff_key().public_key()) and len(public) == 32
    peer = X25519PrivateKey.generate()
    with pytest.raises(SmartCardError) as before:
        client.key_agreement(raw(peer.public_key()))
    assert before.value.sw == 0x6982 and card.agreements == 0
    client.verify_pin("123456")
    shared = client.key_agreement(raw(peer.public_key()))
    assert shared == peer.exchange(X25519PublicKey.from_public_bytes(public))  # X25519 both ways
    assert card.commands[-1][:5] == bytes.fromhex("8086000120") and card.commands[-1][-1] == 0x20
    client.select()  # a new card session: VERIFY again
    with pytest.raises(SmartCardError) as again:
        client.key_agreement(raw(peer.public_key()))
    assert again.value.sw == 0x6982


def test_the_card_refuses_a_bad_peer_key_and_the_client_a_wrong_length():
    client, _ = client_for(sample_staff_card())
    client.verify_pin("123456")
    with pytest.raises(SmartCardError) as low_order:
        client.key_agreement(bytes(32))  # the all-zero point: X25519 would give the all-zero secret
    assert low_order.value.sw == 0x6A80
    with pytest.raises(ValueError):
        client.key_agreement(bytes(31))


def test_an_older_card_has_no_key_and_still_reads():
    card = sample_staff_card(key=None)
    client, _ = client_for(card)
    assert client.public_key() is None
    client.verify_pin("123456")
    with pytest.raises(SmartCardError) as info:
        client.key_agreement(bytes(range(32)))
    assert info.value.sw == 0x6D00
    reading = StaffCardClient(ApduTransport(CardWire(card))).read("123456")
    assert (reading.worker_id, reading.role, reading.public_key) == ("GW-441423-0007", "grid_worker", None)


def test_the_reading_carries_the_key_and_its_repr_does_not():
    reading = StaffCardClient(ApduTransport(CardWire(sample_staff_card()))).read()
    assert reading.public_key == raw(sample_staff_key().public_key()) and reading.role is None
    assert reading.public_key.hex() not in repr(reading)


def test_a_verified_card_agrees_until_it_leaves_and_then_says_so_without_asking():
    card = sample_staff_card()
    client, wire = client_for(card)
    client.verify_pin("123456")
    closed = []
    verified = VerifiedStaffCard(client, client.public_key(), on_close=lambda: closed.append(True))
    peer = raw(X25519PrivateKey.generate().public_key())
    assert len(verified.agree(peer)) == 32 and verified.usable
    with pytest.raises(SmartCardError):
        verified.agree(bytes(32))  # one refused peer key does not end the session
    assert verified.usable
    wire.pulled = True
    with pytest.raises(CardRemoved):
        verified.agree(peer)
    asked = len(card.commands)
    wire.pulled = False  # back in the reader: a new card session wants the PIN, not this one
    with pytest.raises(CardRemoved):
        verified.agree(peer)
    assert len(card.commands) == asked and not verified.usable
    verified.close()
    verified.close()
    assert closed == [True] and "usable=False" in repr(verified)
