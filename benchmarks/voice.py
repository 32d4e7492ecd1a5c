"""Voice prompts: synthesis time, prompt length, and what ``say`` costs the UI thread (issue 10).

1. ``render_median_ms`` per language: espeak-ng rendering each step prompt to a WAV, cold
   (an empty cache), and the median spoken length in seconds (sox).
2. ``say_call_median_us``: what ``VoicePrompter.say`` costs its caller (the UI thread).
3. ``say_to_play_median_ms``: from ``say`` to the player process started, with the cache
   warm (the kiosk's steady state) and cold. The player is ``sleep 0`` (no sound card
   here); what is measured is the kiosk's own path, not a sound device's latency.

Prints one JSON line last.
"""

from __future__ import annotations

import json
import os
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
        for lang in ("cmn", "yue", "en"):
            times, lengths = [], []
            for step in STEPS:
                t0 = time.perf_counter()
                found = probe.audio_for(f"voice.{step}", lang)
                times.append((time.perf_counter() - t0) * 1000)
                assert found is not None
                lengths.append(seconds(found[0]))
            result[f"{lang}_render_median_ms"] = round(statistics.median(times), 1)
            result[f"{lang}_spoken_median_s"] = round(statistics.median(lengths), 2)
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
