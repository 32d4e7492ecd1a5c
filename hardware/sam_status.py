"""SW3, the status byte of a SAM reader's answer, and its readable names.

A leaf module (it imports nothing of the hardware package) so that both the protocol
(``hardware.sam_protocol``, which re-exports these names) and the errors
(``hardware.errors.CardStatusError``) can use it without importing each other.
"""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    """SW3, the status byte of a reader answer."""

    OK = 0x90
    CARD_FOUND = 0x9F
    NO_CARD = 0x80
    SELECT_FAILED = 0x81
    READ_FAILED = 0x41
    NO_SUCH_ITEM = 0x91
    SAM_CHECKSUM_ERROR = 0x10
    SAM_RECEIVE_ERROR = 0x11  # receive timeout or length error seen by the SAM
    BAD_COMMAND = 0x21
    NOT_PERMITTED = 0x23
    CARD_REJECTED_READER = 0x31  # the card failed to authenticate the reader
    READER_REJECTED_CARD = 0x32  # the reader failed to authenticate the card
    DATA_CHECK_ERROR = 0x33
    NO_CARD_YET = 0x34
    UNKNOWN_CARD_TYPE = 0x40
    SELF_TEST_FAILED = 0x60
    NO_PRODUCTION_KEYS = 0x66


def status_name(status: int) -> str:
    """A readable name for a status byte (``"no_card"``), or ``"unknown"``."""
    try:
        return Status(status).name.lower()
    except ValueError:
        return "unknown"
