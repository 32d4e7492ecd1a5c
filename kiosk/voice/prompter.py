"""``VoicePrompter``: speaks prompt keys on a worker thread; the newest prompt wins.

``say(key, lang)`` only records the request and wakes the worker (a
``workers.BackgroundLoop``), so the UI thread never waits for synthesis or sound. The
worker finds the audio (a recorded WAV ``<recordings>/<lang>/<key>.wav`` when present,
else espeak-ng's rendering of the prompt text), starts the player and watches it: a
newer ``say``, ``cancel()`` (the screen changed), ``muted = True`` or ``stop()`` kills the
player process at once.

Anything that goes wrong (no espeak-ng, no sound device, a missing text) is logged
once per kind and the kiosk goes on silently: a voice prompt is a help, never a
reason to stop a villager. Keys and language codes are logged, never texts.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from collections import deque
from collections.abc import Mapping
from pathlib import Path

from kiosk.voice.languages import FALLBACK_VOICE, VOICE_LANGUAGES, VoiceLanguage
from kiosk.voice.player import AudioPlayer
from kiosk.voice.synth import EspeakSynth, VoiceUnavailable
from workers.loop import BackgroundLoop

log = logging.getLogger(__name__)

IDLE_WAIT_S = 60.0  # the worker sleeps until ``say`` wakes it; this is only a safety net
POLL_S = 0.02


def step_prompt_key(step: str) -> str:
    return f"voice.{step}"


def error_prompt_key(message_key: str) -> str:
    return f"voice.error.{message_key}"


class VoicePrompter:
    def __init__(
        self,
        catalogs: Mapping[str, Mapping[str, str]],
        synth: EspeakSynth | None,
        player: AudioPlayer,
        recordings_dir: Path | None = None,
        *,
        volume: float = 1.0,
        muted: bool = False,
    ) -> None:
        self._catalogs = catalogs
        self._synth = synth
        self._player = player
        self._recordings = Path(recordings_dir) if recordings_dir else None
        self._volume = min(max(volume, 0.0), 1.0)
        self._muted = muted
        self._lock = threading.Lock()
        self._pending: tuple[tuple[str, ...], str] | None = None  # (keys said one after another, lang)
        self._generation = 0
        self._current: subprocess.Popen[bytes] | None = None
        self._logged: set[str] = set()
        # (key, lang, "recording" | "synth") of prompts started, newest last: for health and tests
        self.history: deque[tuple[str, str, str]] = deque(maxlen=50)
        self._loop = BackgroundLoop("voice-prompts", self._one_pass, interval_s=IDLE_WAIT_S,
                                    crash_backoff_s=0.5)

    # -- control (any thread) -------------------------------------------------------

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self.cancel()
        self._loop.stop()

    @property
    def running(self) -> bool:
        return self._loop.running

    @property
    def loop(self) -> BackgroundLoop:
        return self._loop

    def say(self, key: str, lang: str) -> None:
        """Speak the prompt ``key`` in ``lang`` (cmn, yue, hak, en), cutting off the one before."""
        self.say_sequence((key,), lang)

    def say_sequence(self, keys: tuple[str, ...], lang: str) -> None:
        """Speak ``keys`` one after another ("card read" then the next screen's prompt); a newer
        ``say`` cuts off the rest."""
        with self._lock:
            self._generation += 1
            self._pending = None if self._muted or not keys else (tuple(keys), lang)
            self._kill_current_locked()
        self._loop.wake()

    def say_step(self, step: str, lang: str) -> None:
        self.say(step_prompt_key(step), lang)

    def say_error(self, message_key: str, lang: str) -> None:
        self.say(error_prompt_key(message_key), lang)

    def cancel(self) -> None:
        """Silence now (the screen changed); nothing pending is spoken."""
        with self._lock:
            self._generation += 1
            self._pending = None
            self._kill_current_locked()

    @property
    def muted(self) -> bool:
        return self._muted

    @muted.setter
    def muted(self, value: bool) -> None:
        self._muted = bool(value)
        if self._muted:
            self.cancel()

    @property
    def volume(self) -> float:
        return self._volume

    @volume.setter
    def volume(self, value: float) -> None:
        """0..1, used from the next prompt on."""
        self._volume = min(max(float(value), 0.0), 1.0)

    @property
    def speaking(self) -> bool:
        with self._lock:
            return self._current is not None and self._current.poll() is None

    # -- finding the audio ----------------------------------------------------------

    def audio_for(self, key: str, lang: str) -> tuple[Path, str] | None:
        """(WAV, "recording" | "synth") for ``key`` in ``lang``, or None (logged once)."""
        language = VOICE_LANGUAGES.get(lang)
        if language is None:
            self._log_once(f"lang:{lang}", "no voice language %s; using Mandarin", lang)
            language = FALLBACK_VOICE
        recording = self._recording(key, language.code)
        if recording is not None:
            return recording, "recording"
        if not language.reads_hanzi and not self._catalogs.get(language.text_lang, {}).get(key):
            self._log_once(f"hanzi:{language.code}",
                           "voice %s reads no Chinese and has no text or recording of %s; using Mandarin",
                           language.code, key)
            recording = self._recording(key, FALLBACK_VOICE.code)
            if recording is not None:
                return recording, "recording"
            language = FALLBACK_VOICE
        text = self._text(key, language)
        if text is None:
            self._log_once(f"text:{key}", "no voice text for %s", key)
            return None
        if self._synth is None:
            self._log_once("synth", "no espeak-ng; prompts without recordings are silent")
            return None
        try:
            return self._synth.render(language.speech_text(text), language.espeak_voice), "synth"
        except VoiceUnavailable as exc:
            self._log_once(f"render:{language.code}", "voice prompt not rendered: %s", exc)
            return None

    def _recording(self, key: str, code: str) -> Path | None:
        if self._recordings is None:
            return None
        path = self._recordings / code / f"{key}.wav"
        # keys are our own dotted names; refuse anything that could leave the folder
        if "/" in key or key.startswith(".") or not path.is_file():
            return None
        return path

    def _text(self, key: str, language: VoiceLanguage) -> str | None:
        for lang in (language.text_lang, "zh"):
            text = self._catalogs.get(lang, {}).get(key)
            if text:
                return text
        return None

    # -- the worker -------------------------------------------------------------------

    def _one_pass(self) -> float | None:
        with self._lock:
            request, generation = self._pending, self._generation
            self._pending = None
        if request is None:
            return None
        keys, lang = request
        for key in keys:
            if generation != self._generation or self._loop.stopping.is_set():
                break
            self._speak(key, lang, generation)
        return 0

    def _speak(self, key: str, lang: str, generation: int) -> None:
        """Play one prompt to its end, or until cut off (a newer request, cancel, stop)."""
        found = self.audio_for(key, lang)
        if found is None:
            return
        wav, source = found
        with self._lock:
            if generation != self._generation:  # cut off while we were rendering
                return
            process = self._player.start(wav, self._volume)
            self._current = process
            self.history.append((key, lang, source))
        if process is None:
            return
        while process.poll() is None:
            if self._loop.sleep(POLL_S):
                break
            with self._lock:
                if generation != self._generation:
                    break
        self._player.kill(process)
        with self._lock:
            if self._current is process:
                self._current = None
        if generation == self._generation and not self._loop.stopping.is_set():
            self._player.finished(process)

    def _kill_current_locked(self) -> None:
        if self._current is not None and self._current.poll() is None:
            self._current.kill()  # no wait here: the worker reaps it

    def _log_once(self, kind: str, message: str, *args: object) -> None:
        if kind not in self._logged:
            self._logged.add(kind)
            log.warning(message, *args)
