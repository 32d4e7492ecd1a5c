"""What the kiosk says when (``VoiceGuide``), with the real prompter, espeak-ng and players.

The player is ``true`` (a real process that plays nothing and ends at once) where the
order of prompts matters, so a sequence runs through without a sound card.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from kiosk.i18n import TRANSLATIONS_DIR, read_catalogs
from kiosk.settings import load_settings
from kiosk.voice import AudioPlayer, EspeakSynth, VoicePrompter
from kiosk.voice.guide import CARD_READ_KEY, VoiceGuide
from tests.kiosk.voice.test_voice import sox_stat, wait_for

QUICK_PLAYER = ("true",)


@pytest.fixture(scope="module")
def catalogs():
    return read_catalogs(TRANSLATIONS_DIR)


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return EspeakSynth(tmp_path_factory.mktemp("voice-cache"))


def said(prompter: VoicePrompter) -> list[tuple[str, str]]:
    return [(key, lang) for key, lang, _source in prompter.history]


def test_card_read_is_said_before_the_next_screens_prompt(catalogs, synth):
    prompter = VoicePrompter(catalogs, synth, AudioPlayer(QUICK_PLAYER))
    guide = VoiceGuide(prompter, catalogs, "yue")
    guide.start()
    try:
        guide.screen_shown("identify")
        assert wait_for(lambda: said(prompter) == [("voice.identify", "yue")])
        guide.on_event_card_read(mode="apply", name="黄*梅", id_number="4414**********1234")  # reader thread
        guide.screen_shown("catalog")  # the UI moves on at once
        assert wait_for(lambda: said(prompter)[-2:] == [(CARD_READ_KEY, "yue"), ("voice.catalog", "yue")])
        guide.screen_shown("guide")  # the card's word is said once, not on every screen after
        assert wait_for(lambda: said(prompter)[-1] == ("voice.guide", "yue"))
        assert said(prompter).count((CARD_READ_KEY, "yue")) <= 2
        guide.error_shown("form.fix_red")
        guide.on_event_card_failed(message_key="hardware.card_removed")
        assert wait_for(lambda: said(prompter)[-1] == ("voice.error.hardware.card_removed", "yue"))
        assert prompter.running
    finally:
        guide.stop()


def test_voice_language_volume_and_mute(catalogs, synth):
    prompter = VoicePrompter(catalogs, synth, AudioPlayer(QUICK_PLAYER), volume=0.8)
    guide = VoiceGuide(prompter, catalogs, "cmn")
    guide.start()
    try:
        guide.set_language("hak")  # said on home at once, in the new voice
        assert wait_for(lambda: said(prompter)[-1:] == [("voice.home", "hak")])
        with pytest.raises(ValueError):
            guide.set_language("en")  # the home screen offers the three spoken Chinese voices
        assert [guide.next_volume() for _ in range(3)] == [1.0, 0.4, 0.7]
        guide.set_muted(True)
        before = len(prompter.history)
        guide.screen_shown("form")
        time.sleep(0.3)
        assert len(prompter.history) == before and guide.muted
        guide.next_volume()  # turning the volume brings the sound back
        assert not guide.muted
        guide.screen_shown("rating_that_has_no_prompt")  # a step without words silences the last
        assert prompter.running
    finally:
        guide.stop()


def test_guide_from_the_default_settings_renders_every_voice(catalogs, tmp_path):
    settings = load_settings(data_dir=tmp_path, environ={})
    assert settings.voice.enabled and settings.voice.language == "cmn"
    guide = VoiceGuide.from_settings(settings.voice, tmp_path, catalogs, tmp_path / "cache")
    assert guide.prompter is not None and guide.prompter.volume == settings.voice.volume
    for lang in ("cmn", "yue", "hak"):
        wav, source = guide.prompter.audio_for(CARD_READ_KEY, lang)
        stat = sox_stat(wav)
        assert source == "synth" and 0.8 < stat["length"] < 20 and stat["rms"] > 0.01, (lang, stat)
    off = load_settings(data_dir=tmp_path, environ={}).with_overrides({"voice.enabled": False})
    silent = VoiceGuide.from_settings(off.voice, tmp_path, catalogs, tmp_path / "cache")
    silent.screen_shown("home")  # no prompter: nothing happens, nothing breaks
    assert silent.prompter is None and silent.muted


def test_recordings_folder_from_the_settings_wins(catalogs, tmp_path):
    folder = tmp_path / "voice" / "yue"
    folder.mkdir(parents=True)
    recorded = folder / "voice.card_read.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(recorded), "synth", "1.2", "sine", "440"],
                   check=True)
    settings = load_settings(data_dir=tmp_path, environ={})
    guide = VoiceGuide.from_settings(settings.voice, tmp_path, catalogs, tmp_path / "cache")
    assert guide.prompter.audio_for(CARD_READ_KEY, "yue") == (recorded, "recording")
    assert guide.prompter.audio_for(CARD_READ_KEY, "cmn")[1] == "synth"


class BrokenSynth(EspeakSynth):
    """espeak-ng that breaks in a way nobody planned for (not its VoiceUnavailable)."""

    def render(self, text: str, voice: str) -> Path:
        raise OSError("disk gone")


def test_the_speaking_thread_is_alive_after_a_failed_synthesis(catalogs, tmp_path):
    failing = EspeakSynth(tmp_path, program="false")  # a real program that fails: exit 1, no WAV
    prompter = VoicePrompter(catalogs, failing, AudioPlayer(QUICK_PLAYER))
    prompter.start()
    try:
        prompter.say("voice.home", "cmn")
        assert wait_for(lambda: prompter.loop.stats.passes >= 1)
        assert prompter.running and prompter.loop.stats.crashes == 0 and not prompter.history
    finally:
        prompter.stop()

    broken = VoicePrompter(catalogs, BrokenSynth(tmp_path), AudioPlayer(QUICK_PLAYER),
                           recordings_dir=tmp_path)
    (tmp_path / "cmn").mkdir()
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(tmp_path / "cmn" / "voice.form.wav"), "synth",
                    "0.5", "sine", "440"], check=True)
    broken.start()
    try:
        broken.say("voice.home", "cmn")
        assert wait_for(lambda: broken.loop.stats.crashes == 1)
        assert broken.running  # the pass failed, the thread did not
        broken.say("voice.form", "cmn")  # the next prompt (recorded) is still spoken
        assert wait_for(lambda: said(broken) == [("voice.form", "cmn")], 5)
        assert broken.running
    finally:
        broken.stop()


def test_the_end_of_a_visit_is_said_by_the_keys_its_events_name(catalogs, synth):
    prompter = VoicePrompter(catalogs, synth, AudioPlayer(QUICK_PLAYER))
    guide = VoiceGuide(prompter, catalogs, "cmn")
    guide.start()
    try:
        for event, key in (("idle_warning", "voice.idle_warning"), ("consent_prompt", "voice.consent"),
                           ("signature_prompt", "voice.signature"), ("rating_prompt", "voice.rating"),
                           ("take_card_reminder", "voice.take_card")):
            getattr(guide, f"on_event_{event}")(prompt_key=key, seconds_left=20, text="…")
            assert wait_for(lambda key=key: said(prompter)[-1:] == [(key, "cmn")]), event
        guide.on_event_idle_warning(prompt_key="hall.says_anything")  # only the kiosk's own voice keys
        time.sleep(0.2)
        assert said(prompter)[-1] == ("voice.take_card", "cmn") and prompter.running
    finally:
        guide.stop()
