"""Pinyin candidates: small word lists for the rules, jieba's whole dictionary for the real thing."""

from __future__ import annotations

import pytest

from kiosk.input.pinyin import PinyinIndex, toneless

WORDS = [("张三", 50), ("知识", 800), ("这是", 900), ("张", 700), ("长", 900), ("三", 600),
         ("西安", 300), ("先", 500), ("身份证", 400), ("绿", 100), ("你好", 300), ("你", 1000)]


@pytest.fixture(scope="module")
def small() -> PinyinIndex:
    return PinyinIndex.load(WORDS)


@pytest.fixture(scope="module")
def full() -> PinyinIndex:
    return PinyinIndex.load()  # jieba's dictionary: ~1 s on an idle machine


def texts(index: PinyinIndex, letters: str, limit: int = 10) -> list[str]:
    return [c.text for c in index.candidates(letters, limit)]


def test_toneless():
    assert toneless("zhāng") == "zhang"
    assert toneless("lǜ") == "lv"


def test_full_pinyin_and_initials_find_the_phrase(small):
    assert "张三" in texts(small, "zhangsan")
    assert "张三" in texts(small, "zs")
    assert "张三" in texts(small, "zhangs")
    assert "张三" in texts(small, "zhang'san")


def test_more_frequent_first(small):
    assert texts(small, "zs")[:3] == ["这是", "知识", "张三"]


def test_heteronyms_index_every_reading(small):
    assert "长" in texts(small, "zhang") and "长" in texts(small, "chang")


def test_whole_syllables_must_match_exactly_except_the_last(small):
    # "xian" is the syllable xian (先) or xi + an (西安), never xiang
    assert texts(small, "xian")[0] == "先"
    assert "西安" in texts(small, "xi'an")


def test_v_is_u_umlaut(small):
    assert texts(small, "lv") == ["绿"]


def test_partial_candidates_say_what_they_cover(small):
    candidates = small.candidates("nihao")
    assert candidates[0].text == "你好" and candidates[0].consumed == 5
    ni = next(c for c in candidates if c.text == "你")
    assert ni.consumed == 2


def test_names_no_dictionary_holds_are_composed(small):
    index = PinyinIndex.load([("张", 700), ("长", 900), ("四", 300)])
    assert texts(index, "zhangsi")[0] == "张四"  # the surname, not the commoner 长


def test_hostile_input_gives_nothing_or_something_but_no_error(small):
    assert texts(small, "") == []
    assert texts(small, "'''") == []
    assert texts(small, "123 !?") == []
    assert isinstance(texts(small, "q" * 500), list)
    assert isinstance(texts(small, "zhang" * 40), list)
    assert texts(small, "ZS")[:1] == ["这是"]


def test_added_words_rank_by_their_frequency(small):
    index = PinyinIndex.load(WORDS)
    index.add_words([("张散", 10_000)])
    assert texts(index, "zs")[0] == "张散"


def test_the_real_dictionary(full):
    assert full.word_count > 100_000
    assert texts(full, "sfz")[0] == "身份证"
    assert texts(full, "nihao")[0] == "你好"
    assert texts(full, "shenfenzheng")[0] == "身份证"
    assert "张三" in texts(full, "zhangsan", 5)
    assert "张" in texts(full, "zhang", 5)
    assert "出生" in texts(full, "chusheng", 3)


def test_long_input_is_composed_from_words(small):
    index = PinyinIndex.load([("广东", 900), ("广东省", 500), ("梅州", 300), ("市", 800), ("没", 900),
                              *((ch, 100) for ch in "广东省梅州")])
    assert texts(index, "guangdongshengmeizhoushi")[0] == "广东省梅州市"


def test_the_real_dictionary_composes_places_and_names(full):
    assert "广东省梅州市" in texts(full, "guangdongshengmeizhoushi", 5)
    assert "王晓明" in texts(full, "wangxiaoming", 5)
