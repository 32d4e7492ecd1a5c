"""The idle timeout's two faces: the countdown warning, and the short "wiped" notice after it.

``IdleWarning`` covers the screen in the last seconds before an idle visit is wiped (event
``idle_warning``, ``kiosk.idle``): a big "您还在吗？", the seconds left, read from the core
several times a second, and one big button. Any touch on it keeps the visit (the app's
window hook has already told the core about the touch) and closes it.

``WipedNotice`` says the visit was wiped. It is for the villager who walked away, not for
the next person: it closes by itself after ``show_s`` seconds or at the first touch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.modalview import ModalView

from screens.widgets.error_popup import ErrorPopup

TICK_S = 0.2  # the countdown is read this often: a second never shows late


class IdleWarning(ModalView):
    kiosk_id = StringProperty("idle_warning")
    title = StringProperty("")
    countdown_text = StringProperty("")  # "{seconds}" filled in on every tick
    continue_text = StringProperty("")
    seconds = NumericProperty(0)

    def __init__(self, seconds_left: Callable[[], float | None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._seconds_left = seconds_left
        self._ticker = Clock.schedule_interval(self._tick, TICK_S)
        self._tick(0)

    def _tick(self, _dt: float) -> None:
        left = self._seconds_left()
        self.seconds = 0 if left is None else math.ceil(left)

    def on_touch_down(self, touch: Any) -> bool:
        self.dismiss()  # the villager is here: the visit goes on (the core saw the touch)
        return True

    def on_dismiss(self) -> None:
        self._ticker.cancel()


class WipedNotice(ErrorPopup):
    """An ``ErrorPopup`` that does not wait for its button: a few seconds or any touch close it."""

    kiosk_id = StringProperty("wiped_notice")
    show_s = NumericProperty(8.0)

    def on_open(self) -> None:
        self._timer = Clock.schedule_once(lambda _dt: self.dismiss(), self.show_s)

    def on_touch_down(self, touch: Any) -> bool:
        self.dismiss()
        return True

    def on_dismiss(self) -> None:
        timer = getattr(self, "_timer", None)
        if timer is not None:
            timer.cancel()


_KV = Path(__file__).with_suffix(".kv")
if str(_KV) not in Builder.files:
    Builder.load_file(str(_KV))
