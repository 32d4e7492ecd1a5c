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
    │   └── UnsupportedCard             "hardware.card_unsupported"   this card cannot be read here
    └── CameraError                     "hardware.camera_failed"      a frame could not be had or encoded
        └── CameraUnavailable           "hardware.camera_unavailable" no camera, nothing to replay

Every error carries ``message_key``, a key in ``config/translations/hardware.*.toml``; the
UI shows ``translator.t(exc.message_key)`` and never ``str(exc)``. ``str(exc)`` is for logs
and engineers and never holds personal data (no names, numbers, dates or file names that
could carry them). Third-party errors (pyserial, OpenCV) are translated at the boundary
with ``raise … from exc``.
"""

from __future__ import annotations


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
        from hardware.sam_protocol import status_name  # the table lives with the protocol

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


class CameraError(HardwareError):
    """A frame could not be read or encoded."""

    message_key = "hardware.camera_failed"


class CameraUnavailable(CameraError):
    """No camera could be opened, or a replay source holds nothing readable."""

    message_key = "hardware.camera_unavailable"
