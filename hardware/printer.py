"""The receipt printer: ESC/POS through python-escpos, Chinese in GB18030, native QR.

``EscposPrinter`` wraps any ``escpos.escpos.Escpos`` connection (file, serial, USB,
network; ``hardware.printer_devices`` opens one from the settings) and adds what the
kiosk needs on top of python-escpos:

* **Chinese text.** Printers for the Chinese market print GB18030/GBK in double-byte
  mode: ``text()`` sends ``FS &`` (1C 26), the GB18030 bytes, and ``FS .`` (1C 2E)
  around every run that holds a non-ASCII character; ASCII goes as it is.
* **Native QR** through python-escpos ``qr(..., native=True)`` (``GS ( k``): the
  printer draws it, sharp at any size, and the data crosses the wire as text.
* **Status** where the printer reports it: ``DLE EOT 1`` (online), ``DLE EOT 2``
  (cover open, stopped for paper) and ``DLE EOT 4`` (paper near end, paper out), each
  answered with one byte whose fixed bits (xxx1xx10 … bit 1 and bit 4 set, 0 and 7
  clear) are checked. A connection that cannot read (a plain file, a Linux ``/dev/usb/lp``
  node opened for writing) gives ``paper="unknown"``; a printer that does not answer in
  time the same.

``check_ready`` raises ``PrinterPaperOut`` or ``PrinterCoverOpen`` (typed, translated)
before anything is sent; OS and python-escpos failures become ``PrinterUnavailable`` or
``PrinterError`` with ``raise … from exc``. Nothing here logs what is printed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from escpos.exceptions import DeviceNotFoundError, USBNotFoundError
from serial import SerialException

from hardware.device_health import DEGRADED, MISSING, OK, PRINTER, DeviceHealth, device_health
from hardware.errors import PrinterCoverOpen, PrinterError, PrinterPaperOut, PrinterUnavailable

if TYPE_CHECKING:  # escpos.escpos loads its printer capabilities on import (~1 s): not at start
    from escpos.escpos import Escpos

log = logging.getLogger(__name__)

FS_DOUBLE_BYTE_ON = b"\x1c\x26"  # FS &
FS_DOUBLE_BYTE_OFF = b"\x1c\x2e"  # FS .
DLE_EOT = b"\x10\x04"
STATUS_PRINTER, STATUS_OFFLINE_CAUSE, STATUS_PAPER = 1, 2, 4

PAPER_OK, PAPER_NEAR_END, PAPER_OUT, UNKNOWN = "ok", "near_end", "out", "unknown"

# Answers to DLE EOT n: bits 1 and 4 are always 1, bits 0 and 7 always 0.
_FIXED_MASK, _FIXED_BITS = 0x93, 0x12
_OFFLINE = 0x08  # n=1 bit 3
_COVER_OPEN = 0x04  # n=2 bit 2
_PAPER_STOP = 0x20  # n=2 bit 5: stopped because the paper ran out
_NEAR_END = 0x0C  # n=4 bits 2-3
_PAPER_END = 0x60  # n=4 bits 5-6


def _link_gone_errors() -> tuple[type[BaseException], ...]:
    """The third-party errors that mean the printer's link is gone (pyusb only when installed)."""
    gone: list[type[BaseException]] = [DeviceNotFoundError, USBNotFoundError, SerialException]
    try:
        from usb.core import USBError  # optional: only USB printers need pyusb
    except ImportError:
        pass
    else:
        gone.append(USBError)
    return tuple(gone)


