"""A big numeric keypad: villagers never meet a system keyboard."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.gridlayout import GridLayout

KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "del", "0", "clear")


class NumericKeypad(GridLayout):
    """Dispatches ``on_key(key)`` with "0"–"9", "del" or "clear" (ids keypad_<key>)."""

    del_text = StringProperty("⌫")
    clear_text = StringProperty("")

    __events__ = ("on_key",)

    def on_key(self, key: str) -> None:
        pass

    @staticmethod
    def apply(value: str, key: str, max_length: int | None = None) -> str:
        """The text after pressing ``key`` (a pure helper the screens share)."""
        if key == "del":
            return value[:-1]
        if key == "clear":
            return ""
        if max_length is not None and len(value) >= max_length:
            return value
        return value + key
