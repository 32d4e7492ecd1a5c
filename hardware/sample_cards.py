"""Fictional sample cards for the simulator, the demo and the tests.

Every person, address and number here is made up. The ID numbers have the right shape
and a correct GB 11643 check character so that validation code accepts them.
"""

from __future__ import annotations

import hashlib
from datetime import date

from hardware.interfaces import CARD_RESIDENT, IdCard, gb11643_check_character

PHOTO_SIZE = 1024


def make_id_number(division: str, birth: date, sequence: int) -> str:
    """An 18-character number: division + birth date + 3-digit sequence + check character."""
    first17 = f"{division}{birth:%Y%m%d}{sequence:03d}"
    return first17 + gb11643_check_character(first17)


def fake_photo(seed: str = "sample") -> bytes:
    """1024 bytes standing in for the vendor-encoded photo (not an image at all)."""
    out = bytearray(b"FAKE-WLT")
    block = seed.encode()
    while len(out) < PHOTO_SIZE:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:PHOTO_SIZE])


# An elderly villager in Chaozhou, Guangdong: over 46 at issue, so a long-term (长期) card.
ELDERLY_VILLAGER = IdCard(
    card_type=CARD_RESIDENT,
    name="陈桂英",
    sex="female",
    ethnicity="汉",
    birth_date=date(1951, 3, 15),
    address="广东省潮州市饶平县示范镇样板村三巷8号",
    id_number=make_id_number("445122", date(1951, 3, 15), 24),
    issuer="饶平县公安局",
    valid_from=date(2016, 5, 20),
    valid_to=None,
    photo=fake_photo("elderly"),
)

# A middle-aged villager (Yao, from Liannan, Guangdong): a 20-year card, still valid.
MIDDLE_AGED_VILLAGER = IdCard(
    card_type=CARD_RESIDENT,
    name="盘志强",
    sex="male",
    ethnicity="瑶",
    birth_date=date(1978, 11, 2),
    address="广东省清远市连南瑶族自治县示范镇演示村12号",
    id_number=make_id_number("441826", date(1978, 11, 2), 37),
    issuer="连南瑶族自治县公安局",
    valid_from=date(2019, 8, 1),
    valid_to=date(2039, 8, 1),
    photo=fake_photo("middle-aged"),
)

# A young villager whose 10-year card has expired.
EXPIRED_CARD = IdCard(
    card_type=CARD_RESIDENT,
    name="林小梅",
    sex="female",
    ethnicity="汉",
    birth_date=date(1996, 7, 9),
    address="广东省梅州市大埔县示范镇试验村5号",
    id_number=make_id_number("441422", date(1996, 7, 9), 62),
    issuer="大埔县公安局",
    valid_from=date(2013, 4, 10),
    valid_to=date(2023, 4, 10),
    photo=fake_photo("expired"),
)

SAMPLE_CARDS: dict[str, IdCard] = {
    "elderly": ELDERLY_VILLAGER,
    "middle_aged": MIDDLE_AGED_VILLAGER,
    "expired": EXPIRED_CARD,
}
