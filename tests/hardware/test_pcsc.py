"""PC/SC through the real pcscd and the vpcd virtual reader, with virtual cards in Python."""

import logging
import time
from datetime import date

import pytest

from hardware.errors import (
    CardReadError,
    CardRemoved,
    PinBlocked,
    SmartCardError,
    SmartCardUnavailable,
    UnsupportedCard,
    WrongPin,
)
from hardware.pcsc_cards import (
    SocialSecurityCard,
    SocialSecurityClient,
    StaffCardClient,
    StaffCardReading,
    read_smart_card,
)
from hardware.pcsc_monitor import PcscMonitor, reader_states
from hardware.pcsc_reader import PcscCardReader
from hardware.pcsc_transport import ApduTransport, with_le
from hardware.sample_cards import MIDDLE_AGED_VILLAGER
from hardware.vpcd_card import BlankCard, VpcdCard, sample_social_security_card, sample_staff_card
from tests.support.pcscd import VPCD_READER

pytestmark = pytest.mark.pcsc


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def reader(pcscd):
    with PcscCardReader(VPCD_READER, poll_interval=0.05) as r:
        yield r


@pytest.fixture
def insert(pcscd):
    """insert(card) puts a virtual card into the reader and waits until pcscd sees it."""
    slots = []

    def put(card):
        slot = VpcdCard(card)
        slot.insert()
        slots.append(slot)
        assert wait_for(lambda: reader_states()[VPCD_READER].card_present), "pcscd did not see the card"
        return slot

    yield put
    for slot in slots:
        slot.remove()
    wait_for(lambda: not reader_states()[VPCD_READER].card_present)


def connect(reader):
    connected = reader.connect(timeout=3)
    assert connected is not None
    return connected[1]


def test_staff_card_read_follows_61xx_and_6cxx(reader, insert):
    card = sample_staff_card()
    insert(card)
    with connect(reader) as transport:
        reading = StaffCardClient(transport).read()
        assert transport.stats["get_response"] >= 1  # SELECT answered 61 xx
        assert transport.stats["resent_with_le"] >= 2  # worker id and county asked with Le 00
    assert reading == StaffCardReading(worker_id="GW-441423-0007", county="441423", role=None,
                                       public_key=card.public_key)
    assert bytes.fromhex("00C00000") == card.commands[1][:4]


