"""The real driver (pyserial on a pty) against the simulator speaking the real protocol."""

import logging
import os
import threading
import time

import pytest

from hardware import sam_protocol as proto
from hardware.errors import (
    CardReadError,
    CardRemoved,
    CardStatusError,
    ReaderFault,
    ReaderNotFound,
    ReaderTimeout,
    UnsupportedCard,
)
from hardware.interfaces import IdCardReader
from hardware.sam_reader import SamSerialReader
from hardware.sam_simulator import SamSimulator
from hardware.sample_cards import ELDERLY_VILLAGER, EXPIRED_CARD, MIDDLE_AGED_VILLAGER


def test_reads_the_card_with_its_raw_photo(sim, reader):
    assert isinstance(reader, IdCardReader)
    card = reader.read_card(timeout=1)
    assert card == ELDERLY_VILLAGER
    assert card.photo == ELDERLY_VILLAGER.photo and len(card.photo) == 1024
    assert sim.received == [proto.FIND_CARD, proto.SELECT_CARD, proto.READ_TEXT_PHOTO]
    assert reader.stats["retries"] == 0


def test_no_card_returns_none_after_the_timeout(sim, reader):
    sim.remove_card()
    started = time.monotonic()
    assert reader.read_card(timeout=0.3) is None
    assert 0.25 <= time.monotonic() - started < 1.0
    assert set(sim.received) == {proto.FIND_CARD}


def test_a_card_placed_while_waiting_is_read(sim, reader):
    sim.remove_card()
    threading.Timer(0.2, sim.present_card, args=(MIDDLE_AGED_VILLAGER,)).start()
    assert reader.read_card(timeout=2) == MIDDLE_AGED_VILLAGER


def test_the_card_must_leave_the_field_between_reads(sim, reader):
    assert reader.read_card(timeout=1) == ELDERLY_VILLAGER
    assert reader.read_card(timeout=0.2) is None  # still lying there: not found again
    sim.remove_card()
    assert reader.read_card(timeout=0.1) is None
    sim.present_card(EXPIRED_CARD)
    assert reader.read_card(timeout=1) == EXPIRED_CARD


def test_auto_replace_brings_the_card_back():
    with SamSimulator(card=ELDERLY_VILLAGER, auto_replace=True, replace_delay=0.3) as sim:
        with SamSerialReader(sim.port, timeout=0.3, poll_interval=0.05) as reader:
            assert reader.read_card(timeout=1) == ELDERLY_VILLAGER
            assert reader.read_card(timeout=0.1) is None
            started = time.monotonic()
            assert reader.read_card(timeout=2) == ELDERLY_VILLAGER
            assert time.monotonic() - started < 1.0
            assert sim.reads == 2


@pytest.mark.parametrize("command", [proto.FIND_CARD, proto.SELECT_CARD, proto.READ_TEXT_PHOTO])
def test_a_corrupted_answer_is_retried(sim, reader, command):
    sim.corrupt_next(command)
    assert reader.read_card(timeout=1) == ELDERLY_VILLAGER
    assert reader.stats["retries"] == 1
    assert sim.received.count(command) == 2


def test_corrupt_flag_of_the_constructor():
    with SamSimulator(card=ELDERLY_VILLAGER, corrupt=True) as sim:
        with SamSerialReader(sim.port, timeout=0.3) as reader:
            assert reader.read_card(timeout=1) == ELDERLY_VILLAGER
            assert reader.stats["retries"] == 1


def test_a_truncated_answer_times_out_and_is_retried(sim, reader):
    sim.inject("truncate", proto.READ_TEXT_PHOTO)
    assert reader.read_card(timeout=1) == ELDERLY_VILLAGER
    assert reader.stats["retries"] == 1


def test_every_answer_corrupted_gives_up_with_frame_error(sim, reader):
    sim.corrupt_next(count=100)
    with pytest.raises(CardReadError, match="checksum") as info:
        reader.read_card(timeout=1)
    assert info.value.message_key == "hardware.card_read_failed"
    assert len(sim.received) == reader.retries + 1


