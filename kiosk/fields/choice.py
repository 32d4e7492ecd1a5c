"""``choice``: one of the values the catalog lists for the field."""

from __future__ import annotations

from kiosk.fields.base import CHOICE_INVALID, FieldKind, FieldLike


def check_choice(value: str, field: FieldLike) -> str | None:
    return None if value in field.choice_values() else CHOICE_INVALID


KIND = FieldKind("choice", check_choice, takes_choices=True)
