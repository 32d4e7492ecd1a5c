"""Voice prompts: synthesis time, prompt length, and what ``say`` costs the UI thread (issue 10).

1. ``render_median_ms`` per language: espeak-ng rendering each step prompt to a WAV, cold
   (an empty cache), and the median spoken length in seconds (sox).
1b. ``<yue|hak>_all_*``: every spoken prompt rendered in Cantonese and Hakka: how many,
   seconds per syllable (median, min, max; speech at 140 wpm is ~0.3-0.4 s, a word spelled
   out letter by letter 1-3 s), how many outside 0.15-0.7 s, and how many fell back to
   another voice or were read as English (espeak-ng's ``(en)``). The test
   (tests/kiosk/voice/test_voice_texts.py) renders only a sample.
2. ``say_call_median_us``: what ``VoicePrompter.say`` costs its caller (the UI thread).
3. ``say_to_play_median_ms``: from ``say`` to the player process started, with the cache
   warm (the kiosk's steady state) and cold. The player is ``sleep 0`` (no sound card
   here); what is measured is the kiosk's own path, not a sound device's latency.

Prints one JSON line last.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.i18n import TRANSLATIONS_DIR, read_catalogs  # noqa: E402
from kiosk.voice import AudioPlayer, EspeakSynth, VoicePrompter  # noqa: E402

STEPS = ("home", "identify", "catalog", "guide", "form", "capture", "review", "receipt", "status",
         "take_card", "idle_warning")
NOT_SPOKEN = {"voice.unavailable"}
PLAUSIBLE = (0.15, 0.7)  # seconds per syllable


def syllables(text: str, lang: str) -> int:
    if lang == "yue":
        return len(re.findall(r"[\u4e00-\u9fff]", text))
    return len(re.findall(r"[^\W\d_]+", text))


def check_every_prompt(probe: VoicePrompter, catalogs: dict[str, dict[str, str]],
                       lang: str) -> dict[str, object]:
    keys = sorted(k for k in catalogs["zh"] if k.startswith("voice.") and k not in NOT_SPOKEN)
    rates, fallback, english = [], 0, 0
    for key in keys:
        text = catalogs[lang].get(key, "")
        found = probe.audio_for(key, lang)
        if not text or found is None or not found[0].name.startswith(f"{lang}-"):
            fallback += 1
            continue
        rates.append(seconds(found[0]) / max(1, syllables(text, lang)))
        phonemes = subprocess.run(["espeak-ng", "-q", "-x", "-v", lang, text], capture_output=True,
                                  text=True, check=True).stdout
        english += "(en)" in phonemes
    return {
        f"{lang}_all_prompts": len(keys),
        f"{lang}_all_s_per_syllable_median": round(statistics.median(rates), 3) if rates else None,
        f"{lang}_all_s_per_syllable_min": round(min(rates), 3) if rates else None,
        f"{lang}_all_s_per_syllable_max": round(max(rates), 3) if rates else None,
        f"{lang}_all_implausible": sum(not PLAUSIBLE[0] < r < PLAUSIBLE[1] for r in rates),
        f"{lang}_all_fallback": fallback,
        f"{lang}_all_english": english,
    }


def seconds(wav: Path) -> float:
    out = subprocess.run(["soxi", "-D", str(wav)], capture_output=True, text=True, check=True).stdout
    return float(out.strip())


def say_to_play(prompter: VoicePrompter, key: str) -> tuple[float, float]:
    before = len(prompter.history)
    t0 = time.perf_counter()
    prompter.say(key, "cmn")
    call = time.perf_counter() - t0
    while len(prompter.history) == before:
        time.sleep(0.0005)
    return call * 1e6, (time.perf_counter() - t0) * 1000


def main() -> None:
    catalogs = read_catalogs(TRANSLATIONS_DIR)
    result: dict[str, object] = {"benchmark": "voice"}
    with tempfile.TemporaryDirectory() as cache:
        synth = EspeakSynth(Path(cache))
        probe = VoicePrompter(catalogs, synth, AudioPlayer(None))
        for lang in ("cmn", "yue", "hak", "en"):
            times, lengths = [], []
            for step in STEPS:
                t0 = time.perf_counter()
                found = probe.audio_for(f"voice.{step}", lang)
                times.append((time.perf_counter() - t0) * 1000)
                assert found is not None
                lengths.append(seconds(found[0]))
            result[f"{lang}_render_median_ms"] = round(statistics.median(times), 1)
            result[f"{lang}_spoken_median_s"] = round(statistics.median(lengths), 2)
        for lang in ("yue", "hak"):
            result.update(check_every_prompt(probe, catalogs, lang))
        prompter = VoicePrompter(catalogs, synth, AudioPlayer(("sleep", "0")))
        prompter.start()
        try:
            warm = [say_to_play(prompter, f"voice.{step}") for step in STEPS * 3]
        finally:
            prompter.stop()
    with tempfile.TemporaryDirectory() as cache:
        prompter = VoicePrompter(catalogs, EspeakSynth(Path(cache)), AudioPlayer(("sleep", "0")))
        prompter.start()
        try:
            cold = [say_to_play(prompter, f"voice.{step}") for step in STEPS]
        finally:
            prompter.stop()
    result.update({
        "say_call_median_us": round(statistics.median(c for c, _ in warm), 1),
        "say_to_play_warm_median_ms": round(statistics.median(p for _, p in warm), 2),
        "say_to_play_cold_median_ms": round(statistics.median(p for _, p in cold), 1),
        "load_average": round(os.getloadavg()[0], 1),
    })
    print(json.dumps(result))


if __name__ == "__main__":
    main()
