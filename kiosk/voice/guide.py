"""``VoiceGuide``: what the kiosk says, and when — the hookup of ``VoicePrompter`` to the app.

It hears three things and turns each into a prompt key (texts: ``voice.*`` in the
translation files):

* a screen shown (``screen_shown(step)``, from the navigator): ``voice.<step>``; a step
  with no text of its own silences what was being said (the screen changed);
* an error shown to the villager (``error_shown(message_key)``, from the navigator's one
  error popup): ``voice.error.<message key>``;
* the core's events (it is bound to the service as an observer, so these come on worker
  threads; ``say`` only records and wakes, so that is fine): ``card_read`` — the sound the
  card screen's "听到提示后再拿开" promises — ``card_failed`` / ``code_notice`` errors, and
  the prompts the end of a visit asks for by key (``idle_warning``, ``take_card_reminder``,
  ``consent_prompt``, ``signature_prompt``, ``rating_prompt``: their ``prompt_key``).

The card is read just before the next screen shows, and that screen's prompt would cut
"读好了" off at once; so the next screen says both, one after the other.

The voice language (普通话 ``cmn``, 粤语 ``yue``, 客家话 ``hak``) is chosen on the home
screen and kept apart from the screen's language (zh / en). No Kivy here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiosk.voice.player import AudioPlayer, find_player
from kiosk.voice.prompter import VoicePrompter, step_prompt_key
from kiosk.voice.synth import EspeakSynth, VoiceUnavailable

log = logging.getLogger(__name__)

VOICE_CHOICES = ("cmn", "yue", "hak")  # what the home screen offers, in this order
CARD_READ_KEY = "voice.card_read"
VOLUME_STEPS = (0.4, 0.7, 1.0)  # 小, 中, 大: the top bar's volume button goes round these


class VoiceGuide:
    def __init__(self, prompter: VoicePrompter | None, catalogs: Mapping[str, Mapping[str, str]],
                 language: str = "cmn") -> None:
        self.prompter = prompter  # None: voice switched off in the settings
        self._catalogs = catalogs
        self._language = language if language in VOICE_CHOICES else VOICE_CHOICES[0]
        self._card_read = threading.Event()  # "读好了" still to be said with the next screen

    @classmethod
    def from_settings(cls, voice: Any, data_dir: Path, catalogs: Mapping[str, Mapping[str, str]],
                      cache_dir: Path) -> VoiceGuide:
        """The kiosk's voice from its ``VoiceSection``; espeak-ng missing leaves recordings only."""
        if not voice.enabled:
            return cls(None, catalogs, voice.language)
        try:
            synth: EspeakSynth | None = EspeakSynth(cache_dir, speed_wpm=voice.speed_wpm)
        except VoiceUnavailable as exc:
            log.warning("voice prompts without espeak-ng: %s", exc)
            synth = None
        prompter = VoicePrompter(catalogs, synth, AudioPlayer(find_player()),
                                 voice.recordings_path(data_dir), volume=voice.volume, muted=voice.muted)
        return cls(prompter, catalogs, voice.language)

    # -- control ------------------------------------------------------------------------

    def start(self) -> None:
        if self.prompter is not None:
            self.prompter.start()

    def stop(self) -> None:
        if self.prompter is not None:
            self.prompter.stop()

    @property
    def language(self) -> str:
        return self._language

    def set_language(self, code: str) -> None:
        """The villager chose a voice on the home screen: say the home prompt in it at once."""
        if code not in VOICE_CHOICES:
            raise ValueError(f"voice language must be one of {', '.join(VOICE_CHOICES)}")
        self._language = code
        self.screen_shown("home")

    @property
    def muted(self) -> bool:
        return self.prompter.muted if self.prompter is not None else True

    def set_muted(self, muted: bool) -> None:
        if self.prompter is not None:
            self.prompter.muted = muted

    @property
    def volume(self) -> float:
        return self.prompter.volume if self.prompter is not None else 0.0

    def next_volume(self) -> float:
        """The next step of ``VOLUME_STEPS`` (after the loudest, the softest); unmutes."""
        if self.prompter is None:
            return 0.0
        louder = [v for v in VOLUME_STEPS if v > self.prompter.volume + 0.01]
        self.prompter.volume = louder[0] if louder else VOLUME_STEPS[0]
        self.prompter.muted = False
        return self.prompter.volume

    # -- what is said -------------------------------------------------------------------

    def has_prompt(self, key: str) -> bool:
        return any(key in table for table in self._catalogs.values())

    def screen_shown(self, step: str) -> None:
        if self.prompter is None:
            return
        keys = [CARD_READ_KEY] if self._card_read.is_set() else []
        self._card_read.clear()
        if self.has_prompt(step_prompt_key(step)):
            keys.append(step_prompt_key(step))
        if keys:
            self.prompter.say_sequence(tuple(keys), self._language)
        else:
            self.prompter.cancel()

    def error_shown(self, message_key: str) -> None:
        if self.prompter is not None:
            self.prompter.say_error(message_key, self._language)

    def say(self, key: str) -> None:
        if self.prompter is not None:
            self.prompter.say(key, self._language)

    # -- the core's events (worker threads) ---------------------------------------------

    def on_event_card_read(self, **_payload: Any) -> None:
        self._card_read.set()
        self.say(CARD_READ_KEY)

    def on_event_card_failed(self, message_key: str, **_payload: Any) -> None:
        self.error_shown(message_key)

    def on_event_code_notice(self, message_key: str, **_payload: Any) -> None:
        self.error_shown(message_key)

    def _say_prompt(self, prompt_key: str = "", **_payload: Any) -> None:
        if prompt_key.startswith("voice.") and self.has_prompt(prompt_key):
            self.say(prompt_key)

    # the walk-away countdown, the card left on the reader, the consent read out, the signature
    # asked for, the rating offered: each event names its words
    on_event_idle_warning = _say_prompt
    on_event_take_card_reminder = _say_prompt
    on_event_consent_prompt = _say_prompt
    on_event_signature_prompt = _say_prompt
    on_event_rating_prompt = _say_prompt
