"""Voice prompts: real espeak-ng renders checked with sox, and the worker's cut-offs.

There is no sound card on the test machine, so where a prompt must be *heard for a
while* (to be cut off) the player is ``sleep``: a real process that stands for a player
busy playing, killed exactly as a real one is.
"""

from __future__ import annotations

import logging
import re
import subprocess
import time
from pathlib import Path

import pytest

from kiosk.i18n import TRANSLATIONS_DIR, read_catalogs
from kiosk.voice import AudioPlayer, EspeakSynth, VoicePrompter, find_player
from kiosk.voice.languages import VOICE_LANGUAGES
from kiosk.voice.prompter import error_prompt_key, step_prompt_key

ROOT = Path(__file__).resolve().parents[3]
STEPS = ("home", "identify", "catalog", "guide", "form", "capture", "review", "receipt", "status",
         "handwriting", "pinyin", "signature", "consent", "rating", "take_card", "idle_warning", "card_read")
BUSY_PLAYER = ("sleep", "30")


@pytest.fixture(scope="module")
def catalogs():
    return read_catalogs(TRANSLATIONS_DIR)


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return EspeakSynth(tmp_path_factory.mktemp("voice-cache"))


def sox_stat(wav: Path) -> dict[str, float]:
    out = subprocess.run(["sox", str(wav), "-n", "stat"], capture_output=True, text=True, check=True).stderr
    found = dict(re.findall(r"^([A-Za-z ]+?)\s*(?:\([a-z]+\))?:\s+(-?[\d.]+)\s*$", out, re.M))
    return {"length": float(found["Length"]), "rms": float(found["RMS     amplitude"])}


def wait_for(condition, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


def user_facing_error_keys() -> set[str]:
    keys = set()
    for package in ("kiosk", "hardware", "offline_queue"):
        for path in (ROOT / package).rglob("*.py"):
            keys.update(re.findall(r'message_key = "([a-z_]+\.[a-z_.]+)"', path.read_text(encoding="utf-8")))
    keys.discard("voice.unavailable")  # said on screen: there is no voice to say it with
    return keys


def errors_the_screens_show() -> set[str]:
    """Message keys the screens hand to the navigator's error popup by name."""
    keys = set()
    for path in (ROOT / "screens").rglob("*.py"):
        keys.update(re.findall(r'show_error\("([a-z_]+\.[a-z_.]+)"', path.read_text(encoding="utf-8")))
    return keys


def test_every_step_and_error_has_a_voice_text_in_both_languages(catalogs, tmp_path):
    field_keys = {k for k in catalogs["zh"] if k.startswith("kiosk.field.")} | errors_the_screens_show()
    assert "form.fix_red" in field_keys
    wanted = {step_prompt_key(s) for s in STEPS} | {error_prompt_key(k) for k in user_facing_error_keys()
                                                     | field_keys}
    for lang in ("zh", "en"):
        missing = sorted(k for k in wanted if not catalogs[lang].get(k))
        assert not missing, (lang, missing)
        assert not [k for k in wanted if "{" in catalogs[lang][k]], "voice texts hold no placeholders"


@pytest.mark.parametrize("step", STEPS)
def test_step_prompts_render_in_mandarin(catalogs, synth, step):
    prompter = VoicePrompter(catalogs, synth, AudioPlayer(None))
    wav, source = prompter.audio_for(step_prompt_key(step), "cmn")
    assert source == "synth"
    stat = sox_stat(wav)
    assert 0.8 < stat["length"] < 20
    assert stat["rms"] > 0.01  # not silent


@pytest.mark.parametrize("lang", ["yue", "en"])
@pytest.mark.parametrize("key", ["voice.identify", "voice.error.hardware.card_removed", "voice.take_card"])
def test_cantonese_and_english_render(catalogs, synth, lang, key):
    wav, _ = VoicePrompter(catalogs, synth, AudioPlayer(None)).audio_for(key, lang)
    stat = sox_stat(wav)
    assert stat["length"] > 0.8 and stat["rms"] > 0.01


def test_renders_are_cached(catalogs, synth):
    prompter = VoicePrompter(catalogs, synth, AudioPlayer(None))
    first, _ = prompter.audio_for("voice.home", "cmn")
    mtime = first.stat().st_mtime_ns
    again, _ = prompter.audio_for("voice.home", "cmn")
    assert again == first and again.stat().st_mtime_ns == mtime
    yue, _ = prompter.audio_for("voice.home", "yue")
    assert yue != first


def test_hakka_without_recordings_speaks_mandarin_not_spelled_letters(catalogs, synth, caplog):
    prompter = VoicePrompter({**catalogs, "hak": {}}, synth, AudioPlayer(None))  # no Hakka text
    with caplog.at_level(logging.WARNING):
        wav, source = prompter.audio_for("voice.take_card", "hak")
        prompter.audio_for("voice.home", "hak")
    assert source == "synth" and wav.name.startswith("cmn-latn-pinyin-")
    assert sum("reads no Chinese" in r.message for r in caplog.records) == 1


def test_a_recording_replaces_the_synthetic_voice(catalogs, synth, tmp_path):
    folder = tmp_path / "recordings" / "hak"
    folder.mkdir(parents=True)
    recorded = folder / "voice.take_card.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(recorded), "synth", "1.5", "sine", "300"],
                   check=True)
    prompter = VoicePrompter(catalogs, synth, AudioPlayer(None), recordings_dir=tmp_path / "recordings")
    assert prompter.audio_for("voice.take_card", "hak") == (recorded, "recording")
    assert prompter.audio_for("voice.take_card", "cmn")[1] == "synth"
    assert prompter.audio_for("../../etc/passwd", "hak") is None  # no text, no file outside


