"""Form field kinds → the widget that asks for them, and how the big keypad types into them.

The screen side of the field-kind registry (``kiosk.fields.FIELD_KINDS`` is the checking
side): ``FIELD_WIDGETS`` holds one line per kind. A new field kind is a module in
``kiosk/fields`` plus one line there and one line here. ``screens/form.py`` asks
``field_widget(kind)`` and knows no kind by name.

A builder gets the form screen (``FormHost``: what a widget may ask of it) and the row
(``kiosk.presentation`` form row: ``field``, ``value``, ``choices``) and returns the widget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from screens import theme
from screens.widgets.big_button import BigButton
from screens.widgets.keypad import NumericKeypad

LONG_TEXT = 16  # characters that fit one line of a text field's button at theme.LARGE


class FormHost(Protocol):
    selected: str  # the field the keypad types into

    def tr(self, key: str, *args: Any, **kwargs: Any) -> str: ...

    def select(self, field_id: str) -> None: ...

    def set_value(self, field_id: str, value: str) -> None: ...

    def edit_text(self, field_id: str) -> None: ...


@dataclass(frozen=True)
class Keypad:
    """A kind typed on the big keypad: ``max_length`` when the catalog gives none; ``decimal``
    shows the "." key."""

    max_length: int | None = None
    decimal: bool = False

    def type(self, value: str, key: str, max_length: int | None = None) -> str | None:
        """The value after ``key``; None when the key does nothing for this kind."""
        if key == "." and (not self.decimal or "." in value):
            return None
        return NumericKeypad.apply(value, key, max_length or self.max_length)


@dataclass(frozen=True)
class DateKeypad(Keypad):
    """Typed as digits, shown and stored as YYYY-MM-DD."""

    def type(self, value: str, key: str, max_length: int | None = None) -> str | None:
        if key == ".":
            return None
        digits = NumericKeypad.apply(value.replace("-", ""), key, 8)
        return "-".join(p for p in (digits[:4], digits[4:6], digits[6:8]) if p)


def keypad_button(host: FormHost, row: Any) -> Widget:
    """A big button showing the value; tapping it points the keypad at the field."""
    f = row.field
    hint = "form.tap_to_type_upright" if theme.PORTRAIT else "form.tap_to_type"  # upright: keypad below
    button = BigButton(kiosk_id=f"field_{f.id}", text=row.value or host.tr(hint),
                       font_size=theme.font(52) if row.value else theme.BODY,
                       style="selected" if host.selected == f.id else "secondary")
    button.bind(on_release=lambda _b, fid=f.id: host.select(fid))
    return button


def choice_buttons(host: FormHost, row: Any) -> Widget:
    """One big button per choice, the chosen one ticked; long labels two to a line."""
    f = row.field
    wide = max((len(text) for _v, text in row.choices), default=0) > 6
    cols = 2 if wide else min(5, max(1, len(row.choices)))
    rows_needed = -(-len(row.choices) // cols)
    line = GridLayout(cols=cols, spacing=theme.px(16), size_hint_y=None,
                      height=rows_needed * theme.TARGET + (rows_needed - 1) * theme.px(16))
    for value, text in row.choices:
        chosen = row.value == value
        button = BigButton(kiosk_id=f"choice_{f.id}_{value}", text=("✓ " if chosen else "") + text,
                           font_size=theme.BODY, style="selected" if chosen else "secondary")
        button.bind(on_release=lambda _b, fid=f.id, v=value: host.set_value(fid, v))
        line.add_widget(button)
    return line


def text_button(host: FormHost, row: Any) -> Widget:
    """A big button showing the text; tapping it opens the writing view (handwriting, pinyin,
    digits: ``screens.widgets.text_editor``), never a system keyboard."""
    f = row.field
    button = BigButton(kiosk_id=f"field_{f.id}", text=row.value or host.tr("input.editor.tap_to_write"),
                       font_size=theme.LARGE if row.value else theme.BODY, style="secondary",
                       max_lines=2, shorten=True, shorten_from="left")
    if len(row.value) > LONG_TEXT:  # an address: two lines, the end of it (the last written) shown
        button.height = theme.TARGET * 1.6
    button.bind(on_release=lambda _b, fid=f.id: host.edit_text(fid))
    return button


@dataclass(frozen=True)
class FieldWidget:
    build: Callable[[FormHost, Any], Widget]
    keypad: Keypad | None = None  # None: not typed on the keypad
    writes_text: bool = False  # written in the TextEditor (needs the handwriting and pinyin engines)


FIELD_WIDGETS: dict[str, FieldWidget] = {
    "text": FieldWidget(text_button, writes_text=True),
    "phone": FieldWidget(keypad_button, Keypad(max_length=11)),
    "choice": FieldWidget(choice_buttons),
    "date": FieldWidget(keypad_button, DateKeypad()),
    "number": FieldWidget(keypad_button, Keypad(decimal=True)),
    "id_number": FieldWidget(keypad_button, Keypad(max_length=18)),
}


def field_widget(kind: str) -> FieldWidget:
    """The widget line for ``kind`` (the catalog admits only registered kinds; text otherwise)."""
    return FIELD_WIDGETS.get(kind, FIELD_WIDGETS["text"])
