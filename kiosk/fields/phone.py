"""``phone``: a mainland mobile number (11 digits) or a landline with its area code."""

from __future__ import annotations

import re

from kiosk.fields.base import PHONE_INVALID, FieldKind, FieldLike

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0(?:10|2\d|[3-9]\d{2})-?[2-9]\d{6,7}")


def check_phone(value: str, field: FieldLike) -> str | None:
    compact = re.sub(r"\s", "", value)
    if _MOBILE.fullmatch(compact) or _LANDLINE.fullmatch(compact):
        return None
    return PHONE_INVALID


KIND = FieldKind("phone", check_phone)
