import logging
from datetime import date

import pytest

from kiosk.errors import InvalidIdNumber
from kiosk.idnumber import (
    check_char,
    load_divisions,
    mask_id_number,
    region_name,
    upgrade_15_to_18,
    validate_id_number,
)

from .conftest import make_id


def test_known_sample_number():
    info = validate_id_number("11010519491231002X")
    assert info.birth_date == date(1949, 12, 31) and info.sex == "female"
    assert info.division_code == "110105" and info.region == "北京市" and not info.legacy


def test_valid_guangdong_number():
    number = make_id("441423", date(1950, 6, 1), 41)
    info = validate_id_number(number)
    assert info.sex == "male" and info.birth_date == date(1950, 6, 1)
    assert info.region == "广东省梅州市丰顺县" and info.kind == "resident"


def test_lowercase_x_and_spaces_are_accepted():
    assert validate_id_number(" 11010519491231002x ").sex == "female"


def test_wrong_check_character():
    number = make_id("441423", date(1950, 6, 1), 41)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(InvalidIdNumber) as info:
        validate_id_number(wrong)
    assert info.value.message_key == "kiosk.invalid_id_number"
    assert wrong not in str(info.value)


@pytest.mark.parametrize(
    "bad",
    ["", "123", "44142319500601041", "4414231950060104X1", "44142319500601A41X",
     "４４１４２３１９５００６０１０４１X"],
)
def test_malformed(bad):
    with pytest.raises(InvalidIdNumber):
        validate_id_number(bad)


def test_bad_and_future_dates():
    first17 = "441423" + "19500230" + "041"  # 30 February
    with pytest.raises(InvalidIdNumber, match="real date"):
        validate_id_number(first17 + check_char(first17))
    future = make_id("441423", date(2030, 1, 1), 41)
    with pytest.raises(InvalidIdNumber, match="out of range"):
        validate_id_number(future, today=date(2026, 1, 1))


def test_fifteen_digit_numbers():
    info = validate_id_number("441423500601041")
    assert info.legacy and info.birth_date == date(1950, 6, 1) and info.sex == "male"
    assert info.region == "广东省梅州市丰顺县"
    with pytest.raises(InvalidIdNumber):
        validate_id_number("441423501301041")  # month 13
    assert upgrade_15_to_18("441423500601041") == make_id("441423", date(1950, 6, 1), 41)


def test_hong_kong_macau_taiwan_permits():
    for division, region in (("810000", "香港"), ("820000", "澳门"), ("830000", "台湾")):
        info = validate_id_number(make_id(division, date(1980, 2, 29), 12))
        assert info.kind == "hk_macau_taiwan" and info.region == region and info.sex == "female"


def test_unknown_division_is_a_warning(caplog):
    number = make_id("990101", date(1970, 1, 1), 1)
    with caplog.at_level(logging.WARNING, logger="kiosk.idnumber"):
        info = validate_id_number(number)
    assert info.region is None
    assert caplog.records and number not in caplog.text


def test_retired_and_partial_divisions():
    assert region_name("441421") == "广东省梅州市梅县"  # retired in 2013, still on cards
    assert region_name("440105") == "广东省广州市"  # county not in the sample table
    assert region_name("440000") == "广东省"


def test_division_table_has_every_province_and_guangdong_city():
    table = load_divisions()
    provinces = [c for c in table if c.endswith("0000")]
    assert len(provinces) == 34
    cities = [c for c in table if c.startswith("44") and c.endswith("00") and c != "440000"]
    assert len(cities) == 21


def test_mask():
    assert mask_id_number("44142319500601041x") == "44**************1X"
    assert mask_id_number("441423500601041") == "44***********41"
    assert mask_id_number("123") == "***"
