"""Tracking numbers: the hall's official numbers, and the kiosks' provisional ones.

Official (办件编号, given when a clerk accepts the application, ``services/status.py``):
``<county>-<YYYYMMDD>-NNNN-NNNN-NNNC``: the county, the local date of acceptance,
eleven random digits and a Damm check digit over all the digits before it. Sequential
numbers let anyone walk ``/track`` through a county's day; here a guess hits one of the
day's numbers with odds of (applications that day) / 10^11, and ``/track`` allows a
client 30 guesses a minute (``services/ratelimit.py``). Digits only, in groups of four,
because they are read out over the phone and typed on a phone's number pad; the check
digit catches every single wrong digit and every swap of two neighbours, so a typo
says "check the number" instead of "not received yet". Spaces and dashes are optional
when typed.

Provisional, the receipt number: ``K<device>-<YYYYMMDD>-<sequence>-<8 random digits>``
made offline by the kiosk (``kiosk.applications.provisional_number``) and printed on the
villager's receipt and its QR code, so ``/track`` finds the application by it from the
first day. The sequence alone would let anyone walk a kiosk's day; the eight random
digits make one guess hit with odds of 1 in 10^8 per application. The hall takes one only
in that format and only with the four characters of the device that sends it, and the
device's four characters are unique among enrolled kiosks (``services/enrolment.py``).
It starts with ``K`` and an official number with a digit, so a provisional number can
never equal or shadow an official one. A kiosk that sealed applications before the random
part existed still sends ``K<device>-<YYYYMMDD>-<sequence>``:
the hall takes those too, because their receipts are printed already.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.errors import InvalidRequest
from hall.models import Application

RANDOM_DIGITS = 11
RECEIPT_RANDOM_DIGITS = 8
PROVISIONAL = re.compile(r"K([0-9A-Z]{4})-[0-9]{8}-[0-9]{4,8}(?:-[0-9]{8})?")
_OFFICIAL_DIGITS = re.compile(r"[0-9]{6}[0-9]{8}[0-9]{12}")
_SEPARATORS = re.compile(r"[\s\-]+")

# Damm's quasigroup of order 10 (H. M. Damm, 2004): a weakly totally anti-symmetric table.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2), (7, 0, 9, 2, 1, 5, 4, 8, 6, 3), (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6), (6, 1, 2, 3, 0, 4, 5, 9, 7, 8), (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4), (8, 9, 4, 5, 3, 6, 2, 0, 1, 7), (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def damm(digits: str) -> int:
    """The Damm interim digit: the check digit of ``digits``, or 0 if they end in a right one."""
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][ord(ch) - 48]
    return interim


def _format(digits: str) -> str:
    tail = digits[14:]
    return f"{digits[:6]}-{digits[6:14]}-{tail[:4]}-{tail[4:8]}-{tail[8:]}"


def official_number(county: str, day: str, random_digits: str) -> str:
    digits = county + day + random_digits
    return _format(digits + str(damm(digits)))


def next_official_number(db: Session, county: str, received_at: datetime, utc_offset_hours: int) -> str:
    """A fresh random official number (checked unused, inside the caller's transaction)."""
    day = received_at.astimezone(timezone(timedelta(hours=utc_offset_hours))).strftime("%Y%m%d")
    while True:
        random_digits = "".join(str(secrets.randbelow(10)) for _ in range(RANDOM_DIGITS))
        number = official_number(county, day, random_digits)
        # One in 10^11 per pair: the loop almost never runs twice; the unique index backs it.
        if db.scalar(select(Application.id).where(Application.official_number == number)) is None:
            return number


def canonical_official(text: str) -> str | None:
    """The official number as the hall writes it, or None if ``text`` is not one (or has a typo)."""
    digits = _SEPARATORS.sub("", text)
    if not _OFFICIAL_DIGITS.fullmatch(digits) or damm(digits) != 0:
        return None
    return _format(digits)


def device_short(device_id: str) -> str:
    """The kiosk's four characters (``kiosk-3f9a1c2e`` -> ``3F9A``), as ``kiosk.applications`` makes them."""
    text = re.sub(r"[^0-9A-Za-z]", "", device_id)
    if text.lower().startswith("kiosk") and len(text) > 5:
        text = text[5:]
    return text[:4].upper().rjust(4, "0")


def canonical_provisional(text: str) -> str | None:
    number = text.strip().upper()
    return number if PROVISIONAL.fullmatch(number) else None


def check_provisional(number: str, device_id: str) -> str:
    """The provisional number a device sends, refused unless it is its own and well formed."""
    match = PROVISIONAL.fullmatch(number)
    if match is None:
        raise InvalidRequest("provisional_number must look like K<device>-YYYYMMDD-NNNN-NNNNNNNN")
    if match.group(1) != device_short(device_id):
        raise InvalidRequest("provisional_number must carry this device's own four characters")
    return number
