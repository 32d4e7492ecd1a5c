"""The 256-byte text block: the four layouts, both ways, and malformed blocks."""

from dataclasses import replace
from datetime import date

import pytest

from hardware.errors import CardDataError, UnsupportedCard
from hardware.interfaces import CARD_FOREIGN_PERMANENT, CARD_HK_MACAU_TAIWAN, CARD_RESIDENT, IdCard
from hardware.sam_text import (
    BLOCK_SIZE,
    ETHNICITY_BY_CODE,
    card_mark,
    decode_text_block,
    encode_text_block,
)
from hardware.sample_cards import (
    ELDERLY_VILLAGER,
    EXPIRED_CARD,
    MIDDLE_AGED_VILLAGER,
    SAMPLE_CARDS,
    gb11643_check_character,
)

PERMIT = IdCard(
    card_type=CARD_HK_MACAU_TAIWAN,
    name="何嘉欣",
    sex="female",
    ethnicity=None,
    birth_date=date(1990, 2, 28),
    address="广东省珠海市香洲区示范路1号",
    id_number="810000199002280048",
    issuer="珠海市公安局",
    valid_from=date(2021, 1, 5),
    valid_to=date(2026, 1, 5),
    permit_number="H12345678",
    issue_count="01",
)
FOREIGN_OLD = IdCard(
    card_type=CARD_FOREIGN_PERMANENT,
    name="史密斯",
    sex="male",
    ethnicity=None,
    birth_date=date(1970, 6, 1),
    address="",
    id_number="GBR440070060121",
    issuer="1500",
    valid_from=date(2015, 3, 1),
    valid_to=date(2025, 3, 1),
    english_name="SMITH, JOHN EXAMPLE",
    nationality="GBR",
    card_version="05",
)
FOREIGN_2023 = IdCard(
    card_type=CARD_FOREIGN_PERMANENT,
    name="马丁",
    sex="male",
    ethnicity=None,
    birth_date=date(1985, 12, 24),
    address="",
    id_number="944250198512240013",
    issuer="",
    valid_from=date(2023, 12, 1),
    valid_to=date(2033, 12, 1),
    issue_count="00",
    english_name="MARTINEZ GARCIA, ALEJANDRO FRANCISCO DE LA",  # longer than part one
    nationality="ESP",
    old_number_link="ABC",
)


@pytest.mark.parametrize(
    ("card", "mark"),
    [(ELDERLY_VILLAGER, " "), (MIDDLE_AGED_VILLAGER, " "), (EXPIRED_CARD, " "), (PERMIT, "J"),
     (FOREIGN_OLD, "I"), (FOREIGN_2023, "Y")],
)  # fmt: skip
def test_round_trip_for_every_layout(card, mark):
    block = encode_text_block(card)
    assert len(block) == BLOCK_SIZE
    assert card_mark(block) == mark
    again = decode_text_block(block, photo=card.photo)
    assert again == card
    assert again.photo == card.photo
    for name in ("permit_number", "issue_count", "english_name", "nationality", "card_version"):
        assert getattr(again, name) == getattr(card, name)


