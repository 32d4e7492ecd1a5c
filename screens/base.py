"""What every kiosk screen shares: its step controller, the navigator and the words.

A screen gets its own step controller (``step``, from ``kiosk.steps``) and the navigator
(``nav``) handed to it; it talks to nothing else, and it never names the screen that
comes next (``nav.forward()`` asks the step). ``tr(key, lang)`` is what ``.kv`` files call
for words: the ``lang`` argument is only there so that kv re-reads the words when the
language changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

T = TypeVar("T")


class KioskScreen(Screen):
    step = ObjectProperty(None, allownone=True)  # kiosk.steps.Step: this screen's controller
    nav = ObjectProperty(None, allownone=True)  # screens.navigator.Navigator
    lang = StringProperty("zh")

    def tr(self, key: str, _lang: str = "", **fmt: Any) -> str:
        return self.step.t(key, **fmt) if self.step is not None else key

    def prepare(self, **params: Any) -> None:
        """Called by the navigator before the screen is shown; ``params`` come from ``forward``."""

    def refresh(self) -> None:
        """Re-read what the screen shows from its step."""

    def leave(self) -> None:
        """Called by the navigator when another screen takes over (before the step's ``leave``)."""

    def forget(self) -> None:
        """The visit ended (finish, cancel, idle timeout, a crash): drop every widget that showed
        something of the villager. Screens stay built between visits; their words must not."""

    def on_event_language_changed(self, lang: str) -> None:
        self.lang = lang

    def run(self, action: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """Call a step method; a typed failure becomes the friendly popup. None on failure."""
        try:
            return action(*args, **kwargs)
        except Exception as exc:
            self.nav.show_error(getattr(exc, "message_key", "kiosk.unexpected"))
            return None
