import json
import re
import uuid
from datetime import date

import pytest

from kiosk.applications import (
    Application,
    PlainAttachment,
    build_application,
    device_short,
    prefill_fields,
    provisional_number,
    validate_fields,
)
from kiosk.catalog import load_catalog
from kiosk.errors import ApplicationInvalid
from kiosk.privacy import applicant_tag
from kiosk.visit import Page, VisitKeeper

from .conftest import make_card, make_id

CATALOG = load_catalog()
PENSION = CATALOG.get("GD-SAMPLE-001")
BIRTH = CATALOG.get("GD-SAMPLE-008")


def test_prefill_from_card():
    card = make_card()
    values = prefill_fields(PENSION, card)
    assert values == {"name": card.name, "id_number": card.id_number, "address": card.address}
    longevity = prefill_fields(CATALOG.get("GD-SAMPLE-009"), card)
    assert longevity["birth_date"] == "1950-06-01"
    births = prefill_fields(CATALOG.get("GD-SAMPLE-013"), card)
    assert births["sex"] == "female"
    assert "sex" not in prefill_fields(CATALOG.get("GD-SAMPLE-013"), make_card(sex="unspecified"))


def good_values(card):
    return {**prefill_fields(PENSION, card), "phone": "13812345678", "grade": "360", "bank": "rcb"}


def test_validate_fields():
    card = make_card()
    assert validate_fields(PENSION, good_values(card)) == {}
    errors = validate_fields(PENSION, {"name": "  ", "id_number": "123", "phone": "12345", "grade": "99"})
    assert errors == {
        "name": "kiosk.field.required",
        "id_number": "kiosk.field.id_number_invalid",
        "phone": "kiosk.field.phone_invalid",
        "grade": "kiosk.field.choice_invalid",
        "bank": "kiosk.field.required",
        "address": "kiosk.field.required",
    }
    assert validate_fields(PENSION, {**good_values(card), "phone": "0753-2212345"}) == {}
    too_long = {**good_values(card), "name": "名" * 31}
    assert validate_fields(PENSION, too_long) == {"name": "kiosk.field.too_long"}


def test_validate_dates_and_numbers():
    card = make_card()
    values = {**prefill_fields(BIRTH, card), "relation": "mother", "baby_name": "小明", "baby_sex": "male",
              "baby_birth_date": "2026-02-30", "phone": "13812345678"}
    assert validate_fields(BIRTH, values) == {"baby_birth_date": "kiosk.field.date_invalid"}
    homestead = CATALOG.get("GD-SAMPLE-010")
    errors = validate_fields(homestead, {"household_size": "four", "area_m2": "12.5"})
    assert errors["household_size"] == "kiosk.field.number_invalid" and "area_m2" not in errors


def make_session(clock, item=PENSION, pages=True):
    session = VisitKeeper(120, clock).start()
    session.card = make_card()
    session.service_code = item.code
    session.fields.update(good_values(session.card))
    if pages:
        session.add_page(Page(item.capture_materials()[0].id, b"JPEG-1", "image/jpeg", 800, 600))
    return session


def test_build_application(clock, tmp_path):
    session = make_session(clock)
    session.add_page(Page("M2", b"JPEG-2", "image/jpeg", 800, 600))  # an extra page is fine
    app = build_application(session, PENSION, device_id="kiosk-3f9a1c2e", county="441423", sequence=7,
                            clock=clock, tag_key_dir=tmp_path)
    assert isinstance(app, Application)
    assert uuid.UUID(app.id).version == 4
    # 2025-11-28 03:20 UTC = 11:20 China time; eight random digits make the receipt number unguessable
    assert re.fullmatch(r"K3F9A-20251128-0007-\d{8}", app.provisional_number)
    assert app.created_at == "2025-11-28T03:20:00Z"
    assert app.service_code == "GD-SAMPLE-001" and app.county == "441423" and app.visits_needed == 0
    assert app.applicant_tag == applicant_tag(session.card.id_number, tmp_path)
    assert app.attachments == (PlainAttachment("M1", b"JPEG-1", "image/jpeg", 1),
                               PlainAttachment("M2", b"JPEG-2", "image/jpeg", 1))
    assert app.page_count == 2
    doc = app.document
    assert doc["id"] == app.id and doc["kiosk"] == "kiosk-3f9a1c2e" and doc["created_at"] == app.created_at
    assert doc["applicant"]["name"] == "黄秀梅" and doc["applicant"]["phone"] == "13812345678"
    assert doc["applicant"]["birth_date"] == "1950-06-01"
    assert doc["fields"]["grade"] == "360"
    assert [a["material"] for a in doc["attachments"]] == ["M1", "M2"]
    json.dumps(doc, ensure_ascii=False)
    assert "黄秀梅" not in repr(app) and session.card.id_number not in repr(app)
    with pytest.raises(AttributeError):
        app.id = "x"


