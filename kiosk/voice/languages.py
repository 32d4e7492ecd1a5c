"""The spoken languages: which espeak-ng voice speaks, and which translation it reads.

Mandarin reads the Simplified Chinese texts; Cantonese reads its own written-Cantonese
wording from the ``yue`` catalog (``config/translations/yue/LC_MESSAGES/voice.po``) and
the Chinese text where that has none (written Chinese read aloud is how Cantonese is
normally spoken from a page). espeak-ng 1.51's ``cmn`` dictionary (Debian
builds it without the extended list) lacks common characters such as 您, 要, 办, 请 and
reads them as English letter names; so Mandarin texts are first written in tone-numbered
pinyin (pypinyin's readings, phrase-aware: ``kiosk.input.readings``) and spoken by the
``cmn-latn-pinyin`` voice, which reads every syllable. Cantonese's ``yue`` dictionary
reads the characters themselves.

espeak-ng 1.51's ``hak`` voice cannot read Chinese characters: it spells them out in
English, so Hakka speaks the ``hak`` catalog's texts, written in romanisation
(Pha̍k-fa-sṳ), which the voice reads; a prompt with neither a Hakka text nor a recording
falls back to the Mandarin voice (logged once). The ``hak`` catalog holds every prompt in
Sixian Hakka, written by the team and waiting for a native speaker's review; the voice reads
the tone marks (â à á a a̍) and applies tone sandhi inside hyphenated words. Recorded WAVs
(``<recordings>/<code>/<key>.wav``) always win.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VoiceLanguage:
    code: str            # the kiosk's name for it and the recordings sub-folder
    espeak_voice: str    # the espeak-ng voice that speaks it
    text_lang: str       # the translation table whose texts it speaks
    reads_hanzi: bool    # False: synthesised speech of Chinese text would be gibberish
    as_pinyin: bool = False  # speak tone-numbered pinyin instead of the characters

    def speech_text(self, text: str) -> str:
        """What espeak-ng is given for ``text`` in this language."""
        if not self.as_pinyin:
            return text
        # pypinyin's readings (lazy_pinyin, TONE3, neutral tone 5) from the data the catalog search
        # shares, not pypinyin's own 45 MB of tables; built on first use, on the voice worker
        from kiosk.input.readings import TONE3, pinyin_data

        return " ".join(pinyin_data().syllables(text, TONE3))


VOICE_LANGUAGES: dict[str, VoiceLanguage] = {
    "cmn": VoiceLanguage("cmn", "cmn-latn-pinyin", "zh", True, as_pinyin=True),
    "yue": VoiceLanguage("yue", "yue", "yue", True),  # its own wording where the yue catalog has it
    "hak": VoiceLanguage("hak", "hak", "hak", False),  # hak texts are romanised Hakka
    "en": VoiceLanguage("en", "en", "en", True),
}
FALLBACK_VOICE = VOICE_LANGUAGES["cmn"]
