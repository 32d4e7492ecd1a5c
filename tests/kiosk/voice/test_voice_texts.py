"""Every spoken prompt has a text in Mandarin, Cantonese and Hakka that espeak-ng reads as speech.

Letter-spelling is what goes wrong: a voice that meets a word it cannot read switches to
English and spells it (espeak-ng's ``-x`` output marks that ``(en)``), which also makes the
WAV several times longer than speech. One espeak-ng process per language checks every text's
phonemes; a sample of keys is rendered and measured with sox (benchmarks/voice.py renders all).
"""

from __future__ import annotations

import re
import subprocess

import pytest

from kiosk.i18n import TRANSLATIONS_DIR, read_catalogs
from kiosk.voice import AudioPlayer, EspeakSynth, VoicePrompter
from tests.kiosk.voice.test_voice import sox_stat

NOT_SPOKEN = {"voice.unavailable"}  # shown on screen when there is no voice to say it with
SAMPLE = ("voice.home", "voice.take_card", "voice.error.kiosk.field.required",
          "voice.error.hardware.printer_paper_out")
SECONDS_PER_SYLLABLE = (0.15, 0.7)  # speech at 140 wpm; a spelled-out syllable takes 1-3 s


@pytest.fixture(scope="module")
def catalogs():
    return read_catalogs(TRANSLATIONS_DIR)


def spoken_keys(catalogs) -> list[str]:
    return sorted(k for k in catalogs["zh"] if k.startswith("voice.") and k not in NOT_SPOKEN)


def syllables(text: str, lang: str) -> int:
    if lang == "yue":  # one character, one syllable
        return len(re.findall(r"[\u4e00-\u9fff]", text))
    return len(re.findall(r"[^\W\d_]+", text))  # romanised Hakka: words split by spaces and hyphens


def test_every_spoken_key_has_a_text_in_mandarin_cantonese_and_hakka(catalogs):
    keys = spoken_keys(catalogs)
    assert len(keys) >= 80
    for lang in ("zh", "yue", "hak"):
        missing = [k for k in keys if not catalogs[lang].get(k, "").strip()]
        assert not missing, (lang, missing)
        voice_keys = {k for k in catalogs[lang] if k.startswith("voice.")}
        assert voice_keys <= set(keys) | NOT_SPOKEN, (lang, voice_keys - set(keys))


def test_hakka_texts_are_romanised_and_cantonese_texts_are_written_in_characters(catalogs):
    for key in spoken_keys(catalogs):
        hakka, cantonese = catalogs["hak"][key], catalogs["yue"][key]
        assert not re.search(r"[\u3000-\u9fff\uff00-\uffef]", hakka), (key, hakka)
        assert syllables(cantonese, "yue") >= 3 and not re.search(r"[A-Za-z]", cantonese), (key, cantonese)


@pytest.mark.parametrize("lang", ["yue", "hak"])
def test_no_prompt_is_spelled_out_in_english(catalogs, lang):
    keys = spoken_keys(catalogs)
    lines = "\n".join(catalogs[lang][k] for k in keys) + "\n"
    phonemes = subprocess.run(["espeak-ng", "-q", "-x", "-v", lang, "--stdin"], input=lines,
                              capture_output=True, text=True, check=True, timeout=60).stdout
    assert phonemes.strip() and "(en)" not in phonemes, [ln for ln in phonemes.splitlines() if "(en)" in ln]


def test_sample_prompts_render_as_speech_of_plausible_length(catalogs, tmp_path):
    prompter = VoicePrompter(catalogs, EspeakSynth(tmp_path), AudioPlayer(None))
    for lang in ("yue", "hak"):
        for key in SAMPLE:
            wav, source = prompter.audio_for(key, lang)
            assert source == "synth" and wav.name.startswith(f"{lang}-"), (lang, key, wav.name)
            stat = sox_stat(wav)
            per_syllable = stat["length"] / syllables(catalogs[lang][key], lang)
            assert SECONDS_PER_SYLLABLE[0] < per_syllable < SECONDS_PER_SYLLABLE[1], (lang, key, stat)
            assert stat["rms"] > 0.01, (lang, key, stat)
