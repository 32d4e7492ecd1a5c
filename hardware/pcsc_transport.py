"""APDUs to a PC/SC card through pyscard, with the two ISO 7816 answers it leaves to us.

pyscard's ``transmit`` returns ``(data, sw1, sw2)`` as the card said it. Two answers are
not final and ``ApduTransport.transmit`` follows them, a bounded number of times:

* ``61 xx`` — "xx more bytes wait": send GET RESPONSE ``00 C0 00 00 xx`` and append what
  comes (again and again while the card says ``61``; ``xx = 00`` means 256);
* ``6C xx`` — "wrong Le, the right one is xx": send the same command again with Le = xx.

pyscard and pcsc-lite errors are translated at this boundary: a card taken out becomes
``CardRemoved``; the service or the reader gone becomes ``SmartCardUnavailable``; anything
else from the stack becomes ``SmartCardError``. ``command`` also turns a status word other
than ``90 00`` into ``SmartCardError(sw)``. Nothing here logs the data of an answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from hardware.errors import CardRemoved, SmartCardError, SmartCardUnavailable

log = logging.getLogger(__name__)

SW_OK = 0x9000
MAX_ROUNDS = 32  # GET RESPONSE / re-send rounds for one command: 32 × 256 bytes is plenty


@dataclass(frozen=True, repr=False)
class ResponseApdu:
    """A card's final answer. ``data`` may hold personal data: the repr shows only its size."""

    data: bytes
    sw1: int
    sw2: int

    @property
    def sw(self) -> int:
        return (self.sw1 << 8) | self.sw2

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def __repr__(self) -> str:
        return f"ResponseApdu(sw={self.sw:04X}, data=<{len(self.data)} bytes>)"


def with_le(apdu: bytes, le: int) -> bytes:
    """The same short command APDU with its Le set to ``le`` (added when it had none)."""
    if len(apdu) < 4:
        raise ValueError("an APDU has at least 4 bytes")
    if len(apdu) == 4:  # case 1: no data, no Le
        return apdu + bytes([le])
    if len(apdu) == 5:  # case 2: Le only
        return apdu[:4] + bytes([le])
    lc = apdu[4]
    if len(apdu) == 5 + lc:  # case 3: data, no Le
        return apdu + bytes([le])
    if len(apdu) == 6 + lc:  # case 4: data and Le
        return apdu[:-1] + bytes([le])
    raise ValueError("APDU length does not match Lc")


class ApduConnection(Protocol):
    """What a transport needs of a connection (pyscard's ``CardConnection`` is one)."""

    def getATR(self) -> list[int]: ...  # noqa: N802  (pyscard's name)

    def transmit(self, bytes: list[int]) -> tuple[list[int], int, int]: ...


class ApduTransport:
    """Sends APDUs over a connected pyscard ``CardConnection`` (or anything with ``transmit``)."""

    def __init__(self, connection: ApduConnection, *, max_rounds: int = MAX_ROUNDS) -> None:
        self.connection = connection
        self.max_rounds = max_rounds
        self.stats = {"apdus": 0, "get_response": 0, "resent_with_le": 0}

    def transmit(self, apdu: bytes | Sequence[int]) -> ResponseApdu:
        """Send one command; follow ``61xx`` and ``6Cxx``; return the final answer."""
        apdu = bytes(apdu)
        data, sw1, sw2 = self._raw(apdu)
        collected = b""
        for _ in range(self.max_rounds):
            if sw1 == 0x6C:
                self.stats["resent_with_le"] += 1
                data, sw1, sw2 = self._raw(with_le(apdu, sw2))
            elif sw1 == 0x61:
                collected += data
                self.stats["get_response"] += 1
                data, sw1, sw2 = self._raw(bytes([0x00, 0xC0, 0x00, 0x00, sw2]))
            else:
                return ResponseApdu(collected + data, sw1, sw2)
        raise SmartCardError("the card kept asking for more rounds", (sw1 << 8) | sw2)

    def command(self, apdu: bytes | Sequence[int], what: str = "command") -> bytes:
        """``transmit``, then the data; raises ``SmartCardError(sw)`` unless the card said 90 00."""
        answer = self.transmit(apdu)
        if not answer.ok:
            raise SmartCardError(f"{what} refused", answer.sw)
        return answer.data

    def atr(self) -> bytes:
        try:
            return bytes(self.connection.getATR())
        except Exception as exc:
            raise translate_pcsc_error(exc, "ATR") from exc

    def close(self) -> None:
        release_connection(self.connection)

    def __enter__(self) -> ApduTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _raw(self, apdu: bytes) -> tuple[bytes, int, int]:
        self.stats["apdus"] += 1
        try:
            data, sw1, sw2 = self.connection.transmit(list(apdu))
        except Exception as exc:
            raise translate_pcsc_error(exc, f"APDU {apdu[1]:02X}") from exc
        return bytes(data), sw1, sw2


def release_connection(connection: object) -> None:
    """Disconnect and release the connection's PC/SC context now, not in ``__del__``.

    pyscard releases the context when the object is collected, and raises there when the
    service has gone meanwhile; releasing it here, errors swallowed, keeps that quiet.
    """
    for name in ("disconnect", "release"):
        method = getattr(getattr(connection, "component", connection), name, None)
        if method is None:
            method = getattr(connection, name, None)
        if callable(method):
            try:
                method()
            except Exception as exc:  # already gone: nothing to release
                log.debug("%s failed: %s", name, type(exc).__name__)
    inner = getattr(connection, "component", connection)
    if hasattr(inner, "hcontext"):
        inner.hcontext = None  # released (or lost with the service): __del__ has nothing to do


def translate_pcsc_error(exc: BaseException, what: str) -> Exception:
    """pyscard's exceptions as ours (by message: pyscard puts the PC/SC error text in it)."""
    from smartcard.Exceptions import CardConnectionException, NoCardException, SmartcardException

    text = str(exc).lower()
    if isinstance(exc, NoCardException) or "removed" in text or "no smart card" in text:
        return CardRemoved(f"{what}: the card was taken out")
    if "service" in text or "unknown reader" in text or "reader is unavailable" in text:
        return SmartCardUnavailable(f"{what}: the PC/SC service or reader went away")
    if isinstance(exc, CardConnectionException | SmartcardException):
        return SmartCardError(f"{what}: {type(exc).__name__}")
    return SmartCardError(f"{what}: {type(exc).__name__}")
