"""The device layer's errors, one tree with one root.

::

    HardwareError                       message_key "hardware.error"
    ├── CardReadError                   "hardware.card_read_failed"   a card is there but unread
    │   ├── ReaderNotFound              "hardware.reader_missing"     port absent, unplugged, vanished
    │   ├── ReaderTimeout               "hardware.reader_timeout"     no (complete) answer in time
    │   │                                (also a ``TimeoutError``)
    │   ├── FrameError                  "hardware.card_read_failed"   bad preamble, length or checksum
    │   ├── CardDataError               "hardware.card_read_failed"   text block malformed
    │   ├── CardStatusError(status)     "hardware.card_read_failed"   the SAM answered a failure status
    │   │   └── ReaderFault(status)     "hardware.reader_fault"       the SAM itself is unwell
    │   ├── UnsupportedCard             "hardware.card_unsupported"   this card cannot be read here
    │   ├── CardRemoved                 "hardware.card_removed"       the card left the field mid-read
    │   ├── SmartCardUnavailable        "hardware.pcsc_unavailable"   no PC/SC service or reader
    │   │                                (also a ``ReaderNotFound``)
    │   └── SmartCardError(sw)          "hardware.smartcard_failed"   a PC/SC card answered an error
    │       ├── WrongPin(retries_left)  "hardware.pin_wrong"          VERIFY refused the PIN
    │       └── PinBlocked              "hardware.pin_blocked"        no PIN tries left
    ├── CameraError                     "hardware.camera_failed"      a frame could not be had or encoded
    │   └── CameraUnavailable           "hardware.camera_unavailable" no camera, nothing to replay
    ├── BarcodeError                    "hardware.barcode_failed"     libzbar missing or a scan failed
    │   └── ImageUnreadable             "hardware.image_unreadable"   not an image, or a broken one
    └── PrinterError                    "hardware.printer_failed"     the receipt could not be printed
        ├── PrinterUnavailable          "hardware.printer_unavailable" cannot be opened, or vanished
        ├── PrinterPaperOut             "hardware.printer_paper_out"  the printer reports no paper
        └── PrinterCoverOpen            "hardware.printer_cover_open" the printer reports its cover open

Every error carries ``message_key``, a key in ``config/translations/<lang>/LC_MESSAGES/hardware.po``; the
UI shows ``translator.t(exc.message_key)`` and never ``str(exc)``. ``str(exc)`` is for logs
and engineers and never holds personal data (no names, numbers, dates or file names that
could carry them). Third-party errors (pyserial, OpenCV) are translated at the boundary
with ``raise … from exc``.
"""

from __future__ import annotations

from hardware.sam_status import status_name


class HardwareError(Exception):
    """Root of every error raised by the device layer."""

    message_key = "hardware.error"


class CardReadError(HardwareError):
    """A card could not be read; the villager should take it away and place it again."""

    message_key = "hardware.card_read_failed"


class ReaderNotFound(CardReadError):
    """The reader's port cannot be opened, or the device vanished while in use."""

    message_key = "hardware.reader_missing"


class ReaderTimeout(CardReadError, TimeoutError):
    """The reader did not answer (completely) in time, even after the retries."""

    message_key = "hardware.reader_timeout"


class FrameError(CardReadError):
    """A frame on the wire is malformed: bad preamble, impossible length or bad checksum."""


class CardDataError(CardReadError):
    """The card's text block is malformed (wrong size, undecodable, a field not a date…).

    The message names the field, never its value.
    """


class CardStatusError(CardReadError):
    """The SAM answered with a failure status byte (SW3)."""

    def __init__(self, status: int, detail: str = "") -> None:
        self.status = status
        text = f"SAM status {status:02X} ({status_name(status)})"
        super().__init__(f"{text}: {detail}" if detail else text)


class ReaderFault(CardStatusError):
    """The SAM module reports a fault of its own (self-test, keys, refused command)."""

    message_key = "hardware.reader_fault"


class UnsupportedCard(CardReadError):
    """A card of a kind this kiosk cannot read (unknown card type, or the SAM said so)."""

    message_key = "hardware.card_unsupported"

    def __init__(self, detail: str = "unsupported card", status: int | None = None) -> None:
        self.status = status
        super().__init__(detail)


class CardRemoved(CardReadError):
    """The card left the reader's field before the read was done (pulled too early)."""

    message_key = "hardware.card_removed"

    def __init__(self, detail: str = "card removed during the read", status: int | None = None) -> None:
        self.status = status
        super().__init__(detail)


class SmartCardUnavailable(ReaderNotFound):
    """No PC/SC service (pcscd) answers, or the wanted smart-card reader is not there."""

    message_key = "hardware.pcsc_unavailable"


class SmartCardError(CardReadError):
    """A PC/SC card answered an APDU with an error status word (``sw``, e.g. 0x6A82)."""

    message_key = "hardware.smartcard_failed"

    def __init__(self, detail: str, sw: int | None = None) -> None:
        self.sw = sw
        super().__init__(f"{detail} (SW {sw:04X})" if sw is not None else detail)


class WrongPin(SmartCardError):
    """VERIFY refused the PIN; ``retries_left`` tries remain (None when the card did not say)."""

    message_key = "hardware.pin_wrong"

    def __init__(self, retries_left: int | None, sw: int | None = None) -> None:
        self.retries_left = retries_left
        super().__init__(f"wrong PIN, {retries_left} tries left", sw)


class PinBlocked(SmartCardError):
    """The PIN is blocked: no tries left. Only the card's issuer can unblock it."""

    message_key = "hardware.pin_blocked"


class CameraError(HardwareError):
    """A frame could not be read or encoded."""

    message_key = "hardware.camera_failed"


class CameraUnavailable(CameraError):
    """No camera could be opened, or a replay source holds nothing readable."""

    message_key = "hardware.camera_unavailable"


class BarcodeError(HardwareError):
    """libzbar is missing or failed; the picture itself may be fine."""

    message_key = "hardware.barcode_failed"


class ImageUnreadable(BarcodeError):
    """A file or buffer that is not a picture, or a broken one (the message names no file)."""

    message_key = "hardware.image_unreadable"


class PrinterError(HardwareError):
    """The receipt printer failed; an application already queued is never affected."""

    message_key = "hardware.printer_failed"


class PrinterUnavailable(PrinterError):
    """The printer cannot be opened (absent, unplugged, unreachable) or went away."""

    message_key = "hardware.printer_unavailable"


class PrinterPaperOut(PrinterError):
    """The printer reports that its paper roll is empty (DLE EOT 4 or 2)."""

    message_key = "hardware.printer_paper_out"


class PrinterCoverOpen(PrinterError):
    """The printer reports that its cover is open (DLE EOT 2)."""

    message_key = "hardware.printer_cover_open"
