"""``id_number``: a citizen identification number (GB 11643) whose check digit is right."""

from __future__ import annotations

from kiosk.errors import InvalidIdNumber
from kiosk.fields.base import ID_NUMBER_INVALID, FieldKind, FieldLike
from kiosk.idnumber import validate_id_number


def check_id_number(value: str, field: FieldLike) -> str | None:
    try:
        validate_id_number(value)
    except InvalidIdNumber:
        return ID_NUMBER_INVALID
    return None


KIND = FieldKind("id_number", check_id_number)
