"""The simulator on its own, spoken to in raw frames through pyserial."""

import os

import pytest
import serial

from hardware import sam_protocol as proto
from hardware.sam_simulator import SamSimulator
from hardware.sam_text import decode_text_block
from hardware.sample_cards import ELDERLY_VILLAGER


def _ask(port: serial.Serial, frame: bytes) -> proto.ReaderFrame:
    port.reset_input_buffer()
    port.write(frame)
    parser = proto.FrameParser()
    for _ in range(100):
        for answer in parser.feed(port.read(max(1, port.in_waiting))):
            return answer
    raise AssertionError("no answer")


@pytest.fixture
def port(sim):
    with serial.Serial(sim.port, 115200, timeout=0.02) as opened:
        yield opened


def test_sam_commands(port):
    assert _ask(port, proto.build_command(proto.SAM_STATUS)).status == proto.Status.OK
    assert _ask(port, proto.build_command(proto.RESET_SAM)).status == proto.Status.OK
    answer = _ask(port, proto.build_command(proto.READ_SAM_ID))
    assert answer.status == proto.Status.OK and len(answer.data) == 16


def test_unknown_command_and_garbled_frame(port):
    assert _ask(port, proto.build_host_frame(0x77, 0x01)).status == proto.Status.BAD_COMMAND
    garbled = bytearray(proto.build_command(proto.FIND_CARD))
    garbled[-1] ^= 0xFF
    assert _ask(port, bytes(garbled)).status == proto.Status.SAM_CHECKSUM_ERROR


def test_find_select_read_by_hand(port):
    find = _ask(port, proto.build_command(proto.FIND_CARD))
    assert (find.status, find.data) == (proto.Status.CARD_FOUND, bytes(4))
    assert _ask(port, proto.build_command(proto.SELECT_CARD)).status == proto.Status.OK
    answer = _ask(port, proto.build_command(proto.READ_TEXT_PHOTO))
    assert answer.status == proto.Status.OK and len(answer.data) + 11 == 1295
    text, photo = proto.parse_read_answer(answer.data)
    assert decode_text_block(text, photo) == ELDERLY_VILLAGER
    assert _ask(port, proto.build_command(proto.FIND_CARD)).status == proto.Status.NO_CARD


def test_read_without_select_fails_and_fingerprint_read(port):
    assert _ask(port, proto.build_command(proto.READ_TEXT_PHOTO)).status == proto.Status.READ_FAILED
    _ask(port, proto.build_command(proto.FIND_CARD))
    _ask(port, proto.build_command(proto.SELECT_CARD))
    answer = _ask(port, proto.build_command(proto.READ_TEXT_PHOTO_FINGERPRINT))
    text, photo, fingerprint = proto.parse_read_answer(answer.data, blocks=3)
    assert (len(text), len(photo), fingerprint) == (256, 1024, b"")


def test_fault_names_are_checked(sim):
    with pytest.raises(ValueError):
        sim.inject("explode")


def test_close_is_idempotent_and_removes_the_port():
    sim = SamSimulator()
    path = sim.port
    assert os.path.exists(path)
    sim.close()
    sim.close()
    assert not os.path.exists(path)
