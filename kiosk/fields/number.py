"""``number``: digits, with at most one decimal point between digits (an area, an amount)."""

from __future__ import annotations

import re

from kiosk.fields.base import NUMBER_INVALID, FieldKind, FieldLike

_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def check_number(value: str, field: FieldLike) -> str | None:
    return None if _NUMBER.fullmatch(value) else NUMBER_INVALID


KIND = FieldKind("number", check_number)
