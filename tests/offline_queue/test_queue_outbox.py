"""The facade: sealing on enqueue, nothing personal in the clear, budget, summary."""

import base64
import json

import pytest

from offline_queue.errors import DuplicateEntry, QueueFull
from offline_queue.outbox import OfflineQueue
from offline_queue.sealing import open_box
from offline_queue.store import SEALED, SUBMITTED, UPLOADING

ID_NUMBER = "44142319800101123X"  # the same person as conftest.make_app
NAME = "张三丰"
PHONE = "13800138000"


def _needles():
    return [
        ID_NUMBER.encode(),
        ID_NUMBER.encode("utf-16-le"),
        NAME.encode("utf-8"),
        NAME.encode("utf-16-le"),
        PHONE.encode(),
        "梅县区".encode(),
        b"PAGE 0 of",
        base64.b64encode(ID_NUMBER.encode()),
    ]


def test_enqueue_seals_document_and_attachments(queue, make_app, hall_key, hall_public):
    app = make_app(pages=2)
    entry = queue.enqueue(app, hall_public)
    assert entry.state == SEALED
    assert entry.page_count == 2
    assert entry.official_number is None
    atts = queue.attachments(app.id)
    assert [a.material for a in atts] == ["M1", "M2"]
    for att, plain in zip(atts, app.attachments, strict=True):
        box = queue.read_blob(att.sha256)
        assert att.size == len(box)
        assert open_box(box, hall_key, context=app.id.encode()) == plain.data
    document = json.loads(open_box(queue.sealed_document(app.id), hall_key, context=app.id.encode()))
    assert document["applicant"]["id_number"] == ID_NUMBER
    assert [d["sha256"] for d in document["attachments"]] == [a.sha256 for a in atts]
    assert document["attachments"][0]["media_type"] == "image/jpeg"


def test_nothing_personal_on_disk(tmp_path, clock, make_app, hall_public):
    data_dir = tmp_path / "data"
    queue = OfflineQueue(data_dir, budget_bytes=10_000_000, clock=clock)
    for _ in range(3):
        queue.enqueue(make_app(), hall_public)
    queue.next_sequence()
    # look while the database is open (WAL holds recent writes) and after closing it
    for phase in ("open", "closed"):
        files = [p for p in data_dir.rglob("*") if p.is_file()]
        assert any(p.name.endswith("-wal") for p in files) or phase == "closed"
        for path in files:
            content = path.read_bytes()
            for needle in _needles():
                assert needle not in content, f"{needle!r} found in {path.name} ({phase})"
        queue.close()


def test_budget_refuses_before_writing(tmp_path, clock, make_app, hall_public):
    queue = OfflineQueue(tmp_path, budget_bytes=12_000, clock=clock)
    queue.enqueue(make_app(pages=2, page_bytes=2000), hall_public)
    before = queue.summary()
    with pytest.raises(QueueFull) as caught:
        queue.enqueue(make_app(pages=3, page_bytes=4000), hall_public)
    assert caught.value.message_key == "queue.full"
    after = queue.summary()
    assert after.bytes_used == before.bytes_used
    assert after.counts[SEALED] == 1


def test_duplicate_enqueue_leaves_no_extra_blobs(queue, make_app, hall_public):
    app = make_app()
    queue.enqueue(app, hall_public)
    used = queue.summary().bytes_used
    with pytest.raises(DuplicateEntry):
        queue.enqueue(app, hall_public)
    assert queue.summary().bytes_used == used


def test_summary(tmp_path, clock, make_app, hall_public):
    queue = OfflineQueue(tmp_path, budget_bytes=20_000, clock=clock, near_full_fraction=0.5)
    empty = queue.summary()
    assert empty.oldest_unsent_age_s is None
    assert empty.bytes_used == 0
    assert not empty.near_full
    assert set(empty.counts) >= {"sealed", "uploading", "submitted", "failed"}
    first = queue.enqueue(make_app(pages=1, page_bytes=3000), hall_public)
    clock.advance(60)
    queue.enqueue(make_app(pages=1, page_bytes=3000), hall_public)
    clock.advance(30)
    summary = queue.summary()
    assert summary.counts[SEALED] == 2
    assert summary.oldest_unsent_age_s == pytest.approx(90)
    assert summary.budget_bytes == 20_000
    assert summary.near_full is False
    queue.enqueue(make_app(pages=1, page_bytes=4000), hall_public)
    assert queue.summary().near_full is True
    queue.claim(first.id)
    queue.mark_submitted(first.id, "441423-20261128-000001")
    summary = queue.summary()
    assert summary.counts[SUBMITTED] == 1
    assert summary.oldest_unsent_age_s == pytest.approx(30)


