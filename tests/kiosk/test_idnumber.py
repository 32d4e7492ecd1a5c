import logging
from datetime import date

import pytest

from kiosk.errors import InvalidIdNumber
from kiosk.idnumber import (
    check_char,
    division_status,
    load_division_table,
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
    assert info.division_code == "110105" and info.region == "北京市朝阳区" and not info.legacy


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


def test_retired_and_partial_divisions(caplog):
    assert region_name("441421") == "广东省梅州市梅县"  # retired in 2013, still on cards
    assert division_status("441421") == "retired"
    assert region_name("440105") == "广东省广州市海珠区"
    assert region_name("440199") == "广东省广州市"  # a county the table lacks: its city
    assert region_name("440000") == "广东省"
    assert region_name("440101") == "广东省广州市"  # 市辖区 is no place name
    number = make_id("441421", date(1960, 5, 5), 12)
    with caplog.at_level(logging.WARNING, logger="kiosk.idnumber"):
        info = validate_id_number(number)
    assert info.division_status == "retired" and info.region == "广东省梅州市梅县"
    assert "retired" in caplog.text and number not in caplog.text
    assert validate_id_number(make_id("441403", date(1960, 5, 5), 12)).division_status == "current"


def test_division_table_is_the_full_gb2260_list():
    table = load_division_table()
    assert len(table) > 6000
    current = {c: d for c, d in table.items() if d.status == "current"}
    provinces = [c for c in current if c.endswith("0000")]
    assert len(provinces) == 34
    cities = [c for c in current if c.startswith("44") and c.endswith("00") and c != "440000"]
    assert len(cities) == 21
    assert sum(1 for c in current if c.startswith("44") and not c.endswith("00")) > 120
    assert {d.status for d in table.values()} == {"current", "retired"}
    assert all(len(c) == 6 and c.isdigit() for c in table)
    assert load_divisions()["445122"] == "饶平县"


def test_a_sample_table_with_two_columns_still_loads(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("# a comment\ncode,name\n440000,广东省\n", encoding="utf-8")
    assert load_division_table(path)["440000"].status == "current"
    path = tmp_path / "e.csv"
    path.write_text("code,name,status,last_revision\n440000,广东省,gone,2019\n", encoding="utf-8")
    with pytest.raises(ValueError, match="status"):
        load_division_table(path)


def test_mask():
    assert mask_id_number("44142319500601041x") == "44**************1X"
    assert mask_id_number("441423500601041") == "44***********41"
    assert mask_id_number("123") == "***"
