"""The SAM ID card reader's serial wire protocol: frames, commands and status codes.

Pure functions and a byte-fed parser; no I/O. See docs in ``/work/shared/HARDWARE.md``::

    host to reader:  AA AA AA 96 69 | LEN_H LEN_L | CMD PARA | data | CHK
    reader to host:  AA AA AA 96 69 | LEN_H LEN_L | SW1 SW2 SW3 | data | CHK

LEN (big-endian) counts every byte after itself, CHK included; CHK is the XOR of every
byte after the preamble up to, not including, CHK.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

from hardware.errors import FrameError
from hardware.sam_status import Status, status_name

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_SIZE = len(PREAMBLE) + 2  # preamble + LEN
MAX_LENGTH = 4096  # longest LEN accepted: text + photo + fingerprint answers fit well


class Command(NamedTuple):
    """A command: its CMD and PARA bytes."""

    cmd: int
    para: int


SAM_STATUS = Command(0x11, 0xFF)
RESET_SAM = Command(0x10, 0xFF)  # one source uses another PARA: uncertain
READ_SAM_ID = Command(0x12, 0xFF)
FIND_CARD = Command(0x20, 0x01)
SELECT_CARD = Command(0x20, 0x02)
READ_TEXT_PHOTO = Command(0x30, 0x01)
READ_TEXT_PHOTO_FINGERPRINT = Command(0x30, 0x10)

COMMAND_NAMES: dict[Command, str] = {
    SAM_STATUS: "sam_status",
    RESET_SAM: "reset_sam",
    READ_SAM_ID: "read_sam_id",
    FIND_CARD: "find_card",
    SELECT_CARD: "select_card",
    READ_TEXT_PHOTO: "read_text_photo",
    READ_TEXT_PHOTO_FINGERPRINT: "read_text_photo_fingerprint",
}


# Statuses that mean "the link garbled our command": resend it.
RETRYABLE_STATUSES = frozenset({Status.SAM_CHECKSUM_ERROR, Status.SAM_RECEIVE_ERROR})
# Statuses that mean "the SAM itself is unwell or refuses": call the staff.
FAULT_STATUSES = frozenset(
    {Status.BAD_COMMAND, Status.NOT_PERMITTED, Status.SELF_TEST_FAILED, Status.NO_PRODUCTION_KEYS}
)


def checksum(body: bytes) -> int:
    """XOR of every byte (LEN included, CHK excluded)."""
    value = 0
    for byte in body:
        value ^= byte
    return value


def _frame(payload: bytes) -> bytes:
    length = len(payload) + 1
    if length > 0xFFFF:
        raise ValueError("frame payload too long")
    body = length.to_bytes(2, "big") + payload
    return PREAMBLE + body + bytes([checksum(body)])


def build_host_frame(cmd: int, para: int, data: bytes = b"") -> bytes:
    """The bytes the host sends for a command: ``build_host_frame(0x20, 0x01)``."""
    return _frame(bytes([cmd & 0xFF, para & 0xFF]) + bytes(data))


def build_command(command: Command, data: bytes = b"") -> bytes:
    return build_host_frame(command.cmd, command.para, data)


def build_reader_frame(status: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    """The bytes a reader answers with (used by the simulator and the tests)."""
    return _frame(bytes([sw1 & 0xFF, sw2 & 0xFF, status & 0xFF]) + bytes(data))


@dataclass(frozen=True, repr=False)
class ReaderFrame:
    """One answer from the reader. ``data`` may hold personal data: the repr hides it."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes

    @property
    def status(self) -> int:
        return self.sw3

    def __repr__(self) -> str:
        return f"ReaderFrame(status={self.sw3:02X} {status_name(self.sw3)}, data=<{len(self.data)} bytes>)"


@dataclass(frozen=True)
class HostFrame:
    """One command from the host (what the simulator receives)."""

    cmd: int
    para: int
    data: bytes

    @property
    def command(self) -> Command:
        return Command(self.cmd, self.para)


