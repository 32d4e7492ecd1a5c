"""Readings of Chinese text from pypinyin's data, held in a few flat strings and arrays.

pypinyin keeps its phrase table, on import and for good, as 47 k Python lists of lists
(≈ 37 MB), a copy of that dict and a set of every phrase's prefixes (≈ 8 MB more), and
the kiosk only ever asks it for the readings of short texts: the catalog's item names
(the search), the voice's prompts, the pinyin keyboard's words. ``PinyinData`` reads the
same two JSON files from pypinyin's package folder (so the readings follow the pypinyin
pinned in ``requirements.lock``) without importing pypinyin, into sorted arrays and
joined strings of ≈ 3 MB, and reads text as ``pypinyin.lazy_pinyin`` does with its
default segmentation:

- a text is cut into runs of Chinese characters (pypinyin's ``RE_HANS``) and runs of
  anything else, which are kept whole as one item ("ABC-1" stays "ABC-1");
- in a Chinese run, at each point the longest phrase of the table is taken (pypinyin's
  maximum forward matching with ``no_non_phrases``: the same cut), with the phrase's own
  reading (重庆 = chong qing); a character in no phrase gets its first reading, and a
  character without a reading is kept as it is.

Styles: ``NORMAL`` (no tones, ü as v: ``lv``) and ``TONE3`` (the tone's number at the
end, 5 for the neutral tone: ``lv4``, ``ma5``), as ``lazy_pinyin(text, style,
neutral_tone_with_five=True)`` gives them. ``tests/kiosk/input/test_readings.py`` holds
this to pypinyin's own output on every phrase, every character and the catalog's names.

Lookups are pure; the data is built once per process (``pinyin_data()``, ≈ 0.3 s, on the
thread that first asks) and then shared read-only between threads.
"""

from __future__ import annotations

import importlib.util
import io
import re
import threading
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from pathlib import Path

from kiosk.errors import KioskError

NORMAL = "normal"
TONE3 = "tone3"

# pypinyin.constants.RE_HANS (its UCS4 form), one character at a time; a test checks it is the same
HAN_CHARACTER = (
    "\u3007\ue815-\ue864\ufa18\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\U00020000-\U0002A6DF\U0002A703-\U0002B73F\U0002B740-\U0002B81D\U0002B825-\U0002BF6E"
    "\U0002C029-\U0002CE93\U0002D016\U0002D11B-\U0002EBD9\U0002F80A-\U0002FA1F"
    "\U00030000-\U0003134A\U000300F7-\U00031288\U00030EDD\U00030EDE\U00031350-\U00032389"
)
_RUNS = re.compile(f"(?P<han>[{HAN_CHARACTER}]+)|[^{HAN_CHARACTER}]+")

# pypinyin.phonetic_symbol: a marked vowel -> its letter and tone ("ü" alone is "v", no tone)
_SYMBOLS = {
    **{m: f"a{t}" for t, m in enumerate("āáǎà", 1)}, **{m: f"e{t}" for t, m in enumerate("ēéěè", 1)},
    **{m: f"o{t}" for t, m in enumerate("ōóǒò", 1)}, **{m: f"i{t}" for t, m in enumerate("īíǐì", 1)},
    **{m: f"u{t}" for t, m in enumerate("ūúǔù", 1)}, **{m: f"v{t}" for t, m in enumerate("ǖǘǚǜ", 1)},
    "ü": "v", "ń": "n2", "ň": "n3", "ǹ": "n4", "m\u0304": "m1", "ḿ": "m2", "m\u0300": "m4",
    "ê\u0304": "ê1", "ế": "ê2", "ê\u030c": "ê3", "ề": "ê4",
}
_SYMBOL = re.compile("|".join(sorted(map(re.escape, _SYMBOLS), key=len, reverse=True)))
_DIGIT = re.compile(r"[1-5]")

# the two files' shapes: "12295": "líng,yuán,xīng"  and  "一丁点儿": [["yī"], ["dīng"], ...]
_CHAR_ROW = re.compile(r'"(\d+)":\s*"([^"]*)"')
_PHRASE_ROW = re.compile(r'"([^"]+)":\s*\[((?:\s*\[[^\]]*\]\s*,?)*)\s*\]')
_FIRST_READING = re.compile(r'\[\s*"([^"]*)"')


class PinyinDataUnavailable(KioskError, ImportError):
    """pypinyin (its data files) is not installed: no readings, so no pinyin search or input."""

    message_key = "input.pinyin_unavailable"