def test_a_silent_reader_raises_reader_timeout(sim):
    sim.inject("mute", count=100)
    with SamSerialReader(sim.port, timeout=0.1, retries=2) as reader:
        with pytest.raises(ReaderTimeout) as info:
            reader.read_card(timeout=1)
    assert isinstance(info.value, TimeoutError)
    assert info.value.message_key == "hardware.reader_timeout"
    assert len(sim.received) == 3


def test_noise_before_answers(sim, reader):
    sim.noise = True
    for _ in range(3):
        assert reader.read_card(timeout=1) == ELDERLY_VILLAGER
        sim.present_card(ELDERLY_VILLAGER)
    assert reader.stats["retries"] == 0


def test_answers_split_in_small_pieces(sim):
    sim.split = True
    sim.noise = True
    with SamSerialReader(sim.port, timeout=2.0) as reader:
        assert reader.read_card(timeout=1) == ELDERLY_VILLAGER
        assert reader.stats["retries"] == 0


@pytest.mark.parametrize(
    ("command", "status", "error", "key"),
    [
        (proto.SELECT_CARD, proto.Status.SELECT_FAILED, CardStatusError, "hardware.card_read_failed"),
        (proto.READ_TEXT_PHOTO, proto.Status.READ_FAILED, CardStatusError, "hardware.card_read_failed"),
        (
            proto.READ_TEXT_PHOTO,
            proto.Status.READER_REJECTED_CARD,
            CardStatusError,
            "hardware.card_read_failed",
        ),
        (proto.FIND_CARD, proto.Status.UNKNOWN_CARD_TYPE, UnsupportedCard, "hardware.card_unsupported"),
        (proto.FIND_CARD, proto.Status.SELF_TEST_FAILED, ReaderFault, "hardware.reader_fault"),
        (proto.FIND_CARD, proto.Status.NO_PRODUCTION_KEYS, ReaderFault, "hardware.reader_fault"),
    ],
)
def test_failure_statuses_become_typed_errors(sim, reader, command, status, error, key):
    sim.inject_status(command, status)
    with pytest.raises(error) as info:
        reader.read_card(timeout=1)
    assert info.value.status == status
    assert info.value.message_key == key
    assert isinstance(info.value, CardReadError)


@pytest.mark.parametrize("status", [proto.Status.SAM_CHECKSUM_ERROR, proto.Status.SAM_RECEIVE_ERROR])
def test_the_sam_seeing_a_garbled_command_is_retried(sim, reader, status):
    sim.inject_status(proto.SELECT_CARD, status)
    assert reader.read_card(timeout=1) == ELDERLY_VILLAGER
    assert reader.stats["retries"] == 1


def test_no_card_yet_status_means_none(sim, reader):
    sim.inject_status(proto.FIND_CARD, proto.Status.NO_CARD_YET, count=100)
    assert reader.read_card(timeout=0.2) is None


def test_sam_status(sim, reader):
    assert reader.sam_status() == proto.Status.OK


def test_a_missing_port_raises_reader_not_found(tmp_path):
    with SamSerialReader(str(tmp_path / "ttyUSB9")) as reader:
        with pytest.raises(ReaderNotFound) as info:
            reader.read_card(timeout=0.1)
    assert info.value.message_key == "hardware.reader_missing"


def test_an_unplugged_reader_reconnects(tmp_path):
    link = tmp_path / "ttyUSB0"  # like a udev by-id symlink that follows the device
    first = SamSimulator(card=ELDERLY_VILLAGER)
    os.symlink(first.port, link)
    with SamSerialReader(str(link), timeout=0.3, poll_interval=0.05) as reader:
        assert reader.read_card(timeout=1) == ELDERLY_VILLAGER
        first.close()  # unplugged
        link.unlink()
        with pytest.raises(ReaderNotFound):
            reader.read_card(timeout=0.2)
        with pytest.raises(ReaderNotFound):  # still gone: the port cannot be opened
            reader.read_card(timeout=0.2)
        with SamSimulator(card=MIDDLE_AGED_VILLAGER) as second:  # plugged in again
            os.symlink(second.port, link)
            assert reader.read_card(timeout=1) == MIDDLE_AGED_VILLAGER
        assert reader.stats["opens"] == 2


