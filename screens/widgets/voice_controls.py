"""The screens' side of the voice: mute, volume and the voice language as Kivy properties.

One ``VoiceControls`` per app wraps the Kivy-free ``kiosk.voice.guide.VoiceGuide``; the
navigator tells it which screen and which error show, the top bar's mute and volume
buttons and the home screen's voice choice (普通话 / 粤语 / 客家话) bind to its
properties, so every screen's buttons show the same state.
"""

from __future__ import annotations

from typing import Any

from kivy.event import EventDispatcher
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.voice.guide import VOICE_CHOICES, VOLUME_STEPS, VoiceGuide


class VoiceControls(EventDispatcher):
    available = BooleanProperty(False)  # False: voice switched off in the settings: no buttons
    muted = BooleanProperty(False)
    level = NumericProperty(0)  # index into VOLUME_STEPS: 0 小, 1 中, 2 大
    language = StringProperty(VOICE_CHOICES[0])

    def __init__(self, guide: VoiceGuide, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.guide = guide
        self._read()

    def _read(self) -> None:
        self.available = self.guide.prompter is not None
        self.muted = self.guide.muted
        volume = self.guide.volume
        self.level = min(range(len(VOLUME_STEPS)), key=lambda i: abs(VOLUME_STEPS[i] - volume))
        self.language = self.guide.language

    # -- the villager's buttons ---------------------------------------------------------

    def toggle_mute(self) -> None:
        self.guide.set_muted(not self.guide.muted)
        self._read()

    def next_volume(self) -> None:
        self.guide.next_volume()
        self._read()

    def choose_language(self, code: str) -> None:
        self.guide.set_language(code)
        self._read()

    # -- from the navigator and the screens ---------------------------------------------

    def screen_shown(self, step: str) -> None:
        self.guide.screen_shown(step)

    def error_shown(self, message_key: str) -> None:
        self.guide.error_shown(message_key)

    def say(self, key: str) -> None:
        self.guide.say(key)
