"""Find a service item by pinyin initials, full pinyin or Chinese characters.

A villager who cannot type a whole name taps a few letters on the pinyin keyboard
(``csyx`` for 出生医学证明) or writes one character on the handwriting pad (生). The
readings of each item's Chinese name are worked out once when the search is built, from
pypinyin's data as ``kiosk.input.readings`` holds it (phrase-aware, so 重庆 reads chong qing,
the same readings as ``pypinyin.lazy_pinyin`` without its 45 MB of tables).

Ranking, best first: initials starting with the letters, full pinyin starting with them,
initials containing them, full pinyin containing them, then catalog order. Chinese in
the query matches names containing it. The search holds no personal data.

Building the first search reads pypinyin's data files (a fraction of a second, once per
process, ≈ 3 MB kept): build it off the UI thread.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kiosk.catalog import ServiceItem


@dataclass(frozen=True)
class _Entry:
    item: ServiceItem
    initials: str
    full: str
    order: int


def readings(text: str) -> tuple[str, str]:
    """(initials, full pinyin) of ``text``: 出生医学证明 -> (csyxzm, chushengyixuezhengming).

    Letters and digits in the name are kept as they are; other signs are dropped.
    """
    from kiosk.input.readings import NORMAL, pinyin_data

    syllables = [s.lower() for s in pinyin_data().syllables(text, NORMAL)]
    syllables = ["".join(ch for ch in s if ch.isalnum()) for s in syllables]
    syllables = [s for s in syllables if s]
    return "".join(s[0] for s in syllables), "".join(syllables)


class CatalogSearch:
    """Built once from the catalog's items; ``find`` is pure and cheap."""

    def __init__(self, items: Iterable[ServiceItem]) -> None:
        self._entries = []
        for order, item in enumerate(items):
            initials, full = readings(item.name.zh)
            self._entries.append(_Entry(item, initials, full, order))

    def find(self, query: str, limit: int = 20) -> list[ServiceItem]:
        """Items matching ``query`` (letters or Chinese), best first; empty query finds none."""
        query = "".join(query.split()).lower()
        if not query:
            return []
        han = "".join(ch for ch in query if not ch.isascii())
        letters = "".join(ch for ch in query if ch.isascii() and ch.isalnum())
        ranked: list[tuple[int, int, ServiceItem]] = []
        for entry in self._entries:
            rank = self._rank(entry, han, letters)
            if rank is not None:
                ranked.append((rank, entry.order, entry.item))
        ranked.sort(key=lambda r: (r[0], r[1]))
        return [item for _, _, item in ranked[:limit]]

    @staticmethod
    def _rank(entry: _Entry, han: str, letters: str) -> int | None:
        if han and han not in entry.item.name.zh:
            return None
        if not letters:
            return 0
        for rank, (text, prefix) in enumerate(((entry.initials, True), (entry.full, True),
                                               (entry.initials, False), (entry.full, False))):
            if (text.startswith(letters) if prefix else letters in text):
                return rank
        if entry.item.code.lower().startswith(letters):
            return 4
        return None


class CatalogHandwriting:
    """A handwriting recogniser for the catalog search: characters that occur in the items'
    names come first among its candidates (a villager writing 生 looks for 生育登记, not 牛).

    ``recognizer`` is a ``kiosk.input.handwriting.HandwritingRecognizer`` (or anything with
    its ``candidates(strokes, width, height, limit)``); this has the same method, so the
    handwriting pad takes either.
    """

    POOL = 24  # the recogniser's candidates looked at before the catalog's characters are put first

    def __init__(self, recognizer: Any, items: Iterable[ServiceItem]) -> None:
        self.recognizer = recognizer
        self.characters = {ch for item in items for ch in item.name.zh if not ch.isascii()}

    def candidates(self, strokes: Any, width: float, height: float, limit: int = 6) -> list[Any]:
        found = list(self.recognizer.candidates(strokes, width, height, limit=max(limit, self.POOL)))
        found.sort(key=lambda c: c.text not in self.characters)  # stable: the recogniser's order within
        return found[:limit]

    def close(self) -> None:
        close = getattr(self.recognizer, "close", None)
        if close is not None:
            close()
