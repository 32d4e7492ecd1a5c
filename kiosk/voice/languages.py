"""The spoken languages: which espeak-ng voice speaks, and which translation it reads.

Cantonese and Mandarin read the Simplified Chinese texts (written Chinese read aloud is
how both are normally spoken from a page). espeak-ng 1.51's ``hak`` voice cannot read
Chinese characters: it spells their Unicode names in English, so Hakka without a
recording falls back to the Mandarin voice (logged once) until Hakka recordings, or
texts in Hakka romanisation, are supplied. Recorded WAVs (``<recordings>/<code>/<key>.wav``)
always win.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VoiceLanguage:
    code: str            # the kiosk's name for it and the recordings sub-folder
    espeak_voice: str    # the espeak-ng voice that speaks it
    text_lang: str       # the translation table whose texts it speaks
    reads_hanzi: bool    # False: synthesised speech of Chinese text would be gibberish


VOICE_LANGUAGES: dict[str, VoiceLanguage] = {
    "cmn": VoiceLanguage("cmn", "cmn", "zh", True),
    "yue": VoiceLanguage("yue", "yue", "zh", True),
    "hak": VoiceLanguage("hak", "hak", "zh", False),
    "en": VoiceLanguage("en", "en", "en", True),
}
FALLBACK_VOICE = VOICE_LANGUAGES["cmn"]
