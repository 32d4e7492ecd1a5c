"""POST /api/v1/enrolment against a real hall (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import create_engine, update

from hall.models import EnrolmentCode
from hall.services.enrolment import CODE_REFUSED
from tests.hall.kiosk_client import enroll


def test_health_is_unsigned(hall):
    assert requests.get(hall.url + "/api/v1/health", timeout=5).json() == {"status": "ok"}


def test_good_code_enrols_a_device(hall):
    response = enroll(hall.url, hall.enrollment_code())
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["device_id"].startswith("kiosk-")
    assert answer["county"] == "441423"
    assert len(base64.b64decode(answer["hall_seal_public_key"])) == 32
    assert len(base64.b64decode(answer["hall_sign_public_key"])) == 32
    assert any(d["device_id"] == answer["device_id"] for d in hall.devices())


def test_code_is_single_use(hall):
    code = hall.enrollment_code()
    assert enroll(hall.url, code).status_code == 201
    again = enroll(hall.url, code)
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_code", "detail": CODE_REFUSED}


def test_code_is_case_and_dash_insensitive(hall):
    code = hall.enrollment_code().lower().replace("-", "")
    assert enroll(hall.url, code).status_code == 201


def test_expired_code_is_refused(hall):
    code = hall.enrollment_code()
    engine = create_engine(hall.db_url)
    with engine.begin() as conn:
        conn.execute(update(EnrolmentCode).where(EnrolmentCode.code == code)
                     .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    engine.dispose()
    response = enroll(hall.url, code)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_code", "detail": CODE_REFUSED}


def test_unknown_code_and_bad_bodies(hall):
    assert enroll(hall.url, "ZZZZ-ZZZZ").json() == {"error": "invalid_code", "detail": CODE_REFUSED}
    bad_key = requests.post(hall.url + "/api/v1/enrolment", timeout=5,
                            json={"code": hall.enrollment_code(), "public_key": "AAAA"})
    assert bad_key.status_code == 422 and bad_key.json()["error"] == "invalid_request"
    not_json = requests.post(hall.url + "/api/v1/enrolment", data=b"{", timeout=5)
    assert not_json.status_code == 422
    assert set(not_json.json()) == {"error", "detail"}


def test_a_key_that_is_no_usable_point_is_refused(hall):
    """The identity point (small order: one signature fits every message under OpenSSL's check)
    and 32 bytes that are not a point at all; the code is not spent by either."""
    code = hall.enrollment_code()
    for raw in (bytes([1]) + bytes(31), bytes([2]) + bytes(31)):
        answer = requests.post(hall.url + "/api/v1/enrolment", timeout=5,
                               json={"code": code, "public_key": base64.b64encode(raw).decode()})
        assert answer.status_code == 422 and answer.json()["error"] == "invalid_request", raw
    assert enroll(hall.url, code).status_code == 201


def test_county_code_from_cli(hall):
    code = hall.enrollment_code(county="441402")
    assert enroll(hall.url, code).json()["county"] == "441402"


def test_unknown_used_and_expired_codes_get_one_answer(hall):
    """Issue 9 (low): the answer must not tell which codes exist or were used."""
    used = hall.enrollment_code()
    assert enroll(hall.url, used).status_code == 201
    expired = hall.enrollment_code()
    engine = create_engine(hall.db_url)
    with engine.begin() as conn:
        conn.execute(update(EnrolmentCode).where(EnrolmentCode.code == expired)
                     .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    engine.dispose()
    answers = [enroll(hall.url, code) for code in ("ZZZZ-ZZZZ", used, expired)]
    assert {(a.status_code, a.text) for a in answers} == {(400, answers[0].text)}


def test_each_kiosk_has_its_own_mark_for_provisional_numbers(hall, make_code):
    from hall.services.numbering import device_short

    marks = [device_short(enroll(hall.url, make_code()).json()["device_id"]) for _ in range(5)]
    assert len(set(marks)) == 5
