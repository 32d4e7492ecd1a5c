"""/track/{number}: the page a receipt's QR code opens, with no personal data on it."""

from __future__ import annotations

import requests

PNG = bytes.fromhex("89504e470d0a1a0a") + b"fake page"


def test_tracking_by_provisional_and_official_number(hall, kiosk):
    body, boxes = kiosk.make_application([(PNG, "M1", "image/png")])
    for box in boxes:
        kiosk.upload(box)
    answer = kiosk.post_application(body).json()
    hall.set_status(body["id"], "accepted")
    for number in (body["provisional_number"], answer["official_number"]):
        page = requests.get(f"{hall.url}/track/{number}", timeout=10)
        assert page.status_code == 200
        assert "已受理" in page.text and answer["official_number"] in page.text
        assert body["id"] not in page.text  # nothing that identifies the applicant or the record


def test_a_number_not_yet_received_is_explained(hall):
    page = requests.get(f"{hall.url}/track/KABCD-20261128-0001", timeout=10)
    assert page.status_code == 200
    assert "还没有收到" in page.text
