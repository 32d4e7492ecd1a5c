"""GET /api/v1/status-changes with a cursor; only the device's own applications."""

from __future__ import annotations


def test_changes_since_cursor(hall, kiosk, new_kiosk):
    first = kiosk.submit()
    second = kiosk.submit()
    start = kiosk.status_changes().json()
    assert start["changes"] == []
    hall.set_status(first["id"], "accepted")
    hall.set_status(second["id"], "correction_needed", reason="Photo of page 2 is blurred")
    page = kiosk.status_changes(since="0").json()
    assert [(c["id"], c["status"]) for c in page["changes"]] == [
        (first["id"], "accepted"), (second["id"], "correction_needed")]
    # Issue 12: the official number is given at acceptance and travels in the signed feed;
    # an application asked to correct before acceptance has none yet.
    official = {a["id"]: a["official_number"] for a in hall.applications()}
    assert page["changes"][0]["official_number"] == official[first["id"]]
    assert official[first["id"]] and official[second["id"]] is None
    change = page["changes"][1]
    assert change["official_number"] is None
    assert change["reason"] == "Photo of page 2 is blurred"
    assert change["changed_at"].endswith("Z")
    cursor = page["cursor"]
    assert kiosk.status_changes(since=cursor).json() == {"changes": [], "cursor": cursor}
    hall.set_status(first["id"], "completed")
    later = kiosk.status_changes(since=cursor).json()
    assert [(c["id"], c["status"]) for c in later["changes"]] == [(first["id"], "completed")]
    assert int(later["cursor"]) > int(cursor)
    # another kiosk sees none of these
    other = new_kiosk()
    assert other.status_changes().json()["changes"] == []
    after = {a["id"]: a for a in hall.applications()}
    assert after[first["id"]]["status"] == "completed"
    assert after[first["id"]]["official_number"] == official[first["id"]]  # given once, kept


def test_bad_cursor(kiosk):
    response = kiosk.status_changes(since="abc")
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