FrameT = TypeVar("FrameT", ReaderFrame, HostFrame)


class FrameSplitter(Generic[FrameT]):
    """Splits a byte stream into frames (``FrameParser``: the reader's; ``HostFrameParser``: the host's).

    Feed it chunks of any size; ``feed`` returns an iterator of the complete frames now
    available. Bytes before a preamble (line noise) are skipped and counted in
    ``discarded``. A frame with an impossible length or a bad checksum raises
    ``FrameError`` from the iterator; the parser has already moved past that frame's first
    byte, so iterating again (``parser.feed(b"")``) resynchronises on what follows.
    """

    min_length = 4  # SW1 SW2 SW3 CHK

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.discarded = 0

    def reset(self) -> None:
        self._buffer.clear()

    @property
    def pending(self) -> int:
        """Bytes held waiting for the rest of a frame."""
        return len(self._buffer)

    def feed(self, chunk: bytes) -> Iterator[FrameT]:
        self._buffer += chunk
        return self._drain()

    def _drain(self) -> Iterator[FrameT]:
        buf = self._buffer
        while True:
            start = buf.find(PREAMBLE)
            if start < 0:
                keep = _partial_preamble_suffix(buf)
                self.discarded += len(buf) - keep
                del buf[: len(buf) - keep]
                return
            if start:
                self.discarded += start
                del buf[:start]
            if len(buf) < HEADER_SIZE:
                return
            length = int.from_bytes(buf[5:7], "big")
            if not self.min_length <= length <= MAX_LENGTH:
                self._skip_one()
                raise FrameError(f"impossible frame length {length}")
            end = HEADER_SIZE + length
            if len(buf) < end:
                return
            body = bytes(buf[5 : end - 1])
            if checksum(body) != buf[end - 1]:
                self._skip_one()
                raise FrameError("bad frame checksum")
            del buf[:end]
            yield self._make(body[2:])

    def _skip_one(self) -> None:
        del self._buffer[:1]
        self.discarded += 1

    def _make(self, payload: bytes) -> FrameT:
        raise NotImplementedError


class FrameParser(FrameSplitter[ReaderFrame]):
    """The reader's answers: SW1 SW2 SW3 and data."""

    def _make(self, payload: bytes) -> ReaderFrame:
        return ReaderFrame(payload[0], payload[1], payload[2], payload[3:])


class HostFrameParser(FrameSplitter[HostFrame]):
    """The same splitter for the other direction: yields ``HostFrame`` (the simulator's side)."""

    min_length = 3  # CMD PARA CHK

    def _make(self, payload: bytes) -> HostFrame:
        return HostFrame(payload[0], payload[1], payload[2:])


def _partial_preamble_suffix(buf: bytearray) -> int:
    """How many trailing bytes of ``buf`` could be the start of a preamble."""
    for size in range(min(len(PREAMBLE) - 1, len(buf)), 0, -1):
        if buf.endswith(PREAMBLE[:size]):
            return size
    return 0


def parse_read_answer(data: bytes, blocks: int = 2) -> list[bytes]:
    """Split a read answer's data into its blocks (text, photo[, fingerprint]).

    The data starts with ``blocks`` big-endian 2-byte lengths, then the blocks in order.
    """
    head = 2 * blocks
    if len(data) < head:
        raise FrameError("read answer shorter than its length fields")
    sizes = [int.from_bytes(data[2 * i : 2 * i + 2], "big") for i in range(blocks)]
    if head + sum(sizes) != len(data):
        raise FrameError("read answer lengths do not match its size")
    parts, offset = [], head
    for size in sizes:
        parts.append(data[offset : offset + size])
        offset += size
    return parts


def build_read_answer(*blocks: bytes) -> bytes:
    """The data of a read answer: the block lengths, then the blocks."""
    return b"".join(len(b).to_bytes(2, "big") for b in blocks) + b"".join(blocks)
