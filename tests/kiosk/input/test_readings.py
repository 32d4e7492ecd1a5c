"""Readings from pypinyin's data held compactly: the same as pypinyin's own, on its whole data.

pypinyin is imported here (its 45 MB of tables in the test process only) as the reference.
"""

from __future__ import annotations

import random
import re
import threading

import pytest

from kiosk.catalog import load_catalog
from kiosk.i18n import TRANSLATIONS_DIR, read_catalogs
from kiosk.input import readings
from kiosk.input.readings import NORMAL, TONE3, PinyinData, PinyinDataUnavailable, pinyin_data, styled

pypinyin = pytest.importorskip("pypinyin")
from pypinyin import Style, lazy_pinyin  # noqa: E402
from pypinyin.constants import RE_HANS  # noqa: E402
from pypinyin.phrases_dict import phrases_dict  # noqa: E402
from pypinyin.pinyin_dict import pinyin_dict  # noqa: E402


def reference(text: str, style: str) -> list[str]:
    if style == NORMAL:
        return lazy_pinyin(text, style=Style.NORMAL, errors="default", v_to_u=False)
    return lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)


@pytest.fixture(scope="module")
def data() -> PinyinData:
    return pinyin_data()


def test_every_phrase_and_character_is_held(data):
    assert data.phrase_count == len(phrases_dict) and data.char_count == len(pinyin_dict)
    for phrase, syllables in phrases_dict.items():
        assert data.phrase(phrase) == tuple(s[0] for s in syllables), phrase
    for code, joined in pinyin_dict.items():
        assert data.char(chr(code)) == joined
    assert data.phrase("不是一个词语呢") is None and data.char("A") == ""


def test_every_reading_is_styled_as_pypinyin_styles_it(data):
    # one character or phrase carrying each distinct reading, through pypinyin's whole path
    carriers: dict[str, str] = {}
    for code, joined in pinyin_dict.items():
        carriers.setdefault(joined.split(",")[0], chr(code))
    for phrase, syllables in phrases_dict.items():
        for reading in (s[0] for s in syllables):
            carriers.setdefault(reading, phrase)
    for reading, text in carriers.items():
        for style in (NORMAL, TONE3):
            assert data.syllables(text, style) == reference(text, style), (reading, style)
    assert styled("lǜ", NORMAL) == "lv" and styled("lǜ", TONE3) == "lv4" and styled("ma", TONE3) == "ma5"


def test_chinese_characters_are_the_ones_pypinyin_reads():
    ours = re.compile(f"[{readings.HAN_CHARACTER}]")
    theirs = [cp for cp in range(0x3000, 0x32400) if RE_HANS.match(chr(cp))]
    assert theirs == [cp for cp in range(0x3000, 0x32400) if ours.match(chr(cp))]


def texts() -> list[str]:
    catalog = load_catalog()
    names = [item.name.zh for item in catalog.items()]
    prompts = list(read_catalogs(TRANSLATIONS_DIR)["zh"].values())
    rng = random.Random(2026)
    phrases = sorted(phrases_dict)
    joined = ["".join(rng.sample(phrases, 3)) for _ in range(1500)]  # cuts across phrase borders
    odd = ["", " ", "重庆", "长大了", "出生医学证明 ABC-1 号", "a中b", "〇号", "龘靐x", "𠀀𠀁", "嗯呣",
           "1998年"]
    return names + prompts + joined + odd


@pytest.mark.parametrize("style", [NORMAL, TONE3])
def test_texts_read_as_lazy_pinyin_reads_them(data, style):
    wrong = [t for t in texts() if data.syllables(t, style) != reference(t, style)]
    assert wrong == []


def test_built_once_and_shared_between_threads():
    got: list[PinyinData] = []
    threads = [threading.Thread(target=lambda: got.append(pinyin_data())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 4 and all(d is got[0] for d in got)


def test_missing_data_is_a_typed_error(tmp_path):
    with pytest.raises(PinyinDataUnavailable) as caught:
        PinyinData(tmp_path)
    assert caught.value.message_key == "input.pinyin_unavailable"
    assert isinstance(caught.value, ImportError)  # what PinyinIndex.load turns into PinyinUnavailable
