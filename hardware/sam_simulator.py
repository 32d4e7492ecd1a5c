"""A SAM ID card reader simulated on a pseudo-terminal, speaking the real wire protocol.

``SamSimulator`` opens a pty, puts it in raw mode and answers commands on the master side
in a background thread; ``.port`` is the slave's path, which pyserial (and so the real
``SamSerialReader``) opens like any serial device::

    with SamSimulator(card=ELDERLY_VILLAGER) as sim:
        reader = SamSerialReader(sim.port)
        card = reader.read_card(timeout=2)

Card life cycle as on a real reader: after a successful read the card must leave the
field before "find card" succeeds again (``remove_card()`` then ``present_card()``). With
``auto_replace=True`` the card comes back by itself ``replace_delay`` seconds after each
read, for the demo. Assumption (not confirmed on a device): while the card stays selected,
"read" may be sent again, which is what lets the driver retry a garbled read answer.

Faults, for tests and chaos runs:

* ``noise`` — a few stray bytes (some looking like a partial preamble) before each answer;
* ``split`` — answers written in small pieces with short pauses;
* ``corrupt_next()`` (or ``corrupt=True``) — the next answer carries a bad checksum;
* ``inject("truncate" | "mute", …)`` — half an answer, or none at all;
* ``inject_status(command, status)`` — answer a command with a failure status;
* ``pull_card(command)`` — the villager pulls the card away while ``command`` (the read, by
  default) runs: the card is gone and the SAM answers "read failed" (41).

``baud`` paces the pty at a serial line's speed (10 bits a byte: start, 8 data, stop), both
ways: a command is acted on only after the time its bytes take on the wire, and answers
leave no faster than the line would carry them. Without it the pty is as fast as memory,
which is right for tests and wrong for timing (``benchmarks/idcard.py`` sets it).
``fingerprint`` is what a ``30 10`` read returns as the third block (sample cards have none).
"""

from __future__ import annotations

import logging
import os
import random
import select
import threading
import time
from collections.abc import Callable

from hardware import sam_protocol as proto
from hardware.errors import FrameError
from hardware.interfaces import IdCard
from hardware.pty_device import PtyDevice
from hardware.sam_text import encode_text_block

log = logging.getLogger(__name__)

FAULTS = ("corrupt", "truncate", "mute", "pull")
BITS_PER_BYTE = 10  # 8N1: start bit, 8 data bits, stop bit
SAM_ID = bytes.fromhex("0501000000000000000000000000000a")  # a fake SAM serial number


