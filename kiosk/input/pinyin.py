"""Pinyin input: letters typed on the on-screen keyboard -> ranked Chinese candidates.

Data, loaded once (``PinyinIndex.load()``, about a second):

- words and their frequencies from jieba's dictionary (``jieba/dict.txt``, 349 k words
  counted on a large corpus), kept when at least ``min_freq`` (5: 137 k words);
- readings from pypinyin's data (``kiosk.input.readings``, shared with the catalog search
  and the voice; pypinyin itself is not imported, its tables would keep ≈ 45 MB): a
  phrase's own reading when pypinyin's phrase table has it (长大 = zhang da, not chang da),
  else each character's first reading; a single character is indexed under every reading
  it has (长 under chang and zhang).

Input is full pinyin, initials, or a mix (``zhangsan``, ``zs``, ``zhangs``, ``xi'an``);
``v`` stands for ü. The letters are cut into pieces in every way that makes sense
(whole syllables, initials, and any prefix for the last piece), fewest pieces first.
A word matches a cut when it has one syllable per piece and each syllable starts with
its piece (a whole syllable that is not the last piece must match exactly).

Ranking: words that cover all the letters (fewest pieces first, then frequency), then
composed candidates for what no dictionary holds as one word (the longest words left to
right, ``guangdongshengmeizhoushi`` -> 广东省梅州市; and a surname plus the commonest
character per syllable, for names: ``zhangsan`` -> 张三), then single characters for the first piece,
which cover only part of the letters: ``Candidate.consumed`` says how many, and the
keyboard keeps the rest for the next choice.

Nothing here is personal: the index holds the dictionary, and the letters a villager
typed are never logged.
"""

from __future__ import annotations

import re
import sys
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from kiosk.errors import KioskError

_TONELESS = str.maketrans({
    **dict.fromkeys("āáǎà", "a"), **dict.fromkeys("ēéěèḿ", "e"), **dict.fromkeys("īíǐì", "i"),
    **dict.fromkeys("ōóǒò", "o"), **dict.fromkeys("ūúǔù", "u"), **dict.fromkeys("üǖǘǚǜ", "v"),
    **dict.fromkeys("ńňǹ", "n"), "ḿ": "m",
})
_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h",
             "j", "q", "x", "r", "z", "c", "s", "y", "w")
MAX_PIECES = 8
MAX_CUTS = 48
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
# The most common surnames, most common first: a name's first syllable is composed
# with the surname that has it (zhang -> 张, not the commoner word 长).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)


class PinyinUnavailable(KioskError):
    """The pinyin data (pypinyin, jieba's dictionary) could not be loaded."""

    message_key = "input.pinyin_unavailable"


@dataclass(frozen=True)
class Candidate:
    """A choice for the candidate bar: ``text`` covers the first ``consumed`` letters."""

    text: str
    consumed: int


class _Entry(NamedTuple):
    """One reading of one word (a tuple: 140 k of them are made at load)."""

    word: str
    syllables: tuple[str, ...]
    freq: int


def toneless(reading: str) -> str:
    """``zhāng`` -> ``zhang``, ``lǜ`` -> ``lv``."""
    return reading.translate(_TONELESS)


def _is_han(text: str) -> bool:
    return _HAN.fullmatch(text) is not None


def jieba_words(path: Path | None = None) -> Iterator[tuple[str, int]]:
    """(word, frequency) from jieba's dictionary."""
    if path is None:
        import jieba

        path = Path(jieba.__file__).parent / "dict.txt"
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            parts = line.split(" ", 2)
            try:
                yield parts[0], int(parts[1])
            except (IndexError, ValueError):
                continue


def _by_frequency(entry: _Entry) -> int:
    return -entry[2]


