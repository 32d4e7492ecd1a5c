"""The real ID card reader driver: a SAM module behind a serial port, through pyserial.

One read is three commands: find card (20 01), select card (20 02), read text + photo
(30 01), or text + photo + fingerprint (30 10) with ``fingerprint=True``. When select or
read fails, one more "find card" tells a card pulled away too early (``CardRemoved``: "place
it again and wait") from a card that is there but unreadable (``CardStatusError``).
Each command is retried a bounded number of times when its answer is garbled
(bad checksum, impossible length), incomplete (times out part-way) or when the SAM says
it saw our command garbled (status 10 / 11). The port is opened on first use; when the
device vanishes (``SerialException``) it is closed and opened again on the next call, so
an unplugged reader comes back by itself once plugged in again.

Nothing here logs personal data: log lines carry statuses, commands and counts only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import serial

try:  # pyserial's POSIX backend lets termios.error (not an OSError) escape from tcflush
    from termios import error as termios_error

    _TERMIOS_ERRORS: tuple[type[Exception], ...] = (termios_error,)
except ImportError:  # pragma: no cover - not POSIX
    _TERMIOS_ERRORS = ()

from hardware import sam_protocol as proto
from hardware.errors import (
    CardReadError,
    CardRemoved,
    CardStatusError,
    FrameError,
    ReaderFault,
    ReaderNotFound,
    ReaderTimeout,
    UnsupportedCard,
)
from hardware.interfaces import IdCard
from hardware.sam_text import decode_text_block

log = logging.getLogger(__name__)

# What the port raises when the device vanishes under it.
PORT_ERRORS = (serial.SerialException, OSError, *_TERMIOS_ERRORS)
NO_CARD_STATUSES = frozenset({proto.Status.NO_CARD, proto.Status.NO_CARD_YET})


class SamSerialReader:
    """``IdCardReader`` for a SAM reader on ``port`` (``/dev/ttyUSB0``, a pty, …).

    ``timeout`` bounds the wait for one answer; ``retries`` is how many times one command
    is sent again after a garbled or missing answer; ``poll_interval`` is the pause between
    two "find card" commands while waiting for a card.
    """

    def __init__(
        self,
        port: str,
        baud: int = 115200,
        timeout: float = 2.0,
        *,
        retries: int = 3,
        poll_interval: float = 0.2,
        fingerprint: bool = False,
        serial_factory: Callable[..., serial.Serial] = serial.Serial,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.port = port
        self.baud = baud
        self.timeout = timeout
        self.retries = retries
        self.poll_interval = poll_interval
        self.fingerprint = fingerprint
        self._serial_factory = serial_factory
        self._clock = clock
        self._serial: serial.Serial | None = None
        self._parser = proto.FrameParser()
        self._lock = threading.RLock()
        self._closed = False
        self.stats = {"retries": 0, "opens": 0, "reads": 0}

    # -- the IdCardReader interface ---------------------------------------------------

    def read_card(self, timeout: float) -> IdCard | None:
        deadline = self._clock() + timeout
        with self._lock:
            while not self._find_card():
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return None
                time.sleep(min(self.poll_interval, remaining))
            answer = self._transact(proto.SELECT_CARD)
            if answer.status != proto.Status.OK:
                raise self._failed_on_card(answer.status, "select card")
            command = proto.READ_TEXT_PHOTO_FINGERPRINT if self.fingerprint else proto.READ_TEXT_PHOTO
            answer = self._transact(command)
            if answer.status != proto.Status.OK:
                raise self._failed_on_card(answer.status, "read card")
            blocks = proto.parse_read_answer(answer.data, blocks=3 if self.fingerprint else 2)
            card = decode_text_block(blocks[0], photo=blocks[1])
            if self.fingerprint:
                card = replace(card, fingerprint=blocks[2])
            self.stats["reads"] += 1
            log.info("card read: type=%s photo=%d bytes fingerprint=%d bytes",
                     card.card_type, len(card.photo), len(card.fingerprint))
            return card

    def card_present(self) -> bool:
        """Whether a card lies on the reader now (the take-your-card reminder asks this).

        A card already read is not "found" again until it leaves the field, so a card that
        stayed is told by sending "read" again while it is still selected (the assumption in
        ``hardware.sam_simulator``'s docstring, not confirmed on a device); its answer is
        dropped unread. A new card is "found". Raises ``CardReadError`` when the reader does
        not answer.
        """
        with self._lock:
            if self._find_card():
                return True
            return self._transact(proto.READ_TEXT_PHOTO).status == proto.Status.OK

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._close_port()

    def __enter__(self) -> SamSerialReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- other commands -----------------------------------------------------------------

    def sam_status(self) -> int:
        """The SAM's status byte (0x90 when it is well)."""
        with self._lock:
            return self._transact(proto.SAM_STATUS).status

    def sam_id(self) -> str:
        """The SAM module's serial number (``12 FF``), as upper-case hex.

        Vendors print it as ``05.01-YYYYMMDD-…``; how those parts map onto the 16 bytes is
        not documented in what we have, so the raw hex is given (no personal data in it).
        """
        with self._lock:
            answer = self._transact(proto.READ_SAM_ID)
            if answer.status != proto.Status.OK:
                raise self._status_error(answer.status, "read SAM id")
            return answer.data.hex().upper()

    # -- the steps ------------------------------------------------------------------------

    def _find_card(self) -> bool:
        answer = self._transact(proto.FIND_CARD)
        if answer.status == proto.Status.CARD_FOUND:
            return True
        if answer.status in NO_CARD_STATUSES:
            return False
        raise self._status_error(answer.status, "find card")

    def _transact(self, command: proto.Command) -> proto.ReaderFrame:
        """Send one command and return its answer, retrying garbled or missing answers."""
        name = proto.COMMAND_NAMES.get(command, "command")
        frame = proto.build_command(command)
        last: CardReadError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.stats["retries"] += 1
                log.warning("reader: retrying %s (attempt %d): %s", name, attempt + 1, last)
            port = self._open()
            try:
                port.reset_input_buffer()
                self._parser.reset()
                port.write(frame)
                port.flush()
                answer = self._await_answer(port)
            except PORT_ERRORS as exc:
                self._close_port()
                raise ReaderNotFound(f"reader vanished during {name}") from exc
            except FrameError as exc:
                last = exc
                continue
            if answer is None:
                last = ReaderTimeout(f"no complete answer to {name} within {self.timeout:.1f} s")
                continue
            if answer.status in proto.RETRYABLE_STATUSES:
                last = CardStatusError(answer.status, f"SAM saw {name} garbled")
                continue
            return answer
        assert last is not None
        raise last

    def _await_answer(self, port: serial.Serial) -> proto.ReaderFrame | None:
        deadline = self._clock() + self.timeout
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                return None
            port.timeout = min(remaining, 0.05)
            chunk = port.read(max(1, port.in_waiting))
            for answer in self._parser.feed(chunk):
                return answer

    def _failed_on_card(self, status: int, step: str) -> CardReadError:
        """A select or read failed: was the card pulled away, or is it unreadable?"""
        if status in NO_CARD_STATUSES:
            return CardRemoved(f"{step}: the card left the field", status=status)
        if status in (proto.Status.SELECT_FAILED, proto.Status.READ_FAILED):
            try:
                still_there = self._find_card()
            except CardReadError:
                still_there = True  # cannot tell: report the original failure
            if not still_there:
                log.warning("reader: %s failed: the card was taken away", step)
                return CardRemoved(f"{step}: the card left the field", status=status)
        return self._status_error(status, step)

    def _status_error(self, status: int, step: str) -> CardReadError:
        log.warning("reader: %s failed with status %02X (%s)", step, status, proto.status_name(status))
        if status == proto.Status.UNKNOWN_CARD_TYPE:
            return UnsupportedCard(f"{step}: the SAM does not know this card type", status=status)
        if status in proto.FAULT_STATUSES:
            return ReaderFault(status, step)
        return CardStatusError(status, step)

    # -- the port -------------------------------------------------------------------------

    def _open(self) -> serial.Serial:
        if self._closed:
            raise ReaderNotFound("reader closed")
        if self._serial is not None:
            return self._serial
        try:
            self._serial = self._serial_factory(
                port=self.port, baudrate=self.baud, bytesize=8, parity="N", stopbits=1, timeout=0.05
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ReaderNotFound("cannot open the reader's serial port") from exc
        self.stats["opens"] += 1
        log.info("reader: port opened")
        return self._serial

    def _close_port(self) -> None:
        port, self._serial = self._serial, None
        self._parser.reset()
        if port is not None:
            try:
                port.close()
            except PORT_ERRORS:  # already gone
                pass
