"""The small interfaces the kiosk sees of its devices, and the readings they return.

Each interface has a real driver and a simulator that speaks the device's real wire
protocol; `hardware.factory` picks one from the settings. Readings are frozen
dataclasses. A card reading holds personal data: its ``repr`` masks it, so that a stray
log line or traceback cannot leak it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, runtime_checkable

import numpy as np

CARD_RESIDENT = "resident"
CARD_HK_MACAU_TAIWAN = "hk_macau_taiwan"
CARD_FOREIGN_PERMANENT = "foreign_permanent"


@dataclass(frozen=True, repr=False)
class IdCard:
    """One read of an identity card. ``valid_to`` is None for a long-term (长期) card."""

    card_type: str
    name: str
    sex: str  # male | female | unknown | unspecified
    ethnicity: str | None  # Chinese name, e.g. "汉"; None when blank
    birth_date: date
    address: str
    id_number: str
    issuer: str
    valid_from: date
    valid_to: date | None
    photo: bytes = field(default=b"", compare=False)
    fingerprint: bytes = field(default=b"", compare=False)  # only from a 30 10 read; kept sealed
    permit_number: str | None = None
    issue_count: str | None = None
    english_name: str | None = None
    nationality: str | None = None  # ISO 3166 three-letter code (foreign permanent cards)
    card_version: str | None = None  # older foreign permanent card only
    old_number_link: str | None = None  # 2023 foreign permanent card only

    def is_expired(self, today: date) -> bool:
        return self.valid_to is not None and self.valid_to < today

    def __repr__(self) -> str:  # never the personal data
        return f"IdCard(card_type={self.card_type!r}, id_number='{self.id_number[:2]}…')"

    __str__ = __repr__


@runtime_checkable
class IdCardReader(Protocol):
    """A resident ID card reader (SAM module behind a serial link, or its simulator)."""

    def read_card(self, timeout: float) -> IdCard | None:
        """Wait up to ``timeout`` seconds for a card and read it.

        Returns None when no card was presented in time. Raises a ``CardReadError``
        subclass when a card is there but cannot be read.
        """

    def close(self) -> None: ...


@runtime_checkable
class Camera(Protocol):
    """A source of BGR frames (a real camera, or files replayed through OpenCV)."""

    def read_frame(self) -> np.ndarray | None:
        """The next frame (H×W×3 uint8, BGR), or None when none is available now."""

    def close(self) -> None: ...


_GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def gb11643_check_character(first17: str) -> str:
    """The check character of an 18-character resident ID number (GB 11643, ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need the first 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _GB11643_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]