def test_unknown_key_is_silent_and_logged_once(catalogs, synth, caplog):
    prompter = VoicePrompter(catalogs, synth, AudioPlayer(None))
    with caplog.at_level(logging.WARNING):
        assert prompter.audio_for("voice.nothing", "cmn") is None
        assert prompter.audio_for("voice.nothing", "cmn") is None
    assert sum("no voice text" in r.message for r in caplog.records) == 1


def test_a_new_prompt_cuts_off_the_one_playing(catalogs, synth):
    prompter = VoicePrompter(catalogs, synth, AudioPlayer(BUSY_PLAYER))
    prompter.start()
    try:
        prompter.say_step("identify", "cmn")
        assert wait_for(lambda: prompter.speaking)
        first = prompter._current
        prompter.say_error("hardware.card_removed", "yue")
        assert wait_for(lambda: first.poll() is not None, 3)
        assert first.returncode < 0  # killed, not finished
        assert wait_for(lambda: len(prompter.history) == 2 and prompter.speaking)
        assert [h[0] for h in prompter.history] == ["voice.identify", "voice.error.hardware.card_removed"]
        assert prompter.running  # the worker outlives the cut-off
    finally:
        prompter.stop()
    assert not prompter.speaking
    assert not prompter.loop.alive


def test_cancel_and_mute_silence_at_once(catalogs, synth):
    prompter = VoicePrompter(catalogs, synth, AudioPlayer(BUSY_PLAYER))
    prompter.start()
    try:
        prompter.say_step("form", "cmn")
        assert wait_for(lambda: prompter.speaking)
        prompter.cancel()  # the screen changed
        assert wait_for(lambda: not prompter.speaking, 2)
        prompter.muted = True
        prompter.say_step("review", "cmn")
        time.sleep(0.3)
        assert not prompter.speaking and len(prompter.history) == 1
        prompter.muted = False
        prompter.volume = 3  # clamped
        assert prompter.volume == 1.0
        prompter.say_step("review", "cmn")
        assert wait_for(lambda: prompter.speaking)
        assert prompter.running
    finally:
        prompter.stop()


