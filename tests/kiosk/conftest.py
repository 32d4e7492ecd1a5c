"""Fixtures for the kiosk core tests: fictional cards and numbers."""

from __future__ import annotations

from datetime import date

import pytest

from hardware.interfaces import CARD_RESIDENT, IdCard
from tests.support.clock import ManualClock

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(division: str, birth: date, sequence: int) -> str:
    first17 = f"{division}{birth:%Y%m%d}{sequence:03d}"
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def make_card(**changes) -> IdCard:
    values = dict(
        card_type=CARD_RESIDENT,
        name="黄秀梅",
        sex="female",
        ethnicity="汉",
        birth_date=date(1950, 6, 1),
        address="广东省梅州市丰顺县示范镇样板村一巷2号",
        id_number=make_id("441423", date(1950, 6, 1), 42),
        issuer="丰顺县公安局",
        valid_from=date(2015, 1, 1),
        valid_to=None,
        photo=b"PHOTO" * 10,
    )
    values.update(changes)
    return IdCard(**values)


@pytest.fixture
def card() -> IdCard:
    return make_card()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
