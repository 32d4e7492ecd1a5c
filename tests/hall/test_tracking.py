"""/track/{number}: the page a receipt's QR code opens, with no personal data on it (issue 9, finding 9)."""

from __future__ import annotations

import uuid

import requests

from hall.services.numbering import canonical_official, damm, official_number
from tests.hall.kiosk_client import accept

PNG = bytes.fromhex("89504e470d0a1a0a") + b"fake page"


def track(hall, number: str, address: str | None = None) -> requests.Response:
    # uvicorn trusts X-Forwarded-For from loopback: each test looks like its own client.
    address = address or f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    return requests.get(f"{hall.url}/track/{number}", headers={"X-Forwarded-For": address}, timeout=10)


def test_tracking_by_provisional_and_official_number(hall, kiosk):
    body, boxes = kiosk.make_application([(PNG, "M1", "image/png")])
    for box in boxes:
        kiosk.upload(box)
    answer = kiosk.post_application(body).json()
    # Received, not yet accepted: the receipt's number finds it, and it has no official number yet.
    page = track(hall, body["provisional_number"])
    assert page.status_code == 200 and "已提交" in page.text and "受理后给出" in page.text
    assert body["provisional_number"] in page.text
    official = accept(hall, answer["id"])
    typed = (official.replace("-", ""), official.replace("-", " "))
    for number in (body["provisional_number"], official, *typed):
        page = track(hall, number)
        assert page.status_code == 200
        assert "已受理" in page.text and official in page.text
        assert body["id"] not in page.text  # nothing that identifies the applicant or the record
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_the_clerks_reason_is_not_shown_word_for_word(hall, kiosk):
    answer = kiosk.submit()
    reason = "请拨打 400-000-0000 缴纳 200 元手续费 (the applicant's son is in prison)"
    hall.set_status(answer["id"], "correction_needed", reason=reason)
    page = track(hall, answer["provisional_number"])
    assert "需要补正" in page.text and "村服务点" in page.text
    assert "400-000-0000" not in page.text and "prison" not in page.text


def test_a_number_not_yet_received_is_explained(hall, kiosk):
    page = track(hall, f"{kiosk.provisional_prefix()}-20261128-0001")
    assert page.status_code == 200
    assert "还没有收到" in page.text
    unseen = official_number("441423", "20261128", "12345678901")
    assert "还没有收到" in track(hall, unseen).text


def test_a_typo_or_a_sequential_guess_is_not_looked_up(hall, kiosk):
    official = accept(hall, kiosk.submit()["id"])
    digits = official.replace("-", "")
    wrong_digit = digits[:-3] + str((int(digits[-3]) + 1) % 10) + digits[-2:]
    swapped = digits[:-3] + digits[-2] + digits[-3] + digits[-1]
    guesses = [wrong_digit, "441423-20261128-000012", "<script>", "K0001-2026-1"]
    if swapped != digits:
        guesses.append(swapped)
    for guess in guesses:
        page = track(hall, guess)
        assert page.status_code == 400, guess
        assert "请核对编号" in page.text and official not in page.text


def test_lookups_are_rate_limited_per_client(hall):
    address = f"198.19.{uuid.uuid4().int % 250}.7"
    codes = [track(hall, "KABCD-20261128-0001", address=address).status_code for _ in range(31)]
    assert codes[:30] == [200] * 30 and codes[30] == 429
    busy = track(hall, "KABCD-20261128-0001", address=address)
    assert int(busy.headers["Retry-After"]) >= 1 and "请稍后再查" in busy.text
    assert track(hall, "KABCD-20261128-0001").status_code == 200  # another client is not held up


def test_check_digit_catches_single_errors_and_neighbour_swaps():
    number = official_number("441423", "20261128", "48302917552")
    digits = number.replace("-", "")
    assert damm(digits) == 0 and canonical_official(number) == number
    for i in range(len(digits)):
        for d in "0123456789":
            if d != digits[i]:
                assert canonical_official(digits[:i] + d + digits[i + 1:]) is None
    for i in range(len(digits) - 1):
        if digits[i] != digits[i + 1]:
            assert canonical_official(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]) is None
