"""Service items found by pinyin initials, full pinyin or a written character."""

from __future__ import annotations

import pytest

from kiosk.catalog import load_catalog
from kiosk.catalog_search import CatalogSearch, readings


@pytest.fixture(scope="module")
def search() -> CatalogSearch:
    return CatalogSearch(load_catalog())


def names(items) -> list[str]:
    return [item.name.zh for item in items]


def test_readings_are_phrase_aware():
    assert readings("生育登记") == ("sydj", "shengyudengji")
    assert readings("重庆") == ("cq", "chongqing")


def test_initials(search):
    assert names(search.find("sydj")) == ["生育登记"]
    assert names(search.find("cs"))[0].startswith("出生登记")


def test_full_pinyin_and_its_start(search):
    assert names(search.find("shengyu"))[0] == "生育登记"
    assert names(search.find("linshi")) == ["临时救助"]


def test_initials_prefix_ranks_above_a_match_inside(search):
    found = names(search.find("sh"))
    assert found[0] == "生育登记"  # its pinyin starts with sh; the others only contain it
    assert len(found) > 1


def test_a_written_character(search):
    found = names(search.find("生"))
    assert "生育登记" in found and "出生登记（新生儿入户）" in found
    assert all("生" in name for name in found)


def test_character_and_letters_together(search):
    # both only contain "dj" in their initials: same rank, so catalog order
    assert names(search.find("生 dj")) == ["出生登记（新生儿入户）", "生育登记"]


def test_nothing_and_junk(search):
    assert search.find("") == []
    assert search.find("   ") == []
    assert search.find("zzzzzz") == []
    assert search.find("<script>") == []
    assert len(search.find("b", limit=2)) == 2


def test_catalog_handwriting_puts_the_catalogs_characters_first():
    from dataclasses import dataclass

    from kiosk.catalog import load_catalog
    from kiosk.catalog_search import CatalogHandwriting

    @dataclass(frozen=True)
    class Candidate:
        text: str

    class Recognizer:  # answers in a fixed order, as Zinnia would for a badly written 生
        def candidates(self, strokes, width, height, limit=6):
            return [Candidate(ch) for ch in "主牛由乍缶年每垂生"][:limit]

    found = CatalogHandwriting(Recognizer(), load_catalog().items()).candidates([], 100, 100, limit=3)
    assert [c.text for c in found] == ["生", "主", "牛"]  # 生 (出生登记, 生育登记) first, then Zinnia's order


def test_same_results_as_a_search_read_by_pypinyin_itself(search, monkeypatch):
    """The readings come from ``kiosk.input.readings`` now, not ``pypinyin.lazy_pinyin``: every item
    reads the same and a list of queries finds the same items in the same order."""
    pypinyin = pytest.importorskip("pypinyin")
    import kiosk.catalog_search as module

    def by_pypinyin(text: str) -> tuple[str, str]:
        syllables = [s.lower() for s in pypinyin.lazy_pinyin(text, style=pypinyin.Style.NORMAL,
                                                              errors="default", v_to_u=False)]
        syllables = ["".join(ch for ch in s if ch.isalnum()) for s in syllables]
        syllables = [s for s in syllables if s]
        return "".join(s[0] for s in syllables), "".join(syllables)

    items = load_catalog().items()
    assert [readings(item.name.zh) for item in items] == [by_pypinyin(item.name.zh) for item in items]
    monkeypatch.setattr(module, "readings", by_pypinyin)
    reference = CatalogSearch(items)
    initials = {readings(item.name.zh)[0] for item in items}
    queries = ["sydj", "cs", "shengyu", "linshi", "sh", "生", "生 dj", "b", "d", "z", "zheng", "zm", "yl",
               "jiuzhu", "hk", "hukou", "证明", "登记", "a", "x", "zzzzzz", "", "<script>", "c s"]
    queries += sorted(initials) + sorted({i[:2] for i in initials})
    queries += [item.code.lower()[:4] for item in items]
    for query in queries:
        assert names(search.find(query, limit=50)) == names(reference.find(query, limit=50)), query