_GONE = _link_gone_errors()


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer said about itself; None / ``unknown`` where it cannot say."""

    online: bool | None
    paper: str  # ok | near_end | out | unknown
    cover_open: bool | None

    @property
    def ready(self) -> bool:
        return self.paper != PAPER_OUT and self.cover_open is not True and self.online is not False

    def to_json(self) -> dict[str, Any]:
        return {"online": self.online, "paper": self.paper, "cover_open": self.cover_open}


UNKNOWN_STATUS = PrinterStatus(online=None, paper=UNKNOWN, cover_open=None)


def parse_status(printer: int | None, offline_cause: int | None, paper: int | None) -> PrinterStatus:
    """Status from the answers to DLE EOT 1, 2 and 4 (None for no or a malformed answer)."""

    def valid(byte: int | None) -> int | None:
        return byte if byte is not None and byte & _FIXED_MASK == _FIXED_BITS else None

    printer, offline_cause, paper = valid(printer), valid(offline_cause), valid(paper)
    online = None if printer is None else not printer & _OFFLINE
    cover = None if offline_cause is None else bool(offline_cause & _COVER_OPEN)
    if paper is not None:
        paper_state = PAPER_OUT if paper & _PAPER_END else PAPER_NEAR_END if paper & _NEAR_END else PAPER_OK
    elif offline_cause is not None and offline_cause & _PAPER_STOP:
        paper_state = PAPER_OUT
    else:
        paper_state = UNKNOWN
    return PrinterStatus(online=online, paper=paper_state, cover_open=cover)


def encode_text(text: str) -> bytes:
    """ESC/POS bytes for ``text``: ASCII as is; runs with Chinese in FS & … FS . as GB18030.

    Control characters other than newline are dropped (they would be commands).
    """
    out = bytearray()
    run: list[str] = []
    wide = False
    for ch in text:
        if ch != "\n" and (ord(ch) < 0x20 or ord(ch) == 0x7F):
            continue
        is_wide = ord(ch) > 0x7E
        if run and is_wide != wide:
            out += _encode_run("".join(run), wide)
            run = []
        run.append(ch)
        wide = is_wide
    if run:
        out += _encode_run("".join(run), wide)
    return bytes(out)


def _encode_run(run: str, wide: bool) -> bytes:
    if not wide:
        return run.encode("ascii")
    return FS_DOUBLE_BYTE_ON + run.encode("gb18030") + FS_DOUBLE_BYTE_OFF


class EscposPrinter:
    """A receipt printer; see the module docstring. ``columns`` is the normal-size line width.

    ``read_byte(timeout)`` returns one byte the printer sent (None when nothing came in
    time); without it the printer is write-only and its status unknown.
    """

    def __init__(
        self,
        device: Escpos,
        *,
        read_byte: Callable[[float], int | None] | None = None,
        columns: int = 32,
        status_timeout: float = 0.5,
        name: str = "escpos",
    ) -> None:
        self.device = device
        self.read_byte = read_byte
        self.columns = columns
        self.status_timeout = status_timeout
        self.name = name
        self._lock = threading.Lock()

    # -- status ---------------------------------------------------------------------

    @property
    def reports_status(self) -> bool:
        return self.read_byte is not None

    def status(self) -> PrinterStatus:
        """Ask the printer (DLE EOT 1, 2, 4); ``UNKNOWN_STATUS`` when it cannot answer."""
        if self.read_byte is None:
            return UNKNOWN_STATUS
        with self._lock:
            first = self._query(STATUS_PRINTER)
            if first is None:  # no return channel (or not now): do not wait twice more
                return UNKNOWN_STATUS
            answers = [first, self._query(STATUS_OFFLINE_CAUSE), self._query(STATUS_PAPER)]
        return parse_status(*answers)

    def _query(self, n: int) -> int | None:
        assert self.read_byte is not None
        try:
            for _ in range(16):  # a late answer to an earlier query must not pass for this one
                if self.read_byte(0) is None:
                    break
        except OSError as exc:
            raise PrinterUnavailable(f"{self.name}: status read failed ({type(exc).__name__})") from exc
        self._send(DLE_EOT + bytes([n]))
        try:
            return self.read_byte(self.status_timeout)
        except OSError as exc:
            raise PrinterUnavailable(f"{self.name}: status read failed ({type(exc).__name__})") from exc

    def check_ready(self) -> PrinterStatus:
        """The status; raises ``PrinterPaperOut`` / ``PrinterCoverOpen`` when it cannot print."""
        status = self.status()
        if status.paper == PAPER_OUT:
            raise PrinterPaperOut(f"{self.name}: paper out")
        if status.cover_open:
            raise PrinterCoverOpen(f"{self.name}: cover open")
        if status.online is False:
            raise PrinterError(f"{self.name}: printer offline")
        return status

    def health(self) -> DeviceHealth:
        """A ``hardware.device_health.DeviceHealth`` for ``kiosk devices`` / ``doctor`` and the heartbeat.

        Out of paper, cover open or offline is ``degraded`` (applications still go through;
        only the slip is lost); a printer that cannot be reached is ``missing``. Not required:
        no step waits for the printer.
        """
        def report(state: str, reason: str = "", detail: str = "") -> DeviceHealth:
            return device_health(PRINTER, self.name, state, reason, detail, required=False)

        try:
            status = self.status()
        except PrinterError as exc:
            return report(MISSING, "unavailable", type(exc).__name__)
        if status.paper == PAPER_OUT:
            return report(DEGRADED, "paper_out", "the printer reports no paper")
        if status.cover_open:
            return report(DEGRADED, "cover_open", "the printer reports its cover open")
        if status.online is False:
            return report(DEGRADED, "offline", "the printer reports itself offline")
        if status.paper == PAPER_NEAR_END:
            return report(DEGRADED, "paper_near_end", "the paper roll is nearly used up")
        if status.paper == UNKNOWN:
            return report(OK, "", "opened; this connection does not report status")
        return report(OK, "", "opened; paper ok")

    # -- printing -------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        self._call(self.device._raw, data)

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PrinterError:
            raise
        except OSError as exc:
            raise PrinterUnavailable(f"{self.name}: write failed ({type(exc).__name__})") from exc
        except Exception as exc:  # python-escpos raises its own Error types, and pyserial/pyusb theirs
            if isinstance(exc, _GONE):
                raise PrinterUnavailable(f"{self.name}: {type(exc).__name__}") from exc
            raise PrinterError(f"{self.name}: {type(exc).__name__}") from exc

    def reset(self) -> None:
        """ESC @: back to the power-on settings (also leaves double-byte mode on most models)."""
        self._send(b"\x1b\x40")

    def text(self, text: str) -> None:
        self._send(encode_text(text))

    def line(self, text: str = "") -> None:
        self._send(encode_text(text) + b"\n")

    def style(self, **kwargs: Any) -> None:
        """python-escpos ``set`` (align, bold, double_width, double_height, normal_textsize …)."""
        self._call(self.device.set, **kwargs)

    def qr(self, content: str, size: int = 6) -> None:
        """A native QR (GS ( k), error correction M, model 2. ASCII content only (URLs)."""
        content.encode("ascii")  # python-escpos sends UTF-8; a URL is ASCII anyway
        self._call(self.device.qr, content, ec=1, size=size, native=True)
        self._send(b"\n")

    def picture(self, image: Any) -> None:
        """A raster picture (``GS v 0``), a PIL image already scaled to the paper's dots."""
        self._call(self.device.image, image, impl="bitImageRaster")
        self._send(b"\n")

    def feed_and_cut(self) -> None:
        self._call(self.device.cut)

    def flush(self) -> None:
        flush = getattr(self.device, "flush", None)
        if callable(flush):
            self._call(flush)

    def close(self) -> None:
        try:
            self.device.close()
        except Exception as exc:  # e.g. a serial flush on a port that vanished
            log.warning("closing the printer failed: %s", type(exc).__name__)
            self.device._device = False  # python-escpos would try again, noisily, when collected
