"""Form field kinds: kind name → how a typed value is checked (``FieldKind``).

``FIELD_KINDS`` below is the registry. A new field kind is one new module here defining
its ``KIND`` plus one line in ``FIELD_KINDS`` (and, for the screen, one line in
``screens/widgets/field_widgets.py``, which says how the kind is typed or picked). The
catalog (``kiosk.catalog``) accepts exactly these kinds; ``kiosk.applications`` checks
values with them.
"""

from __future__ import annotations

from kiosk.fields import choice, date, id_number, number, phone, text
from kiosk.fields.base import (
    CHOICE_INVALID,
    DATE_INVALID,
    ID_NUMBER_INVALID,
    NUMBER_INVALID,
    PHONE_INVALID,
    TOO_LONG,
    FieldKind,
    FieldLike,
)

FIELD_KINDS: dict[str, FieldKind] = {kind.name: kind for kind in (
    text.KIND,
    phone.KIND,
    choice.KIND,
    date.KIND,
    number.KIND,
    id_number.KIND,
)}

__all__ = [
    "CHOICE_INVALID", "DATE_INVALID", "FIELD_KINDS", "ID_NUMBER_INVALID", "NUMBER_INVALID", "PHONE_INVALID",
    "TOO_LONG", "FieldKind", "FieldLike",
]