def test_stop_kills_the_player(catalogs, synth):
    prompter = VoicePrompter(catalogs, synth, AudioPlayer(BUSY_PLAYER))
    prompter.start()
    prompter.say_step("home", "cmn")
    assert wait_for(lambda: prompter.speaking)
    process = prompter._current
    prompter.stop()
    assert process.poll() is not None
    assert not prompter.loop.alive


def test_no_sound_device_keeps_the_kiosk_going(catalogs, synth, caplog):
    player = find_player()
    assert player is not None  # sox's play is in the package list
    prompter = VoicePrompter(catalogs, synth, AudioPlayer(player))
    prompter.start()
    try:
        with caplog.at_level(logging.WARNING):
            for step in ("home", "identify", "catalog"):
                prompter.say_step(step, "cmn")
                assert wait_for(lambda s=step: prompter.history and prompter.history[-1][0] == f"voice.{s}")
                assert wait_for(lambda: not prompter.speaking)
        assert prompter.running
        silent = [r for r in caplog.records if "voice prompts are silent" in r.message]
        assert len(silent) <= 1  # no device: said once (a machine with sound says nothing)
    finally:
        prompter.stop()


def test_no_player_and_no_synth_at_all(catalogs, caplog):
    prompter = VoicePrompter(catalogs, None, AudioPlayer(None))
    prompter.start()
    try:
        prompter.say_step("home", "cmn")
        prompter.say_step("home", "cmn")
        assert wait_for(lambda: prompter.loop.stats.passes >= 1)
        assert prompter.running and prompter.loop.stats.crashes == 0
    finally:
        prompter.stop()


def espeak_phonemes(text: str, voice: str) -> str:
    return subprocess.run(["espeak-ng", "-q", "-x", "-v", voice, text], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.parametrize("step", ["home", "identify", "take_card", "idle_warning"])
def test_mandarin_is_spoken_as_mandarin_not_english_letter_names(catalogs, step):
    cmn = VOICE_LANGUAGES["cmn"]
    text = catalogs["zh"][step_prompt_key(step)]
    # the reason for the pinyin path: the plain cmn voice switches to English for 您, 要, 办, 请 ...
    assert "(en)" in espeak_phonemes(text, "cmn") or step == "take_card"
    spoken = cmn.speech_text(text)
    assert "(en)" not in espeak_phonemes(spoken, cmn.espeak_voice)


def test_pinyin_speech_text_is_phrase_aware():
    spoken = VOICE_LANGUAGES["cmn"].speech_text("请拿好您的身份证")
    assert spoken == "qing3 na2 hao3 nin2 de5 shen1 fen4 zheng4"
    assert VOICE_LANGUAGES["yue"].speech_text("请拿好您的身份证") == "请拿好您的身份证"


def test_cantonese_reads_the_characters(catalogs):
    text = catalogs["zh"][step_prompt_key("identify")]
    assert "(en)" not in espeak_phonemes(text, "yue")


def test_cantonese_and_hakka_speak_their_own_catalogs(catalogs, synth):
    """The yue catalog's written Cantonese is read by the yue voice; a romanised Hakka text by hak."""
    tables = {**catalogs, "hak": {"voice.home": "Ngì hó"}}
    prompter = VoicePrompter(tables, synth, AudioPlayer(None))
    assert catalogs["yue"]["voice.card_read"] != catalogs["zh"]["voice.card_read"]
    own = prompter.audio_for("voice.card_read", "yue")[0]
    assert own == synth.render(catalogs["yue"]["voice.card_read"], "yue")
    assert sox_stat(own)["rms"] > 0.01
    hakka, source = prompter.audio_for("voice.home", "hak")
    assert source == "synth" and hakka.name.startswith("hak-") and sox_stat(hakka)["length"] > 0.3
    assert prompter.audio_for("voice.form", "hak")[0].name.startswith("cmn-latn-pinyin-")  # no hak text here
    real = VoicePrompter(catalogs, synth, AudioPlayer(None))  # the real catalog has one
    assert real.audio_for("voice.form", "hak")[0].name.startswith("hak-")