def _block(fields: dict[int, str], mark: str = " ") -> bytes:
    chars = [" "] * 128
    for offset, text in fields.items():
        chars[offset // 2 : offset // 2 + len(text)] = list(text)
    chars[124] = mark
    return "".join(chars).encode("utf-16-le")


def test_decodes_a_hand_built_resident_block():
    block = _block(
        {0: "王大山", 30: "1", 32: "08", 36: "19450101", 52: "广东省某县某村1号", 122: "44512219450101001X",
         158: "某县公安局", 188: "20100101", 204: "长期"}
    )  # fmt: skip
    card = decode_text_block(block)
    assert card.card_type == CARD_RESIDENT
    assert (card.name, card.sex, card.ethnicity) == ("王大山", "male", "壮")
    assert card.birth_date == date(1945, 1, 1)
    assert card.id_number == "44512219450101001X"
    assert card.valid_to is None and not card.is_expired(date(2099, 1, 1))


def test_nul_type_mark_and_nul_padding_mean_a_resident_card():
    block = bytearray(encode_text_block(ELDERLY_VILLAGER))
    block[248:250] = b"\x00\x00"
    block[230:248] = bytes(18)
    assert decode_text_block(bytes(block)) == ELDERLY_VILLAGER


def test_the_ethnicity_table_is_complete():
    assert len(ETHNICITY_BY_CODE) == 58
    assert [f"{i:02d}" for i in range(1, 57)] + ["97", "98"] == list(ETHNICITY_BY_CODE)
    assert (ETHNICITY_BY_CODE["01"], ETHNICITY_BY_CODE["56"]) == ("汉", "基诺")
    assert ETHNICITY_BY_CODE["98"] == "外国血统中国籍人士"


@pytest.mark.parametrize(
    ("code", "sex"), [("0", "unknown"), ("1", "male"), ("2", "female"), ("9", "unspecified")]
)
def test_sex_codes(code, sex):
    block = bytearray(encode_text_block(ELDERLY_VILLAGER))
    block[30:32] = code.encode("utf-16-le")
    assert decode_text_block(bytes(block)).sex == sex


def _patched(offset: int, text: str, card: IdCard = ELDERLY_VILLAGER) -> bytes:
    block = bytearray(encode_text_block(card))
    raw = text.encode("utf-16-le")
    block[offset : offset + len(raw)] = raw
    return bytes(block)


@pytest.mark.parametrize(
    ("block", "field"),
    [
        (_patched(36, "19511399"), "birth_date"),
        (_patched(36, "1951031 "), "birth_date"),
        (_patched(188, "        "), "valid_from"),
        (_patched(204, "长久"), "valid_to"),
        (_patched(30, "5"), "sex"),
        (_patched(32, "77"), "ethnicity"),
    ],
)
def test_malformed_fields_raise_card_data_error_without_the_value(block, field):
    with pytest.raises(CardDataError, match=field) as info:
        decode_text_block(block)
    assert "1951" not in str(info.value) and "陈" not in str(info.value)
    assert info.value.message_key == "hardware.card_read_failed"


def test_wrong_size_and_undecodable_blocks():
    with pytest.raises(CardDataError, match="255 bytes"):
        decode_text_block(bytes(255))
    block = bytearray(encode_text_block(ELDERLY_VILLAGER))
    block[0:2] = b"\x00\xd8"  # a lone UTF-16 surrogate
    with pytest.raises(CardDataError, match="name"):
        decode_text_block(bytes(block))


def test_unknown_card_type_is_unsupported():
    with pytest.raises(UnsupportedCard) as info:
        decode_text_block(_patched(248, "Q"))
    assert info.value.message_key == "hardware.card_unsupported"


def test_encode_refuses_fields_that_do_not_fit():
    with pytest.raises(ValueError, match="name"):
        encode_text_block(replace(ELDERLY_VILLAGER, name="很长" * 10))
    with pytest.raises(ValueError, match="card type"):
        encode_text_block(replace(ELDERLY_VILLAGER, card_type="library"))


def test_sample_cards_are_plausible():
    today = date(2025, 6, 1)
    for card in SAMPLE_CARDS.values():
        number = card.id_number
        assert len(number) == 18 and number[:2] == "44"  # Guangdong
        assert number[17] == gb11643_check_character(number[:17])
        assert number[6:14] == card.birth_date.strftime("%Y%m%d")
        assert (int(number[16]) % 2 == 1) == (card.sex == "male")
        assert len(card.photo) == 1024
        assert "陈" not in repr(card) and number not in repr(card)
    assert ELDERLY_VILLAGER.valid_to is None and ELDERLY_VILLAGER.birth_date.year < 1960
    assert EXPIRED_CARD.is_expired(today) and not MIDDLE_AGED_VILLAGER.is_expired(today)


def test_check_character_known_value():
    # The worked example of GB 11643-1999.
    assert gb11643_check_character("11010519491231002") == "X"


@pytest.mark.parametrize("english", ["A" * 34 + " BC", "A" * 35 + " B", "A" * 35, "A" * 46])
def test_a_2023_english_name_split_at_any_point_comes_back_whole(english):
    card = replace(FOREIGN_2023, english_name=english)
    assert decode_text_block(encode_text_block(card)).english_name == english
