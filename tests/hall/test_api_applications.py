"""POST /api/v1/applications: exactly once, attachments, sealed document."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hall.services.numbering import canonical_official
from tests.hall.kiosk_client import accept

PNG = bytes.fromhex("89504e470d0a1a0a") + b"fake page"


def test_201_then_200_with_the_same_body(hall, kiosk):
    body, boxes = kiosk.make_application([(PNG, "M1", "image/png")])
    for box in boxes:
        kiosk.upload(box)
    first = kiosk.post_application(body)
    assert first.status_code == 201, first.text
    answer = first.json()
    # Issue 12: the hall confirms the kiosk's receipt number; the official number comes at acceptance.
    assert set(answer) == {"id", "provisional_number", "status"}
    assert answer["id"] == body["id"]
    assert answer["provisional_number"] == body["provisional_number"]
    assert re.fullmatch(r"K[0-9A-Z]{4}-\d{8}-\d{4}-\d{8}", answer["provisional_number"])
    assert answer["status"] == "submitted"
    again = kiosk.post_application(body)
    assert again.status_code == 200
    assert again.json() == answer
    listed = [a for a in hall.applications() if a["id"] == body["id"]]
    assert len(listed) == 1
    row = listed[0]
    assert row["idempotency_key"] == body["id"]
    assert row["official_number"] is None
    assert row["device_id"] == kiosk.device_id
    assert row["status"] == "submitted"
    assert row["attachments"] == [{"sha256": body["attachments"][0]["sha256"], "size": len(boxes[0]),
                                   "verified": True, "material": "M1", "pages": 1}]


def test_official_numbers_cannot_be_guessed(hall, kiosk):
    """Issue 9, finding 9: numbers were a daily sequence; now 11 random digits and a check digit,
    given (issue 12) when a clerk accepts the application, dated that day."""
    numbers = [accept(hall, kiosk.submit()["id"]) for _ in range(3)]
    day = datetime.now(UTC).astimezone(timezone(timedelta(hours=8))).strftime("%Y%m%d")
    assert all(re.fullmatch(rf"441423-{day}-\d{{4}}-\d{{4}}-\d{{4}}", n) for n in numbers)
    tails = [int(n.split("-", 2)[2].replace("-", "")[:-1]) for n in numbers]
    assert len(set(tails)) == 3 and all(abs(a - b) > 1 for a, b in zip(tails, tails[1:], strict=False))
    assert all(canonical_official(n) == n for n in numbers)
    assert all(canonical_official(n.replace("-", " ")) == n for n in numbers)


def test_a_provisional_number_must_be_the_devices_own(kiosk):
    """Issue 9, finding 9: a kiosk may not pick a number that is another's or an official one."""
    mine = kiosk.provisional_prefix()
    for number in ("441423-20261128-4830-2917-5526", "K0001-20261128-0001", f"{mine}-2026-1",
                   "441423-20261128-000013", "K0001-20261128-0001-48302917", f"{mine}-20261128-0001-4830",
                   f"{mine}-20261128-0001-48302917-1"):
        body, _ = kiosk.make_application()
        body["provisional_number"] = number
        refused = kiosk.post_application(body)
        assert refused.status_code == 422, number
        answer = refused.json()
        assert answer["error"] == "invalid_request" and "provisional_number" in answer["detail"]
    # A kiosk that sealed this one before receipt numbers had their random part: printed, so taken.
    body, _ = kiosk.make_application()
    body["provisional_number"] = f"{mine}-20261128-0007"
    assert kiosk.post_application(body).status_code == 201


def test_service_code_must_follow_the_catalog_pattern(kiosk):
    for code in ("<b>x</b>", "GD-YL-001; DROP", "free text", "gd-yl-001"):
        body, _ = kiosk.make_application()
        body["service_code"] = code
        refused = kiosk.post_application(body)
        assert refused.status_code == 422 and "service_code" in refused.json()["detail"], code


def test_same_key_different_body_is_a_conflict(kiosk):
    body, _ = kiosk.make_application()
    assert kiosk.post_application(body).status_code == 201
    changed = dict(body, service_code="GD-YL-002")
    response = kiosk.post_application(changed)
    assert response.status_code == 422
    assert response.json()["error"] == "idempotency_conflict"


def test_missing_attachment_names_the_hash(kiosk):
    body, boxes = kiosk.make_application([(PNG, "M1", "image/png"), (b"second", "M2", "image/jpeg")])
    kiosk.upload(boxes[0])
    response = kiosk.post_application(body)
    assert response.status_code == 409
    assert response.json() == {"error": "missing_attachment", "detail": body["attachments"][1]["sha256"]}
    # half-uploaded is still missing
    created = kiosk.create_upload(boxes[1]).json()
    kiosk.patch(created["upload_id"], 0, boxes[1][:10])
    assert kiosk.post_application(body).json()["error"] == "missing_attachment"
    kiosk.patch(created["upload_id"], 10, boxes[1][10:])
    assert kiosk.post_application(body).status_code == 201


def test_another_devices_upload_does_not_count(kiosk, new_kiosk):
    body, boxes = kiosk.make_application([(PNG, "M1", "image/png")])
    other = new_kiosk()
    other.upload(boxes[0])
    assert kiosk.post_application(body).json()["error"] == "missing_attachment"


def test_unreadable_document(kiosk):
    wrong_key = X25519PrivateKey.generate().public_key().public_bytes_raw()
    body, _ = kiosk.make_application(seal_key=wrong_key)
    response = kiosk.post_application(body)
    assert response.status_code == 422
    assert response.json()["error"] == "unreadable_document"
    # sealed for another application id (context) does not open either
    other, _ = kiosk.make_application()
    body, _ = kiosk.make_application()
    body["sealed_document"] = other["sealed_document"]
    assert kiosk.post_application(body).json()["error"] == "unreadable_document"
    body["sealed_document"] = "not base64!"
    assert kiosk.post_application(body).json()["error"] == "unreadable_document"


def test_bad_requests(kiosk):
    body, _ = kiosk.make_application()
    no_key = kiosk.post_json("/api/v1/applications", body)
    assert no_key.status_code == 422 and no_key.json()["error"] == "invalid_request"
    other_key = kiosk.post_application(body, key="5b6f3e0e-0000-4000-8000-000000000000")
    assert other_key.status_code == 422 and other_key.json()["error"] == "invalid_request"
    incomplete = kiosk.post_application({"id": body["id"]})
    assert incomplete.status_code == 422 and incomplete.json()["error"] == "invalid_request"
    assert "provisional_number" in incomplete.json()["detail"]
