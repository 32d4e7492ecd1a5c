"""What every kiosk screen shares: the presenter, the navigator and the words.

A screen gets the presenter (``service``) and the navigator (``nav``) handed to it; it
never reaches past them. ``tr(key, lang)`` is what ``.kv`` files call for words: the
``lang`` argument is only there so that kv re-reads the words when the language changes.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen


class KioskScreen(Screen):
    service = ObjectProperty(None, allownone=True)
    nav = ObjectProperty(None, allownone=True)
    lang = StringProperty("zh")

    def tr(self, key: str, _lang: str = "", **fmt: Any) -> str:
        return self.service.t(key, **fmt) if self.service is not None else key

    def prepare(self, **params: Any) -> None:
        """Called by the navigator before the screen is shown; ``params`` come from ``go``."""

    def refresh(self) -> None:
        """Re-read what the screen shows from the presenter."""

    def leave(self) -> None:
        """Called by the navigator when another screen takes over."""

    def on_event_language_changed(self, lang: str) -> None:
        self.lang = lang

    def run(self, action, *args: Any, **kwargs: Any) -> Any:
        """Call a presenter method; a typed failure becomes the friendly popup. None on failure."""
        try:
            return action(*args, **kwargs)
        except Exception as exc:
            self.nav.show_error(getattr(exc, "message_key", "kiosk.unexpected"))
            return None
