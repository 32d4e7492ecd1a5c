"""``date``: a calendar date, YYYY-MM-DD (the keypad types the digits, the dashes come by themselves)."""

from __future__ import annotations

import re
from datetime import date

from kiosk.fields.base import DATE_INVALID, FieldKind, FieldLike


def check_date(value: str, field: FieldLike) -> str | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return DATE_INVALID
    try:
        date.fromisoformat(value)
    except ValueError:  # 2024-02-30
        return DATE_INVALID
    return None


KIND = FieldKind("date", check_date)