def test_card_fields_come_from_the_card(clock, tmp_path):
    session = make_session(clock)
    session.fields["name"] = "someone else"
    app = build_application(session, PENSION, device_id="kiosk-0001", county="441423", sequence=1,
                            clock=clock, tag_key_dir=tmp_path)
    assert app.document["fields"]["name"] == "黄秀梅"
    assert app.provisional_number.startswith("K0001-")


def test_invalid_fields_and_missing_material(clock, tmp_path):
    session = make_session(clock, pages=False)
    session.fields["phone"] = "123"
    with pytest.raises(ApplicationInvalid) as info:
        build_application(session, PENSION, device_id="d", county="441423", sequence=1, clock=clock,
                          tag_key_dir=tmp_path)
    assert info.value.errors == {"phone": "kiosk.field.phone_invalid", "M1": "kiosk.material.missing"}
    assert info.value.message_key == "kiosk.application_invalid"


def test_only_required_materials_need_pages(clock, tmp_path):
    """The ID card material is covered by the card read; optional materials need nothing."""
    item = CATALOG.get("GD-SAMPLE-004")
    session = make_session(clock, item)
    session.fields.update({"household_size": "3", "reason": "illness"})
    app = build_application(session, item, device_id="d", county="441423", sequence=2, clock=clock,
                            tag_key_dir=tmp_path)
    assert [a.material for a in app.attachments] == ["M1"]


def test_every_item_builds_with_one_page_of_its_first_required_material(clock, tmp_path):
    card = make_card()
    samples = {"phone": "13812345678", "text": "样例", "number": "3", "date": "2025-01-02",
               "id_number": make_id("441423", date(1990, 1, 1), 11)}
    for item in CATALOG.items():
        session = VisitKeeper(120, clock).start()
        session.card = card
        for f in item.fields:
            session.fields[f.id] = f.choices[0].value if f.choices else samples[f.kind]
        session.add_page(Page(item.required_materials()[0].id, b"JPEG"))
        app = build_application(session, item, device_id="kiosk-0001", county="441423", sequence=1,
                                clock=clock, tag_key_dir=tmp_path)
        assert app.visits_needed == item.visits_needed


def test_refuses_without_card_wrong_service_or_unknown_material(clock, tmp_path):
    session = make_session(clock)
    session.add_page(Page("M9", b"x"))
    with pytest.raises(ApplicationInvalid) as info:
        build_application(session, PENSION, device_id="d", county="c", sequence=1, clock=clock,
                          tag_key_dir=tmp_path)
    assert info.value.errors == {"M9": "kiosk.material.unknown"}
    session.service_code = "GD-SAMPLE-002"
    with pytest.raises(ApplicationInvalid, match="service_code"):
        build_application(session, PENSION, device_id="d", county="c", sequence=1, clock=clock,
                          tag_key_dir=tmp_path)
    session.card = None
    with pytest.raises(ApplicationInvalid, match="card"):
        build_application(session, PENSION, device_id="d", county="c", sequence=1, clock=clock,
                          tag_key_dir=tmp_path)


def test_provisional_numbers():
    assert device_short("kiosk-3f9a1c2e") == "3F9A"
    assert device_short("kiosk-7") == "0007"
    assert device_short("A1") == "00A1"
    # 2025-11-28 16:30 UTC is already the 29th in China
    assert provisional_number("kiosk-0001", 12, 1764347400, "48302917") == "K0001-20251129-0012-48302917"
    assert re.fullmatch(r"K0001-\d{8}-12345-\d{8}", provisional_number("kiosk-0001", 12345, 0))
    # the random part: two receipts of the same kiosk, day and sequence differ (odds 1 in 10^8)
    assert len({provisional_number("kiosk-0001", 7, 0) for _ in range(5)}) > 1
    with pytest.raises(ValueError):
        provisional_number("kiosk-0001", -1, 0)
    with pytest.raises(ValueError):
        provisional_number("kiosk-0001", 1, 0, "1234")


def test_a_card_that_would_not_read_typed_number_and_written_name(clock, tmp_path):
    """Issue 10: the ID number typed on the identify screen, the name and address written on the form."""
    session = make_session(clock)
    card = session.card
    session.card = None
    session.typed_id_number = card.id_number
    session.fields.update({"name": "王三", "address": "演示村12号"})
    app = build_application(session, PENSION, device_id="kiosk-3f9a1c2e", county="441423", sequence=1,
                            clock=clock, tag_key_dir=tmp_path)
    applicant = app.document["applicant"]
    assert (applicant["name"], applicant["address"], applicant["id_number"]) == ("王三", "演示村12号",
                                                                                 card.id_number)
    assert applicant["birth_date"] == "1950-06-01" and applicant["identity_source"] == "typed_id_number"
    assert applicant["issuer"] is None and applicant["valid_to"] is None  # nothing was read from a card
    session.fields["name"] = " "
    with pytest.raises(ApplicationInvalid) as caught:
        build_application(session, PENSION, device_id="kiosk-3f9a1c2e", county="441423", sequence=2,
                          clock=clock, tag_key_dir=tmp_path)
    assert caught.value.errors == {"name": "kiosk.field.required"}
