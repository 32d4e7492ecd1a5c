"""A correction at the kiosk (issue 12 parts 2–3): the status screen's step shows the
materials the county named and the clerk's reason (sealed in the outbox to the applicant),
and 补交材料 captures exactly those materials, then seals and queues one supplement."""

from __future__ import annotations

import pytest

from hardware.sample_cards import ELDERLY_VILLAGER
from kiosk.presentation import ActionFailed
from kiosk.steps.table import REVIEW, SUPPLEMENT
from offline_queue.store import CORRECTION_NEEDED, SEALED
from offline_queue.store import SUPPLEMENT as SUPPLEMENT_KIND
from offline_queue.transport import StatusChange, _material_ids, _small_count
from tests.screens.test_service import FakeReader, Recorder, fill_in, make_service, read_card
from tests.support.clock import ManualClock

REASON = "户口簿照片看不清，请重新拍户主页"


def _queue_and_correct(service, materials=("M1",)):
    service.steps.home.start_application()
    read_card(service, Recorder())
    fill_in(service)
    number = service.steps.review.confirm().provisional_number
    service.finish()
    [entry] = service.queue.by_number(number)
    service.queue.mark_submitted(entry.id, "441423-000001")
    service.queue.apply_status(StatusChange(id=entry.id, status="correction_needed",
                                            official_number="441423-000001", reason=REASON, changed_at="",
                                            materials=materials))
    return entry


def _look_up(service):
    service.steps.home.start_status_lookup()
    read_card(service, Recorder())
    return service.steps.status.my_applications()


def test_a_correction_is_shown_and_answered_by_one_sealed_supplement(tmp_path):
    clock = ManualClock()
    service = make_service(tmp_path, clock, reader=FakeReader(*[ELDERLY_VILLAGER] * 4))
    try:
        parent = _queue_and_correct(service)
        disk = (tmp_path / "outbox.sqlite3").read_bytes() + (tmp_path / "outbox.sqlite3-wal").read_bytes()
        assert REASON.encode() not in disk  # the reason is the applicant's: sealed on the kiosk's disk

        [row] = _look_up(service)
        assert (row.state, row.colour) == (CORRECTION_NEEDED, "amber")
        assert row.materials == ("居民户口簿",) and row.reason == REASON
        assert row.can_supplement and not row.supplement_sent

        capture = service.steps.capture
        assert capture.next_step() == REVIEW  # not answering a correction yet
        service.steps.status.start_supplement(row.entry_id)
        assert [m.id for m in capture.materials_to_capture()] == ["M1"]  # exactly what was named
        assert capture.next_step() == SUPPLEMENT
        with pytest.raises(ActionFailed) as missing:
            service.steps.supplement.send()
        assert missing.value.message_key == "capture.missing"
        capture.capture_page()
        sent = service.steps.supplement.send()
        assert sent.materials == ("居民户口簿",) and sent.pages == 1 and sent.number == "441423-000001"
        service.steps.supplement.send()  # the screen shown again: still one supplement
        [supplement] = service.queue.supplements_of(parent.id)
        assert (supplement.kind, supplement.state, supplement.page_count) == (SUPPLEMENT_KIND, SEALED, 1)
        assert service.visit.finished
        service.finish()

        [row] = _look_up(service)  # the next look: the pages wait for the county
        assert row.supplement_sent and not row.can_supplement
        with pytest.raises(ActionFailed) as again:
            service.steps.status.start_supplement(row.entry_id)
        assert again.value.message_key == "supplement.already_sent"
        assert service.t("status.supplement") == "补交材料"
        assert service.t("supplement.done") == "已补交，请等待县里审核"
    finally:
        service.close()


def test_no_camera_says_so_in_plain_words_and_nothing_is_queued(tmp_path):
    service = make_service(tmp_path, ManualClock(), reader=FakeReader(*[ELDERLY_VILLAGER] * 3))
    try:
        parent = _queue_and_correct(service, materials=())  # a correction naming none: the item's own
        [row] = _look_up(service)
        assert row.materials == ("居民户口簿",)
        service.camera = None
        with pytest.raises(ActionFailed) as failed:
            service.steps.status.start_supplement(row.entry_id)
        assert failed.value.message_key == "supplement.no_camera"
        assert "摄像头" in service.t("supplement.no_camera")
        with pytest.raises(ActionFailed):
            service.steps.status.start_supplement("not-one-of-mine")
        assert service.queue.supplements_of(parent.id) == []
        assert service.steps.capture.next_step() == REVIEW
    finally:
        service.close()


def test_the_feed_s_materials_and_results_are_checked_before_they_are_kept():
    assert _material_ids(["M1", "M1", "M2"]) == ("M1", "M2")
    assert _material_ids(["M1", 7, "../../etc", "x" * 65, None]) == ("M1",)
    assert _material_ids("M1") == () and _material_ids(None) == ()
    assert _material_ids([f"M{i}" for i in range(100)]) == tuple(f"M{i}" for i in range(32))
    assert (_small_count(2), _small_count(True), _small_count(-1), _small_count("3"), _small_count(10**9)) \
        == (2, 0, 0, 0, 0)


def test_the_grid_worker_s_worklist_lists_their_applications_and_answers_a_correction(tmp_path):
    from kiosk.staff import StaffLogin

    clock = ManualClock()
    service = make_service(tmp_path, clock, reader=FakeReader(*[ELDERLY_VILLAGER] * 4))
    staff = service.steps.staff
    try:
        _queue_and_correct(service)  # the villager's own application: not the worker's
        staff.login = StaffLogin(worker_id="GW-0042", county="441423", role="grid", since=clock(),
                                 last_active=clock())
        mine = _queue_and_correct(service, materials=("M1",))  # applied on the villager's behalf
        disk = (tmp_path / "outbox.sqlite3").read_bytes() + (tmp_path / "outbox.sqlite3-wal").read_bytes()
        assert b"GW-0042" not in disk  # the outbox keeps a keyed digest of the worker, not the id

        worklist = service.steps.worklist
        [row] = worklist.rows()
        assert row.entry_id == mine.id and row.state == CORRECTION_NEEDED
        assert row.materials == ("居民户口簿",) and row.can_supplement
        assert row.reason == ""  # sealed to the applicant: it opens with the villager's card only
        assert ELDERLY_VILLAGER.name not in repr(row) and ELDERLY_VILLAGER.id_number not in repr(row)

        assert worklist.start_supplement(row.entry_id)
        assert service.visit.agent == {"worker_id": "GW-0042", "county": "441423"}
        assert service.steps.capture.next_step() == SUPPLEMENT
        service.steps.capture.capture_page()
        service.steps.supplement.send()
        service.finish()
        [row] = worklist.rows()
        assert row.supplement_sent and not row.can_supplement
        assert len(service.queue.supplements_of(mine.id)) == 1

        staff.logout()
        with pytest.raises(ActionFailed) as signed_out:
            worklist.rows()
        assert signed_out.value.message_key == "worklist.signed_out"
    finally:
        service.close()
