"""Frames of the SAM reader protocol: building, and parsing a messy byte stream."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware import sam_protocol as proto
from hardware.errors import FrameError

# The command bytes after the preamble, as listed in HARDWARE.md.
TABLE = {
    proto.SAM_STATUS: "00 03 11 FF ED",
    proto.RESET_SAM: "00 03 10 FF EC",
    proto.READ_SAM_ID: "00 03 12 FF EE",
    proto.FIND_CARD: "00 03 20 01 22",
    proto.SELECT_CARD: "00 03 20 02 21",
    proto.READ_TEXT_PHOTO: "00 03 30 01 32",
    proto.READ_TEXT_PHOTO_FINGERPRINT: "00 03 30 10 23",
}


@pytest.mark.parametrize("command", list(TABLE))
def test_host_frames_match_the_documented_bytes(command):
    frame = proto.build_command(command)
    assert frame[:5] == bytes.fromhex("AA AA AA 96 69")
    assert frame[5:] == bytes.fromhex(TABLE[command])


def test_reader_frame_length_counts_everything_after_itself():
    data = proto.build_read_answer(bytes(256), bytes(1024))
    frame = proto.build_reader_frame(proto.Status.OK, data)
    assert len(frame) == 1295  # the documented size of a 30 01 answer
    assert int.from_bytes(frame[5:7], "big") == len(frame) - 7
    assert frame[7:10] == b"\x00\x00\x90"


def test_parser_round_trip_and_several_frames_in_one_chunk():
    a = proto.build_reader_frame(proto.Status.CARD_FOUND, bytes(4))
    b = proto.build_reader_frame(proto.Status.OK, b"\x01\x02\x03")
    frames = list(proto.FrameParser().feed(a + b))
    assert [(f.sw1, f.sw2, f.status, f.data) for f in frames] == [
        (0, 0, 0x9F, bytes(4)),
        (0, 0, 0x90, b"\x01\x02\x03"),
    ]


def test_parser_assembles_a_frame_fed_byte_by_byte():
    frame = proto.build_reader_frame(proto.Status.OK, bytes(range(200)))
    parser = proto.FrameParser()
    got = []
    for i in range(len(frame)):
        got += parser.feed(frame[i : i + 1])
        if i < len(frame) - 1:
            assert not got
    assert len(got) == 1 and got[0].data == bytes(range(200))
    assert parser.pending == 0


@pytest.mark.parametrize(
    "noise",
    [b"\x00\xff\x13", b"\xaa", b"\xaa\xaa\xaa\x96", b"\xaa\xaa\xaa\x96\xaa\xaa", b"\x96\x69" * 10],
)
def test_parser_skips_noise_before_the_preamble(noise):
    frame = proto.build_reader_frame(proto.Status.NO_CARD)
    parser = proto.FrameParser()
    got = list(parser.feed(noise)) + list(parser.feed(frame))
    assert [f.status for f in got] == [proto.Status.NO_CARD]
    assert parser.discarded == len(noise)


def test_bad_checksum_raises_then_the_parser_resynchronises():
    bad = bytearray(proto.build_reader_frame(proto.Status.OK, b"abc"))
    bad[-1] ^= 0xFF
    good = proto.build_reader_frame(proto.Status.CARD_FOUND)
    parser = proto.FrameParser()
    with pytest.raises(FrameError, match="checksum"):
        list(parser.feed(bytes(bad) + good))
    assert [f.status for f in parser.feed(b"")] == [proto.Status.CARD_FOUND]


@pytest.mark.parametrize("length", [0, 1, 3, proto.MAX_LENGTH + 1, 0xFFFF])
def test_impossible_length_raises_then_resynchronises(length):
    bogus = proto.PREAMBLE + length.to_bytes(2, "big") + b"\x00\x00\x90"
    good = proto.build_reader_frame(proto.Status.OK)
    parser = proto.FrameParser()
    with pytest.raises(FrameError, match="length"):
        list(parser.feed(bogus + good))
    assert [f.status for f in parser.feed(b"")] == [proto.Status.OK]


def test_frames_yielded_before_an_error_are_not_lost():
    bad = bytearray(proto.build_reader_frame(proto.Status.OK))
    bad[-1] ^= 1
    first = proto.build_reader_frame(proto.Status.NO_CARD)
    parser = proto.FrameParser()
    got = []
    with pytest.raises(FrameError):
        for frame in parser.feed(first + bytes(bad)):
            got.append(frame.status)
    assert got == [proto.Status.NO_CARD]


def test_host_frame_parser_reads_commands():
    stream = b"\x01\x02" + proto.build_command(proto.FIND_CARD) + proto.build_host_frame(0x30, 0x01, b"xy")
    frames = list(proto.HostFrameParser().feed(stream))
    assert [(f.command, f.data) for f in frames] == [(proto.FIND_CARD, b""), (proto.READ_TEXT_PHOTO, b"xy")]


def test_reader_frame_repr_hides_the_data():
    frame = proto.ReaderFrame(0, 0, 0x90, "陈桂英".encode("utf-16-le"))
    assert "陈" not in repr(frame) and "90" in repr(frame) and "6 bytes" in repr(frame)


def test_status_names():
    assert proto.status_name(0x80) == "no_card"
    assert proto.status_name(0x9F) == "card_found"
    assert proto.status_name(0x55) == "unknown"


def test_read_answer_split_and_its_errors():
    data = proto.build_read_answer(b"t" * 256, b"p" * 1024)
    assert proto.parse_read_answer(data) == [b"t" * 256, b"p" * 1024]
    with pytest.raises(FrameError):
        proto.parse_read_answer(data[:-1])
    with pytest.raises(FrameError):
        proto.parse_read_answer(b"\x01")


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=12))
def test_parser_raises_nothing_but_frame_error_on_random_bytes(chunks):
    parser = proto.FrameParser()
    for chunk in chunks:
        frames = parser.feed(chunk)
        for _ in range(len(chunk) + 2):  # each error consumes a byte: this always ends
            try:
                for frame in frames:
                    assert isinstance(frame, proto.ReaderFrame)
                break
            except FrameError:
                frames = parser.feed(b"")


@settings(max_examples=500, deadline=None)
@given(
    noise=st.binary(max_size=40).filter(lambda b: b"\x69" not in b),
    data=st.binary(max_size=300),
    cut=st.integers(min_value=1, max_value=50),
)
def test_a_frame_after_noise_is_recovered_whatever_the_chunking(noise, data, cut):
    stream = noise + proto.build_reader_frame(proto.Status.OK, data)
    parser = proto.FrameParser()
    got = []
    for i in range(0, len(stream), cut):
        frames = parser.feed(stream[i : i + cut])
        while True:
            try:
                got += frames
                break
            except FrameError:  # noise can fake a preamble with a bad length
                frames = parser.feed(b"")
    assert [f.data for f in got] == [data]