def test_entries_get_by_applicant(queue, make_app, hall_public):
    a = queue.enqueue(make_app(id_number="110101199003070019"), hall_public)
    app_b = make_app()
    b = queue.enqueue(app_b, hall_public)
    c = queue.enqueue(make_app(), hall_public)
    assert [e.id for e in queue.entries()] == [a.id, b.id, c.id]
    assert [e.id for e in queue.by_applicant(app_b.applicant_tag)] == [b.id, c.id]
    assert b.applicant_tag != app_b.applicant_tag  # the outbox keeps a lookup key, not the tag
    assert queue.get(a.id) == a
    assert queue.get("nope") is None
    assert queue.entries(["failed"]) == []
    with pytest.raises(ValueError):
        queue.entries(["lost"])


def test_sequence_survives_reopen(tmp_path, clock):
    queue = OfflineQueue(tmp_path, budget_bytes=1000, clock=clock)
    assert queue.next_sequence() == 1
    assert queue.next_sequence() == 2
    queue.close()
    assert OfflineQueue(tmp_path, budget_bytes=1000, clock=clock).next_sequence() == 3


def test_crash_recovery_through_the_facade(tmp_path, clock, make_app, hall_public):
    queue = OfflineQueue(tmp_path, budget_bytes=1_000_000, clock=clock)
    entry = queue.enqueue(make_app(), hall_public)
    assert queue.claim(entry.id)
    assert queue.get(entry.id).state == UPLOADING
    reopened = OfflineQueue(tmp_path, budget_bytes=1_000_000, clock=clock)
    assert reopened.recovered == 1
    assert reopened.get(entry.id).state == SEALED
    assert [e.id for e in reopened.due()] == [entry.id]


def test_orphan_blobs_from_a_crash_are_removed(tmp_path, clock, make_app, hall_public):
    queue = OfflineQueue(tmp_path, budget_bytes=1_000_000, clock=clock)
    kept = queue.enqueue(make_app(), hall_public)
    queue._blobs.put(b"sealed box whose row never committed")
    queue.close()
    reopened = OfflineQueue(tmp_path, budget_bytes=1_000_000, clock=clock)
    assert reopened.orphans_removed == 1
    assert reopened.sealed_document(kept.id)


class _Change:
    def __init__(self, id, status, official_number="", reason=""):
        self.id, self.status, self.official_number, self.reason = id, status, official_number, reason


def test_apply_status(queue, make_app, hall_public):
    app = make_app()
    entry = queue.enqueue(app, hall_public)
    changed = queue.apply_status(_Change(entry.id, "correction_needed", "441423-1", "ID copy blurred"))
    # the hall's reason is sealed to the applicant: only the card's lookup opens it
    assert (changed.state, changed.reason, changed.reason_sealed, changed.official_number) == (
        "correction_needed",
        "",
        True,
        "441423-1",
    )
    assert [e.reason for e in queue.by_applicant(app.applicant_tag)] == ["ID copy blurred"]
    assert queue.apply_status(_Change(entry.id, "correction_needed", "441423-1", "ID copy blurred")) is None
    again = queue.apply_status(_Change(entry.id, "correction_needed", "441423-1", "ID copy still blurred"))
    assert again is not None
    assert [e.reason for e in queue.by_applicant(app.applicant_tag)] == ["ID copy still blurred"]
    assert queue.apply_status(_Change(entry.id, "vanished")) is None
    assert queue.apply_status(_Change("someone-else", "accepted")) is None


def test_purge_after_retention(queue, clock, make_app, hall_public):
    entry = queue.enqueue(make_app(), hall_public)
    queue.claim(entry.id)
    queue.mark_submitted(entry.id, "441423-1")
    assert queue.purge_confirmed(retention_s=3600) == 0
    clock.advance(3601)
    assert queue.purge_confirmed(retention_s=3600) == 1
    assert queue.summary().bytes_used == 0
    assert queue.get(entry.id).state == SUBMITTED