class SamSimulator(PtyDevice):
    """A simulated SAM reader on a pty. Use as a context manager, or call ``close()``."""

    thread_name = "sam-simulator"

    def __init__(
        self,
        card: IdCard | None = None,
        *,
        auto_replace: bool = False,
        replace_delay: float = 1.0,
        noise: bool = False,
        split: bool = False,
        corrupt: bool = False,
        seed: int = 0,
        baud: int | None = None,
        fingerprint: bytes = b"",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.baud = baud
        self.fingerprint = fingerprint
        self.bytes_in = 0  # bytes heard from the host
        self.bytes_out = 0  # bytes written to the host
        self.auto_replace = auto_replace
        self.replace_delay = replace_delay
        self.noise = noise
        self.split = split
        self.received: list[proto.Command] = []  # every command heard, in order
        self.reads = 0  # successful reads served
        self._clock = clock
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._card: IdCard | None = card
        self._selected = False
        self._read_done = False
        self._returns_at = 0.0
        self._faults: list[tuple[str, proto.Command | None]] = []
        self._statuses: list[tuple[proto.Command, int]] = []
        if corrupt:
            self.corrupt_next()
        self._parser = proto.HostFrameParser()
        self._start_pty()

    # -- the card ---------------------------------------------------------------------

    def present_card(self, card: IdCard) -> None:
        """Put a card on the reader (replacing any card there)."""
        with self._lock:
            self._card = card
            self._selected = False
            self._read_done = False

    def remove_card(self) -> None:
        """Take the card off the reader."""
        with self._lock:
            self._card = None
            self._selected = False
            self._read_done = False

    @property
    def card_present(self) -> bool:
        with self._lock:
            return self._card is not None

    # -- faults -------------------------------------------------------------------------

    def inject(self, fault: str, command: proto.Command | None = None, count: int = 1) -> None:
        """The next ``count`` answers (to ``command``, or to any command) get ``fault``."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {FAULTS}")
        with self._lock:
            self._faults.extend([(fault, command)] * count)

    def pull_card(self, command: proto.Command = proto.READ_TEXT_PHOTO) -> None:
        """The card is pulled away while the next ``command`` runs (a read, by default)."""
        self.inject("pull", command)

    def corrupt_next(self, command: proto.Command | None = None, count: int = 1) -> None:
        self.inject("corrupt", command, count)

    def inject_status(self, command: proto.Command, status: int, count: int = 1) -> None:
        """The next ``count`` times ``command`` comes, answer it with ``status`` and no data."""
        with self._lock:
            self._statuses.extend([(command, status)] * count)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._statuses.clear()

    # -- serving --------------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            chunk = self._read_chunk()
            if chunk is None:
                continue
            self.bytes_in += len(chunk)
            if self.baud:  # the bytes would still be on their way down a real line
                time.sleep(len(chunk) * BITS_PER_BYTE / self.baud)
            frames = self._parser.feed(chunk)
            while True:
                try:
                    for frame in frames:
                        self._answer(frame)
                    break
                except FrameError:  # what a SAM does with a garbled command
                    self._send(proto.build_reader_frame(proto.Status.SAM_CHECKSUM_ERROR), None)
                    frames = self._parser.feed(b"")

    def _answer(self, frame: proto.HostFrame) -> None:
        command = frame.command
        with self._lock:
            self.received.append(command)
            status = self._take_status(command)
            if self._take_pull(command):
                self._card, self._selected, self._read_done = None, False, False
                status = proto.Status.READ_FAILED
            if status is not None:
                answer = proto.build_reader_frame(status)
            else:
                answer = self._respond(command)
        self._send(answer, command)

    def _respond(self, command: proto.Command) -> bytes:
        """The answer to one command; called with the lock held."""
        status, data = proto.Status.OK, b""
        if command == proto.FIND_CARD:
            if self._read_done and self.auto_replace and self._clock() >= self._returns_at:
                self._read_done = False  # the card was taken away and placed again
                self._selected = False
            if self._card is None or self._read_done:
                status = proto.Status.NO_CARD
            else:
                status, data = proto.Status.CARD_FOUND, bytes(4)
        elif command == proto.SELECT_CARD:
            if self._card is None or self._read_done:
                status = proto.Status.SELECT_FAILED
            else:
                self._selected = True
                data = bytes(8)
        elif command in (proto.READ_TEXT_PHOTO, proto.READ_TEXT_PHOTO_FINGERPRINT):
            if self._card is None or not self._selected:
                status = proto.Status.READ_FAILED
            else:
                blocks = [encode_text_block(self._card), self._card.photo or bytes(1024)]
                if command == proto.READ_TEXT_PHOTO_FINGERPRINT:
                    blocks.append(self.fingerprint)
                data = proto.build_read_answer(*blocks)
                self._read_done = True
                self._returns_at = self._clock() + self.replace_delay
                self.reads += 1
        elif command == proto.READ_SAM_ID:
            data = SAM_ID
        elif command not in (proto.SAM_STATUS, proto.RESET_SAM):
            status = proto.Status.BAD_COMMAND
        return proto.build_reader_frame(status, data)

    def _take_status(self, command: proto.Command) -> int | None:
        for i, (wanted, status) in enumerate(self._statuses):
            if wanted == command:
                del self._statuses[i]
                return status
        return None

    def _take_pull(self, command: proto.Command) -> bool:
        """Called with the lock held: is the card pulled during this command?"""
        for i, (fault, wanted) in enumerate(self._faults):
            if fault == "pull" and wanted in (None, command):
                del self._faults[i]
                return True
        return False

    def _take_fault(self, command: proto.Command | None) -> str | None:
        with self._lock:
            for i, (fault, wanted) in enumerate(self._faults):
                if fault != "pull" and (wanted is None or wanted == command):
                    del self._faults[i]
                    return fault
        return None

    def _send(self, answer: bytes, command: proto.Command | None) -> None:
        fault = self._take_fault(command)
        if fault == "mute":
            return
        if fault == "corrupt":
            answer = answer[:-1] + bytes([answer[-1] ^ 0x5A])
        elif fault == "truncate":
            answer = answer[: len(answer) // 2]
        if self.noise:
            answer = self._noise() + answer
        if self.baud:
            self._write_paced(answer, self.baud)
            return
        if not self.split:
            self._write(answer)
            return
        offset = 0
        while offset < len(answer) and not self._stop.is_set():
            size = self._random.randint(1, 24)
            self._write(answer[offset : offset + size])
            offset += size
            time.sleep(0.001)

    def _write_paced(self, answer: bytes, baud: int) -> None:
        """Write at the line's speed: each piece once its last byte could have arrived."""
        started, offset, piece = time.monotonic(), 0, 16
        while offset < len(answer) and not self._stop.is_set():
            end = min(offset + piece, len(answer))
            delay = started + end * BITS_PER_BYTE / baud - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._write(answer[offset:end])
            offset = end

    def _noise(self) -> bytes:
        junk = bytes(
            self._random.choice((0x00, 0xFF, 0x13, 0xAA, 0x96)) for _ in range(self._random.randint(1, 6))
        )
        return junk + self._random.choice((b"", b"\xaa", b"\xaa\xaa\xaa", b"\xaa\xaa\xaa\x96"))

    def _write(self, data: bytes) -> None:
        while data and not self._stop.is_set():
            try:
                _, ready, _ = select.select([], [self._master], [], 0.5)
                if not ready:
                    log.warning("simulator: nobody reads the port; answer dropped")
                    return
                written = os.write(self._master, data)
            except OSError:
                return
            self.bytes_out += written
            data = data[written:]
