"""``text``: anything typed; only the length limit applies."""

from kiosk.fields.base import FieldKind

KIND = FieldKind("text")