def test_a_closed_reader_refuses(sim):
    reader = SamSerialReader(sim.port)
    reader.close()
    with pytest.raises(ReaderNotFound):
        reader.read_card(timeout=0.1)


def test_no_personal_data_in_logs(sim, reader, caplog):
    caplog.set_level(logging.DEBUG)
    sim.corrupt_next(proto.READ_TEXT_PHOTO)
    card = reader.read_card(timeout=1)
    sim.inject_status(proto.FIND_CARD, proto.Status.SELF_TEST_FAILED)
    with pytest.raises(ReaderFault) as info:
        reader.read_card(timeout=1)
    text = caplog.text + str(info.value) + repr(card)
    assert caplog.records
    for secret in (card.name, card.id_number, card.id_number[6:14], card.address, card.issuer, "19510315"):
        assert secret not in text


def test_a_card_pulled_mid_read_says_place_it_again(sim, reader):
    sim.pull_card()
    with pytest.raises(CardRemoved) as info:
        reader.read_card(timeout=1)
    assert info.value.message_key == "hardware.card_removed"
    assert isinstance(info.value, CardReadError)
    assert sim.received[-1] == proto.FIND_CARD  # the driver looked whether the card was still there
    assert reader.read_card(timeout=0.1) is None
    sim.present_card(MIDDLE_AGED_VILLAGER)
    assert reader.read_card(timeout=1) == MIDDLE_AGED_VILLAGER


def test_a_card_pulled_during_select(sim, reader):
    sim.pull_card(proto.SELECT_CARD)
    with pytest.raises(CardRemoved):
        reader.read_card(timeout=1)


def test_a_no_card_answer_to_the_read_is_a_removed_card(sim, reader):
    sim.inject_status(proto.READ_TEXT_PHOTO, proto.Status.NO_CARD)
    with pytest.raises(CardRemoved) as info:
        reader.read_card(timeout=1)
    assert info.value.status == proto.Status.NO_CARD


def test_read_with_fingerprint():
    print_data = bytes(range(256)) * 4
    with SamSimulator(card=ELDERLY_VILLAGER, fingerprint=print_data) as sim:
        with SamSerialReader(sim.port, timeout=0.3, fingerprint=True) as reader:
            card = reader.read_card(timeout=1)
    assert card == ELDERLY_VILLAGER and card.fingerprint == print_data
    assert card.photo == ELDERLY_VILLAGER.photo
    assert sim.received[-1] == proto.READ_TEXT_PHOTO_FINGERPRINT
    assert str(print_data[:8].hex()) not in repr(card)


def test_read_with_fingerprint_of_a_card_without_one(sim):
    with SamSerialReader(sim.port, timeout=0.3, fingerprint=True) as reader:
        assert reader.read_card(timeout=1).fingerprint == b""


def test_sam_id(sim, reader):
    from hardware.sam_simulator import SAM_ID

    assert reader.sam_id() == SAM_ID.hex().upper()
    sim.inject_status(proto.READ_SAM_ID, proto.Status.NO_PRODUCTION_KEYS)
    with pytest.raises(ReaderFault):
        reader.sam_id()


def test_a_paced_simulator_takes_the_wire_time():
    with SamSimulator(card=ELDERLY_VILLAGER, baud=115200) as sim:
        with SamSerialReader(sim.port, baud=115200, timeout=1.0) as reader:
            started = time.perf_counter()
            assert reader.read_card(timeout=2) == ELDERLY_VILLAGER
            elapsed = time.perf_counter() - started
        wire = (sim.bytes_in + sim.bytes_out) * 10 / 115200
    assert sim.bytes_out > 1295 and sim.bytes_in >= 30 and reader.stats["reads"] == 1
    assert wire <= elapsed < wire * 3 + 0.2


def test_card_present_tells_a_card_left_on_the_reader_after_its_read(sim, reader):
    sim.remove_card()
    assert reader.card_present() is False
    sim.present_card(ELDERLY_VILLAGER)
    assert reader.card_present() is True  # a new card is found
    assert reader.read_card(timeout=2) is not None
    assert reader.card_present() is True  # read already, still lying there
    assert reader.card_present() is True
    sim.remove_card()
    assert reader.card_present() is False
