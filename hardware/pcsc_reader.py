"""The PC/SC card reader as the kiosk uses it: wait for a card, connect, read it.

``PcscCardReader(reader=None)`` watches one reader (a name, or a name's beginning) or,
with None, every reader. ``read_card(timeout)`` waits for a card, connects through
pyscard and returns a ``StaffCardReading`` or a ``SocialSecurityCard``
(``hardware.pcsc_cards``), None when no card came in time, and raises ``UnsupportedCard``
for any other card. Like the SAM reader, a card must leave the reader before the same
card is read again (``require_removal``), so a card left lying there is not read twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from hardware.errors import HardwareError, SmartCardUnavailable
from hardware.pcsc_cards import SocialSecurityCard, StaffCardReading, read_smart_card
from hardware.pcsc_monitor import PcscContext, ReaderState
from hardware.pcsc_transport import ApduConnection, ApduTransport, release_connection, translate_pcsc_error

log = logging.getLogger(__name__)


class PcscCardReader:
    """Staff and social security cards on a PC/SC reader (see the module docstring)."""

    def __init__(
        self,
        reader: str | None = None,
        *,
        pin: str | None = None,
        poll_interval: float = 0.1,
        require_removal: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reader = reader or None
        self.pin = pin
        self.poll_interval = poll_interval
        self.require_removal = require_removal
        self._clock = clock
        self._context = PcscContext()
        self._last_read: tuple[str, str] | None = None  # (reader, ATR) of the card last read

    def matches(self, name: str) -> bool:
        return self.reader is None or name == self.reader or name.startswith(self.reader)

    def readers(self) -> list[ReaderState]:
        """The readers this one watches, as ``pcscd`` sees them now."""
        return [s for n, s in sorted(self._context.states().items()) if self.matches(n)]

    def wait_for_card(self, timeout: float) -> ReaderState | None:
        """The first watched reader holding a (new) card within ``timeout`` seconds, or None."""
        deadline = self._clock() + timeout
        while True:
            states = self.readers()
            if not states and self.reader is not None:
                missing = SmartCardUnavailable("the PC/SC reader asked for is not there")
            else:
                missing = None
            present = [s for s in states if s.card_present]
            if self._last_read is not None and not any((s.name, s.atr) == self._last_read for s in present):
                self._last_read = None  # the card last read has left
            for state in present:
                if not self.require_removal or (state.name, state.atr) != self._last_read:
                    return state
            if self._clock() >= deadline:
                if missing is not None:
                    raise missing
                return None
            time.sleep(min(self.poll_interval, max(0.0, deadline - self._clock())))

    def connect(self, timeout: float) -> tuple[ReaderState, ApduTransport] | None:
        """Connect to the next card; a card still sliding in (or just swapped) often
        refuses the first connect, so try again until ``timeout`` before giving up."""
        deadline = self._clock() + timeout
        while True:
            state = self.wait_for_card(max(0.0, deadline - self._clock()))
            if state is None:
                return None
            try:
                return state, ApduTransport(_connect(state.name))
            except SmartCardUnavailable:
                raise
            except HardwareError:
                if self._clock() >= deadline:
                    raise
                log.info("pcsc: the card did not answer the connect yet; trying again")
                time.sleep(self.poll_interval)

    def read_card(self, timeout: float) -> StaffCardReading | SocialSecurityCard | None:
        connected = self.connect(timeout)
        if connected is None:
            return None
        state, transport = connected
        with transport:
            reading = read_smart_card(transport, self.pin)
        self._last_read = (state.name, state.atr)
        log.info("pcsc: read a %s card", reading.card_type)
        return reading

    def close(self) -> None:
        self._context.close()

    def __enter__(self) -> PcscCardReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _connect(name: str) -> ApduConnection:
    """A connected pyscard ``CardConnection`` to the card in reader ``name``."""
    from smartcard.System import readers

    try:
        reader = next((r for r in readers() if str(r) == name), None)
    except Exception as exc:
        raise SmartCardUnavailable("the PC/SC service does not answer") from exc
    if reader is None:
        raise SmartCardUnavailable("the PC/SC reader went away")
    connection = reader.createConnection()
    try:
        connection.connect()
    except Exception as exc:
        release_connection(connection)
        raise translate_pcsc_error(exc, "connect") from exc
    connected: ApduConnection = connection  # pyscard is untyped: this is what it gives
    return connected
