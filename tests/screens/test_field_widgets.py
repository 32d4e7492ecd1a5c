"""The screen side of the field-kind registry: a widget line for every kind, and keypad typing."""

import os

os.environ.setdefault("KIVY_NO_ARGS", "1")

from kiosk.fields import FIELD_KINDS  # noqa: E402
from screens.widgets.field_widgets import FIELD_WIDGETS, field_widget  # noqa: E402


def test_every_field_kind_has_a_widget():
    assert set(FIELD_WIDGETS) == set(FIELD_KINDS)


def test_keypad_typing_per_kind():
    date = field_widget("date").keypad
    assert date.type("2024-0", "1") == "2024-01" and date.type("2024-01", "1") == "2024-01-1"
    assert date.type("2024-01-15", "9") == "2024-01-15" and date.type("2024", ".") is None
    number = field_widget("number").keypad
    assert number.decimal and number.type("3", ".") == "3." and number.type("3.5", ".") is None
    phone = field_widget("phone").keypad
    assert phone.type("1380013800", "0") == "13800138000" and phone.type("13800138000", "1") == "13800138000"
    assert phone.type("138", ".") is None and phone.type("138", "del") == "13"
    assert field_widget("id_number").keypad.type("1" * 17, "X", max_length=None) == "1" * 17 + "X"
    assert field_widget("phone").keypad.type("12", "3", max_length=2) == "12"  # the catalog's limit wins
    assert field_widget("text").keypad is None and field_widget("choice").keypad is None
