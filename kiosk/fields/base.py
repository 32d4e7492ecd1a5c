"""What a form field kind is: the check of a typed value, and what the catalog may say about it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# message keys (config/translations): what is wrong with a value, in words for people
TOO_LONG = "kiosk.field.too_long"
PHONE_INVALID = "kiosk.field.phone_invalid"
ID_NUMBER_INVALID = "kiosk.field.id_number_invalid"
CHOICE_INVALID = "kiosk.field.choice_invalid"
DATE_INVALID = "kiosk.field.date_invalid"
NUMBER_INVALID = "kiosk.field.number_invalid"


class FieldLike(Protocol):
    """What a check may read of the field (``kiosk.catalog.FormField`` is one)."""

    @property
    def max_length(self) -> int | None: ...

    def choice_values(self) -> tuple[str, ...]: ...


def accept_any(value: str, field: FieldLike) -> str | None:
    return None


@dataclass(frozen=True)
class FieldKind:
    """One kind of form field.

    ``check(value, field)`` gets a stripped, non-empty value and returns a message key when
    it is wrong, None when right (the length limit and "required" are checked for every kind
    by ``kiosk.applications``). ``takes_choices``: the catalog lists choices for it, and only
    for it.
    """

    name: str
    check: Callable[[str, FieldLike], str | None] = accept_any
    takes_choices: bool = False