def test_staff_card_key_agreement_through_pcscd(reader, insert):
    """GET DATA 04 without the PIN; KEY AGREE 80 86 only after VERIFY in this card session."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

    from hardware.pcsc_cards import VerifiedStaffCard
    from offline_queue.sealing import raw_public

    card = sample_staff_card()
    insert(card)
    peer = X25519PrivateKey.generate()
    with connect(reader) as transport:
        client = StaffCardClient(transport)
        client.select()
        public = client.public_key()
        assert public == card.public_key
        with pytest.raises(SmartCardError) as before:
            client.key_agreement(raw_public(peer.public_key()))
        assert before.value.sw == 0x6982
        client.verify_pin("123456")
        verified = VerifiedStaffCard(client, public)
        shared = verified.agree(raw_public(peer.public_key()))
        assert shared == peer.exchange(X25519PublicKey.from_public_bytes(public))
        assert transport.stats["resent_with_le"] == 1  # the key asked with Le 00: 6C 20, then again
    assert card.agreements == 1


def test_an_older_staff_card_without_a_key_still_signs_in(reader, insert):
    insert(sample_staff_card(key=None))
    with PcscCardReader(VPCD_READER, pin="123456", require_removal=False) as pin_reader:
        reading = pin_reader.read_card(timeout=3)
    assert (reading.worker_id, reading.role, reading.public_key) == ("GW-441423-0007", "grid_worker", None)


def test_staff_card_pin_retry_counter(reader, insert):
    card = sample_staff_card()
    insert(card)
    with connect(reader) as transport:
        client = StaffCardClient(transport)
        client.select()
        assert client.pin_tries_left() == 3
        with pytest.raises(SmartCardError) as info:
            client.role()  # before VERIFY
        assert info.value.sw == 0x6982
        with pytest.raises(WrongPin) as info:
            client.verify_pin("000000")
        assert info.value.retries_left == 2 and info.value.message_key == "hardware.pin_wrong"
        assert "000000" not in str(info.value)
        client.verify_pin("123456")
        assert client.pin_tries_left() is None  # verified
        assert client.role() == "grid_worker"
    assert card.tries_left == 3


def test_staff_card_pin_blocks_after_three_wrong_tries(reader, insert):
    card = sample_staff_card()
    insert(card)
    with connect(reader) as transport:
        client = StaffCardClient(transport)
        client.select()
        for left in (2, 1):
            with pytest.raises(WrongPin) as info:
                client.verify_pin("999999")
            assert info.value.retries_left == left
        with pytest.raises(PinBlocked):
            client.verify_pin("999999")
        with pytest.raises(PinBlocked) as info:
            client.verify_pin("123456")  # the right PIN is too late now
        assert info.value.message_key == "hardware.pin_blocked"
        assert client.pin_tries_left() == 0


def test_social_security_card(reader, insert):
    insert(sample_social_security_card())
    reading = reader.read_card(timeout=3)
    assert isinstance(reading, SocialSecurityCard)
    assert reading.id_number == MIDDLE_AGED_VILLAGER.id_number and reading.name == MIDDLE_AGED_VILLAGER.name
    assert reading.sex == "male" and reading.ethnicity == "瑶"
    assert reading.birth_date == MIDDLE_AGED_VILLAGER.birth_date
    assert reading.region_code == "441826" and reading.card_number == "D10000037"
    assert reading.issued == date(2019, 9, 1) and reading.expires == date(2029, 9, 1)
    assert not reading.is_expired(date(2026, 1, 1)) and reading.is_expired(date(2030, 1, 1))
    for secret in (reading.name, reading.id_number, reading.card_number):
        assert secret not in repr(reading)


def test_social_security_card_that_wants_its_pin(reader, insert):
    insert(sample_social_security_card(pin="123456", issued=None, expires=None))
    with connect(reader) as transport:
        with pytest.raises(SmartCardError) as info:
            SocialSecurityClient(transport).read()
        assert info.value.sw == 0x6982
        reading = SocialSecurityClient(transport).read(pin="123456")
    assert reading.expires is None and reading.name == MIDDLE_AGED_VILLAGER.name


def test_another_card_cannot_be_read_here(reader, insert):
    insert(BlankCard())
    with pytest.raises(UnsupportedCard) as info:
        reader.read_card(timeout=3)
    assert info.value.message_key == "hardware.card_unsupported"


def test_no_card_returns_none_and_a_read_card_must_leave_first(reader, insert):
    assert reader.read_card(timeout=0.3) is None
    slot = insert(sample_staff_card())
    assert isinstance(reader.read_card(timeout=3), StaffCardReading)
    assert reader.read_card(timeout=0.3) is None  # still lying there: not read twice
    slot.remove()
    assert wait_for(lambda: not reader_states()[VPCD_READER].card_present)
    insert(sample_social_security_card())
    assert isinstance(reader.read_card(timeout=3), SocialSecurityCard)


def test_card_pulled_during_a_session(reader, insert):
    slot = insert(sample_staff_card())
    transport = connect(reader)
    StaffCardClient(transport).select()
    slot.remove()
    assert wait_for(lambda: not reader_states()[VPCD_READER].card_present)
    with pytest.raises(CardRemoved) as info:
        StaffCardClient(transport).worker_id()
    assert isinstance(info.value, CardReadError)
    transport.close()


def test_a_missing_named_reader(pcscd):
    with PcscCardReader("No Such Reader") as missing:
        with pytest.raises(SmartCardUnavailable) as info:
            missing.read_card(timeout=0.2)
    assert info.value.message_key == "hardware.pcsc_unavailable"


def test_monitor_reports_insert_and_remove(pcscd):
    events = []
    with PcscMonitor(events.append, interval=0.05, reader_filter=lambda n: n == VPCD_READER) as monitor:
        assert wait_for(lambda: [e.kind for e in events] == ["reader_added"])
        assert monitor.service_up
        with VpcdCard(sample_staff_card()):
            assert wait_for(lambda: events[-1].kind == "card_inserted")
            assert events[-1].reader == VPCD_READER and events[-1].atr.startswith("3B6A")
        assert wait_for(lambda: events[-1].kind == "card_removed")
    assert [e.kind for e in events] == ["reader_added", "card_inserted", "card_removed"]


def test_monitor_survives_a_poll_that_raises(pcscd):
    """A poll that raises (here a buggy reader filter) is logged; the thread is alive afterwards."""
    events, calls = [], {"n": 0}

    def buggy_filter(name):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise KeyError("filter bug")
        return name == VPCD_READER

    with PcscMonitor(events.append, interval=0.05, reader_filter=buggy_filter) as monitor:
        assert wait_for(lambda: [e.kind for e in events] == ["reader_added"])
        assert monitor.running, "the monitor thread died after a failing poll"
        assert monitor.loop.stats.crashes == 2
    assert not monitor.running


def test_transport_over_a_fake_connection_stops_endless_chains():
    class Chatty:
        def transmit(self, apdu):
            return [1], 0x61, 0x01

    with pytest.raises(SmartCardError):
        ApduTransport(Chatty(), max_rounds=5).transmit(bytes(5))


def test_read_smart_card_logs_no_personal_data(reader, insert, caplog):
    caplog.set_level(logging.DEBUG)
    insert(sample_social_security_card())
    with connect(reader) as transport:
        reading = read_smart_card(transport)
    assert caplog.records is not None
    for secret in (reading.name, reading.id_number):
        assert secret not in caplog.text


def test_reader_gone_when_pcscd_stops_and_back_when_it_returns(pcscd):
    if not pcscd.own:
        pytest.skip("pcscd was already running; this test stops only a pcscd it started")
    events = []
    with PcscMonitor(events.append, interval=0.05, reader_filter=lambda n: n == VPCD_READER) as monitor:
        with VpcdCard(sample_staff_card()):
            assert wait_for(lambda: events and events[-1].kind == "card_inserted")
            pcscd.stop()
            assert wait_for(lambda: events[-1].kind == "reader_removed")
            assert not monitor.service_up
            assert [e.kind for e in events][-2:] == ["card_removed", "reader_removed"]
            with pytest.raises(SmartCardUnavailable):
                reader_states()
        pcscd.start()
        assert wait_for(lambda: events[-1].kind == "reader_added", timeout=10)
        assert monitor.service_up
    with PcscCardReader(VPCD_READER) as reader, VpcdCard(sample_staff_card()):
        assert isinstance(reader.read_card(timeout=5), StaffCardReading)


@pytest.mark.parametrize(
    ("apdu", "expected"),
    [
        ("00C00000", "00C000001E"),  # case 1: Le added
        ("80CA000100", "80CA00010E"),  # case 2: Le replaced
        ("00A4000002EF05", "00A4000002EF051E"),  # case 3: Le added after the data
        ("00A4000002EF0500", "00A4000002EF051E"),  # case 4: Le replaced
    ],
)
def test_with_le(apdu, expected):
    le = int(expected[-2:], 16)
    assert with_le(bytes.fromhex(apdu), le).hex().upper() == expected
    with pytest.raises(ValueError):
        with_le(bytes.fromhex("00A4000005EF"), 1)


def test_the_kiosk_s_desk_keeps_the_verified_card_for_key_agreements_until_it_leaves(reader, insert):
    """``kiosk.staff.SmartCardDesk.check_pin`` through pcscd: the card with a key pair stays
    verified for the login; taken out, it is not asked again; put back, it wants the PIN."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from kiosk.staff import SmartCardDesk
    from offline_queue.sealing import raw_public

    card = sample_staff_card()
    slot = insert(card)
    desk = SmartCardDesk(reader)
    peer = raw_public(X25519PrivateKey.generate().public_key())
    try:
        reading = desk.check_pin("123456")
        assert (reading.worker_id, reading.role, reading.public_key) == ("GW-441423-0007", "grid_worker",
                                                                         card.public_key)
        verified = desk.take_verified()
        assert verified is not None and desk.take_verified() is None  # handed over once
        assert len(verified.agree(peer)) == 32 and card.agreements == 1
        slot.remove()
        assert wait_for(lambda: not reader_states()[VPCD_READER].card_present)
        with pytest.raises(CardReadError):
            verified.agree(peer)
        assert not verified.usable
        verified.close()
        slot.insert()
        assert wait_for(lambda: reader_states()[VPCD_READER].card_present)
        with pytest.raises(WrongPin):
            desk.check_pin("000000")
        assert desk.take_verified() is None
    finally:
        desk.close()