def pypinyin_folder() -> Path:
    """pypinyin's package folder, found without importing it (importing loads the big tables)."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        raise PinyinDataUnavailable("pypinyin is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _tone2(reading: str) -> str:
    return _SYMBOL.sub(lambda m: _SYMBOLS[m.group()], reading)


def styled(reading: str, style: str) -> str:
    """A tone-marked reading in ``style``: ``lǜ`` -> ``lv`` (NORMAL) or ``lv4`` (TONE3)."""
    tone2 = _tone2(reading)
    plain = _DIGIT.sub("", tone2)
    if style == NORMAL:
        return plain
    tone = _DIGIT.search(tone2)
    return plain + (tone.group() if tone else "5")


class PinyinData:
    """Characters' and phrases' readings (tone-marked, as pypinyin's files give them)."""

    def __init__(self, folder: Path | None = None) -> None:
        folder = pypinyin_folder() if folder is None else folder
        try:
            chars_text = (folder / "pinyin_dict.json").read_text(encoding="utf-8")
            phrases_text = (folder / "phrases_dict.json").read_text(encoding="utf-8")
        except OSError as exc:
            raise PinyinDataUnavailable(f"pypinyin data: {type(exc).__name__}") from exc
        # Built from offsets into the files' text and integers in arrays, not from 90 k small
        # Python objects: freed small objects leave pymalloc's arenas pinned by any survivor
        # (20 MB kept when this was built from lists of tuples).
        codes, char_readings = array("I"), _Joiner()
        for match in _CHAR_ROW.finditer(chars_text):
            codes.append(int(match.group(1)))
            char_readings.add(match.group(2))
        order = _ascending(codes)
        self._codes = array("I", (codes[i] for i in order))
        self._char_readings, self._char_starts = char_readings.reordered(order)
        # phrases by their str hash (stable within a process): a C-level bisect over 47 k
        # integers instead of a dict of 47 k keys; the phrase text itself settles a collision
        hashes, phrases, readings = array("q"), _Joiner(), _Joiner()
        self.longest_phrase = 1
        for match in _PHRASE_ROW.finditer(phrases_text):
            phrase = match.group(1)
            hashes.append(hash(phrase))
            phrases.add(phrase)
            readings.add(" ".join(_FIRST_READING.findall(match.group(2))))
            self.longest_phrase = max(self.longest_phrase, len(phrase))
        order = _ascending(hashes)
        self._hashes = array("q", (hashes[i] for i in order))
        self._phrases, self._phrase_starts = phrases.reordered(order)
        self._phrase_readings, self._reading_starts = readings.reordered(order)
        self.phrase_count = len(self._hashes)
        self.char_count = len(self._codes)

    # -- single lookups -------------------------------------------------------------------

    def char(self, ch: str) -> str:
        """A character's readings, most common first, comma-joined ("" when it has none)."""
        code = ord(ch)
        i = bisect_left(self._codes, code)
        if i == len(self._codes) or self._codes[i] != code:
            return ""
        return self._char_readings[self._char_starts[i]:self._char_starts[i + 1]]

    def phrase(self, word: str) -> tuple[str, ...] | None:
        """A phrase's own reading, one tone-marked syllable per character; None if no phrase."""
        h = hash(word)
        i = bisect_left(self._hashes, h)
        while i < len(self._hashes) and self._hashes[i] == h:
            if self._phrases[self._phrase_starts[i]:self._phrase_starts[i + 1]] == word:
                start, end = self._reading_starts[i], self._reading_starts[i + 1]
                return tuple(self._phrase_readings[start:end].split(" "))
            i += 1
        return None

    # -- text -----------------------------------------------------------------------------

    def syllables(self, text: str, style: str = NORMAL) -> list[str]:
        """``lazy_pinyin(text, style=style, errors="default")`` (TONE3: neutral tone as 5)."""
        out: list[str] = []
        for match in _RUNS.finditer(text):
            run = match.group()
            if match.group("han") is None:
                out.append(run)  # not Chinese: kept whole
                continue
            for word in self._cut(run):
                readings = self.phrase(word) if len(word) > 1 else None
                if readings is None:
                    for ch in word:
                        first = self.char(ch).split(",", 1)[0]
                        out.append(styled(first, style) if first else ch)
                else:
                    out.extend(styled(r, style) for r in readings)
        return [s for s in out if s]

    def _cut(self, run: str) -> list[str]:
        """The longest phrase at each point, else one character (pypinyin's mmseg cut)."""
        words = []
        i = 0
        while i < len(run):
            for length in range(min(self.longest_phrase, len(run) - i), 1, -1):
                if self.phrase(run[i:i + length]) is not None:
                    break
            else:
                length = 1
            words.append(run[i:i + length])
            i += length
        return words


class _Joiner:
    """Strings written one after another into one buffer, and where each starts."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._starts = array("I", [0])

    def add(self, part: str) -> None:
        self._buffer.write(part)
        self._starts.append(self._starts[-1] + len(part))

    def reordered(self, order: Sequence[int]) -> tuple[str, array[int]]:
        """The parts in ``order``, as one string and its start offsets (one more: the end)."""
        text, starts, out = self._buffer.getvalue(), self._starts, _Joiner()
        for i in order:
            out.add(text[starts[i]:starts[i + 1]])
        return out._buffer.getvalue(), out._starts


def _ascending(values: array[int]) -> Sequence[int]:
    """Indices of ``values`` in ascending order (``range`` when they already are)."""
    if all(values[i] <= values[i + 1] for i in range(len(values) - 1)):
        return range(len(values))
    return array("I", sorted(range(len(values)), key=values.__getitem__))


_shared: PinyinData | None = None
_shared_lock = threading.Lock()


def pinyin_data() -> PinyinData:
    """The process's one ``PinyinData``, built on first use (the catalog search, the voice and
    the pinyin keyboard share it)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = PinyinData()
        return _shared
