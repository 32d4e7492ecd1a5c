"""What a code held up to the camera means at the identify screen.

``classify(text)`` sorts the text of one code read by ``hardware.barcode`` into:

* ``receipt`` — our receipt QR (``…/track/<number>``) or a bare application number:
  provisional ``K<device>-YYYYMMDD-NNNN-NNNNNNNN`` (older receipts: without the last
  group) or official ``<county>-YYYYMMDD-NNNN-NNNN-NNNN``;
  ``value`` is the number;
* ``id_number`` — a valid 18-character resident ID number (a Code 128 on a slip);
  ``value`` is the normalised number;
* ``other`` — anything else (an e-government QR, a product barcode …): the kiosk only
  says kindly that it cannot use it.

No personal data leaves this module in a log line: callers log the kind only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import unquote, urlsplit

RECEIPT = "receipt"
ID_NUMBER = "id_number"
OTHER = "other"

PROVISIONAL = re.compile(r"K[0-9A-Z]{4}-\d{8}-\d{4,}(?:-\d{8})?")
OFFICIAL = re.compile(r"\d{6}-\d{8}-\d{4}-\d{4}-\d{4}")


@dataclass(frozen=True, repr=False)
class CodeMeaning:
    kind: str  # receipt | id_number | other
    value: str = ""

    def __repr__(self) -> str:  # the value may be an ID number
        return f"CodeMeaning(kind={self.kind!r})"


def application_number(text: str) -> str | None:
    """The application number in a receipt QR or typed on a slip, else None."""
    text = text.strip()
    candidate = text
    if "/" in text:
        try:
            path = urlsplit(text).path
        except ValueError:
            return None
        parts = [p for p in unquote(path).split("/") if p]
        if len(parts) < 2 or parts[-2] != "track":
            return None
        candidate = parts[-1]
    candidate = candidate.upper()
    if PROVISIONAL.fullmatch(candidate) or OFFICIAL.fullmatch(candidate):
        return candidate
    return None


def classify(text: str, today: date | None = None) -> CodeMeaning:
    number = application_number(text)
    if number is not None:
        return CodeMeaning(RECEIPT, number)
    compact = text.strip()
    if len(compact) == 18:
        from kiosk.idnumber import normalize_id_number, validate_id_number

        try:
            value = normalize_id_number(compact)
            validate_id_number(value, today=today)
        except Exception:
            return CodeMeaning(OTHER)
        return CodeMeaning(ID_NUMBER, value)
    return CodeMeaning(OTHER)