class PinyinIndex:
    """Letters -> candidates; built once, then read-only (safe from any thread)."""

    def __init__(self) -> None:
        from kiosk.input.readings import pinyin_data

        self._data = pinyin_data()
        self._first_reading: dict[str, str] = {}
        # first letters of the syllables ("zs") -> entries, most frequent first
        self._by_key: dict[str, list[_Entry]] = defaultdict(list)
        self._syllables: set[str] = set()
        self._prefixes: set[str] = set()
        self._best_char: dict[str, str] = {}
        self._surname: dict[str, str] = {}
        self._sorted = True
        self._lock = threading.Lock()

    @classmethod
    def load(cls, words: Iterable[tuple[str, int]] | None = None, min_freq: int = 5) -> PinyinIndex:
        try:
            index = cls()
            index.add_words(jieba_words() if words is None else words, min_freq=min_freq)
        except (ImportError, OSError) as exc:
            raise PinyinUnavailable(f"pinyin data: {type(exc).__name__}") from exc
        return index

    # -- building -------------------------------------------------------------------

    def _readings_of(self, word: str) -> list[tuple[str, ...]]:
        if len(word) == 1:
            raw = self._data.char(word)
            return [(toneless(r),) for r in dict.fromkeys(toneless(x) for x in raw.split(",") if x)]
        phrase = self._data.phrase(word)
        if phrase and len(phrase) == len(word):
            return [tuple(toneless(r) for r in phrase)]
        first = self._first_reading
        syllables = []
        for ch in word:
            known = first.get(ch)
            if known is None:
                readings = self._data.char(ch)
                if not readings:
                    return []
                known = first[ch] = toneless(readings.split(",", 1)[0])
            syllables.append(known)
        return [tuple(syllables)]

    def add_words(self, words: Iterable[tuple[str, int]], min_freq: int = 0) -> None:
        """Index more words (the catalog's names, place names); frequency ranks them."""
        with self._lock:
            for word, freq in words:
                if freq < min_freq or not word or len(word) > MAX_PIECES or not _is_han(word):
                    continue
                for syllables in self._readings_of(word):
                    if not all(syllables):
                        continue
                    # ≈ 1,300 distinct syllables in 140 k entries: one string each, not one per entry
                    syllables = tuple(map(sys.intern, syllables))
                    self._by_key["".join(s[0] for s in syllables)].append(_Entry(word, syllables, freq))
                    for syllable in syllables:
                        if syllable not in self._syllables:
                            self._syllables.add(syllable)
                            self._prefixes.update(syllable[:i] for i in range(1, len(syllable) + 1))
            self._sorted = False

    def _ensure_sorted(self) -> None:
        with self._lock:
            if self._sorted:
                return
            for entries in self._by_key.values():
                entries.sort(key=_by_frequency)
            best: dict[str, tuple[int, str]] = {}
            for key, entries in self._by_key.items():
                if len(key) != 1:
                    continue
                for entry in entries:
                    syllable = entry.syllables[0]
                    if syllable not in best or best[syllable][0] < entry.freq:
                        best[syllable] = (entry.freq, entry.word)
            self._best_char = {s: w for s, (_, w) in best.items()}
            surname_of: dict[str, str] = {}
            for surname in SURNAMES:
                reading = self._data.char(surname).split(",", 1)[0]
                surname_of.setdefault(toneless(reading), surname)
            self._surname = surname_of
            self._sorted = True

    @property
    def word_count(self) -> int:
        return sum(len(v) for v in self._by_key.values())

    # -- looking up -----------------------------------------------------------------

    def cuts(self, letters: str) -> list[tuple[str, ...]]:
        """Ways to cut ``letters`` into pieces, fewest pieces and fewest partial pieces first."""
        letters = letters.lower()
        found: list[tuple[str, ...]] = []

        def walk(rest: str, pieces: tuple[str, ...]) -> None:
            if len(found) >= MAX_CUTS * 4 or len(pieces) > MAX_PIECES:
                return
            if not rest:
                found.append(pieces)
                return
            if rest[0] == "'":
                walk(rest[1:], pieces)
                return
            chunk = rest.split("'", 1)[0]
            for end in range(min(len(chunk), 6), 0, -1):
                piece = chunk[:end]
                last = end == len(rest)
                if piece in self._syllables or piece in _INITIALS or (last and piece in self._prefixes):
                    walk(rest[end:], pieces + (piece,))

        walk(letters, ())
        found.sort(key=lambda cut: (len(cut), sum(p not in self._syllables for p in cut)))
        return found[:MAX_CUTS]

    def _matches(self, cut: tuple[str, ...], limit: int, exact: bool = False) -> Iterator[_Entry]:
        key = "".join(p[0] for p in cut)
        last = len(cut) if exact else len(cut) - 1  # exact: the last piece is whole too
        found = 0
        for entry in self._by_key.get(key, ()):
            ok = True
            for i, (piece, syllable) in enumerate(zip(cut, entry.syllables, strict=True)):
                if i < last and piece in self._syllables and piece not in _INITIALS:
                    ok = syllable == piece
                else:
                    ok = syllable.startswith(piece)
                if not ok:
                    break
            if ok:
                yield entry
                found += 1
                if found >= limit:
                    return

    def _compose_words(self, cut: tuple[str, ...]) -> str:
        """Left to right, the longest dictionary word at each point (广东省 + 梅州市), else a
        character: a surname when it is the first (王 + 晓明)."""
        parts: list[str] = []
        i = 0
        while i < len(cut):
            for j in range(min(len(cut), i + 4), i, -1):
                if j - i == 1:
                    single = self._surname.get(cut[i]) if i == 0 else None
                    parts.append(single or self._best_char[cut[i]])
                    break
                word = next(self._matches(cut[i:j], 1, exact=True), None)
                if word is not None:
                    parts.append(word.word)
                    break
            i = j
        return "".join(parts)

    def _compose_name(self, cut: tuple[str, ...]) -> str:
        """A surname for the first syllable, the commonest character for each other (张 + 三)."""
        head = self._surname.get(cut[0], self._best_char[cut[0]])
        return head + "".join(self._best_char[p] for p in cut[1:])

    def candidates(self, letters: str, limit: int = 50) -> list[Candidate]:
        """Ranked candidates for the typed ``letters`` (see the module docstring)."""
        letters = "".join(ch for ch in letters.lower() if ch.isascii() and (ch.isalpha() or ch == "'"))
        if not letters.strip("'") or limit <= 0:
            return []
        self._ensure_sorted()
        cuts = self.cuts(letters)
        out: dict[str, Candidate] = {}
        whole = len(letters)
        for cut in cuts:
            for entry in self._matches(cut, limit):
                out.setdefault(entry.word, Candidate(entry.word, whole))
            if len(out) >= limit:
                break
        for cut in cuts:  # composed phrases for what no dictionary holds as one word
            if len(cut) > 1 and all(p in self._best_char for p in cut):
                for composed in (self._compose_words(cut), self._compose_name(cut)):
                    out.setdefault(composed, Candidate(composed, whole))
                break
        for cut in cuts:  # characters for the first piece, covering only its letters
            if len(cut) < 2:
                continue
            consumed = letters.index(cut[0]) + len(cut[0])
            for entry in self._matches(cut[:1], limit):
                out.setdefault(entry.word, Candidate(entry.word, consumed))
            break
        return list(out.values())[:limit]
