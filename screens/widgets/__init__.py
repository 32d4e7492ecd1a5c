"""Reusable widgets of the kiosk screens; ``load()`` reads their ``.kv`` rules once."""

from __future__ import annotations

from pathlib import Path

_loaded = False


def load() -> None:
    """Register the widget classes and read their kv rules (once per process)."""
    global _loaded
    if _loaded:
        return
    from kivy.lang import Builder

    from screens.widgets import big_button, error_popup, keypad, status_badge, top_bar  # noqa: F401

    here = Path(__file__).parent
    for name in ("big_button", "top_bar", "keypad", "status_badge", "error_popup"):
        Builder.load_file(str(here / f"{name}.kv"))
    _loaded = True
