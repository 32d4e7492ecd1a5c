"""Budgets, long offline, retention with its audit trail, crash recovery, link manners."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from offline_queue.health import STOP, WARN, QueueLimits, age_words, assess
from offline_queue.outbox import OfflineQueue
from offline_queue.store import ACCEPTED, SEALED, UPLOADING
from offline_queue.sync import SyncEngine, in_quiet_hours
from offline_queue.transport import ChunkSizer, Throttle

HOUR = 3600.0


def test_health_warns_then_stops_on_age_and_silence(queue, clock, make_app, hall_public):
    limits = QueueLimits(reserve_bytes=1000, min_free_bytes=0, warn_unsent_s=24 * HOUR,
                         stop_unsent_s=72 * HOUR, warn_offline_s=48 * HOUR, stop_offline_s=168 * HOUR)
    assert assess(queue.summary(), limits).level == "ok"
    queue.enqueue(make_app(), hall_public)
    queue.record_contact()
    clock.advance(25 * HOUR)
    health = assess(queue.summary(), limits)
    assert (health.level, [n.message_key for n in health.notices]) == (WARN, ["queue.notice.unsent_old_warn"])
    assert health.notices[0].values == {"hours": 25}
    clock.advance(24 * HOUR)  # 49 h: unsent still warn, offline now warn too
    assert {n.message_key for n in assess(queue.summary(), limits).notices} == {
        "queue.notice.unsent_old_warn", "queue.notice.offline_warn"}
    clock.advance(24 * HOUR)  # 73 h: stop
    health = assess(queue.summary(), limits)
    assert health.level == STOP and not health.can_take_applications
    assert health.notices[0].message_key == "queue.notice.unsent_old_stop"


def test_never_contacted_counts_from_the_queue_creation(tmp_path, clock):
    queue = OfflineQueue(tmp_path, budget_bytes=10**8, clock=clock)
    clock.advance(200 * HOUR)
    health = assess(queue.summary(), QueueLimits(min_free_bytes=0, reserve_bytes=1))
    assert "queue.notice.offline_stop" in [n.message_key for n in health.notices]
    queue.close()


def test_budget_stops_before_the_last_application_would_not_fit(tmp_path, clock, make_app, hall_public):
    queue = OfflineQueue(tmp_path, budget_bytes=50_000, clock=clock, near_full_fraction=0.5)
    limits = QueueLimits(reserve_bytes=20_000, min_free_bytes=0)
    queue.enqueue(make_app(pages=1, page_bytes=30_000), hall_public)
    assert assess(queue.summary(), limits).level == WARN  # past half the budget
    queue.enqueue(make_app(pages=1, page_bytes=15_000), hall_public)
    health = assess(queue.summary(), limits)
    assert health.level == STOP and health.notices[0].message_key == "queue.notice.full"
    no_room = replace(queue.summary(), bytes_used=0, near_full=False, free_disk_bytes=10_000)
    assert assess(no_room, limits).level == STOP  # the disk itself is short
    queue.close()


def test_quarantined_entries_are_shown_without_blocking(queue, make_app, hall_public):
    entry = queue.enqueue(make_app(), hall_public)
    queue.claim(entry.id)
    queue.mark_failed(entry.id, "unknown_service: GD-XX")
    health = assess(queue.summary(), QueueLimits(min_free_bytes=0, reserve_bytes=1))
    assert health.level == WARN and health.notices[0].values == {"count": 1}


def test_age_words():
    assert age_words(30) == ("queue.age.moment", {})
    assert age_words(125) == ("queue.age.minutes", {"n": 2})
    assert age_words(5 * HOUR) == ("queue.age.hours", {"n": 5})
    assert age_words(72 * HOUR) == ("queue.age.days", {"n": 3})


def test_retention_purges_with_an_audit_record(queue, clock, make_app, hall_public):
    kept = queue.enqueue(make_app(), hall_public)
    done = queue.enqueue(make_app(), hall_public)
    queue.claim(done.id)
    queue.mark_submitted(done.id, "441423-20261128-000001")
    used = queue.summary().bytes_used
    assert queue.purge_confirmed(retention_s=86400) == 0
    clock.advance(86400 + 1)
    assert queue.purge_confirmed(retention_s=86400) == 1
    assert queue.purge_confirmed(retention_s=86400) == 0  # twice is harmless
    [record] = queue.purges()
    assert (record.entry_id, record.reason, record.official_number) == (
        done.id, "retention", "441423-20261128-000001")
    assert record.bytes_freed > 0 and record.purged_at == clock()
    assert queue.summary().bytes_used == used - record.bytes_freed
    assert queue.get(done.id).state == "submitted"  # the row (status) stays
    assert queue.sealed_document(kept.id)  # unsent entries are never purged
    queue.apply_status(type("C", (), {"id": done.id, "status": ACCEPTED, "official_number": "",
                                      "reason": ""})())
    assert queue.get(done.id).state == ACCEPTED


def test_open_after_a_power_cut_says_what_it_recovered(tmp_path, clock, make_app, hall_public):
    queue = OfflineQueue(tmp_path, budget_bytes=10**8, clock=clock)
    a = queue.enqueue(make_app(), hall_public)
    b = queue.enqueue(make_app(), hall_public)
    queue.claim(a.id)
    assert queue.get(a.id).state == UPLOADING
    blob_dir = tmp_path / "blobs"
    (blob_dir / "ab").mkdir(exist_ok=True)
    (blob_dir / "ab" / ".tmp-deadbeef").write_bytes(b"half a page")  # a write cut short
    orphan = queue._blobs.put(b"a blob whose row never committed")
    queue._blobs.delete(queue.attachments(b.id)[0].sha256)  # a disk fault, not a crash
    queue.close()
    reopened = OfflineQueue(tmp_path, budget_bytes=10**8, clock=clock)
    rec = reopened.recovery
    assert (rec.in_flight_reset, rec.temporaries_swept, rec.orphan_blobs_removed) == (1, 1, 1)
    assert rec.quarantined == (b.id,) and rec.anything
    assert reopened.get(a.id).state == SEALED
    assert (reopened.get(b.id).state, reopened.get(b.id).reason) == ("failed", "blob_missing")
    assert not reopened._blobs.exists(orphan)
    assert reopened.recovery.to_dict()["quarantined"] == [b.id]
    reopened.close()
    again = OfflineQueue(tmp_path, budget_bytes=10**8, clock=clock)
    assert not again.recovery.anything
    again.close()


@pytest.mark.parametrize(("spec", "hour", "minute", "quiet"), [
    ("", 10, 0, False), ("08:00-09:30", 8, 0, True), ("08:00-09:30", 9, 30, False),
    ("22:00-06:00", 23, 59, True), ("22:00-06:00", 5, 0, True), ("22:00-06:00", 12, 0, False),
])
def test_quiet_hours_in_china_time(spec, hour, minute, quiet):
    moment = datetime(2026, 11, 28, hour, minute, tzinfo=timezone(timedelta(hours=8))).timestamp()
    assert in_quiet_hours(spec, moment) is quiet


def test_no_sync_in_quiet_hours(queue, make_app, hall_public):
    queue.enqueue(make_app(), hall_public)
    engine = SyncEngine(queue, client=None, clock=lambda: datetime(
        2026, 11, 28, 8, 30, tzinfo=timezone(timedelta(hours=8))).timestamp(), quiet_hours="08:00-09:00")
    report = engine.run_once()
    assert report.quiet and report.sent == 0
    assert queue.summary().waiting == 1


def test_chunk_sizer_follows_the_link():
    sizer = ChunkSizer(min_bytes=16_000, max_bytes=1_000_000, start_bytes=64_000, target_s=0.5)
    for _ in range(10):
        sizer.on_success(sizer.size(), sizer.size() / 400_000)  # a 400 kB/s link
    assert 150_000 <= sizer.size() <= 210_000
    before = sizer.size()
    sizer.on_failure()
    assert sizer.size() <= before // 2 + 1
    for _ in range(30):
        sizer.on_failure()
    assert sizer.size() == 16_000
    for _ in range(40):
        sizer.on_success(sizer.size(), sizer.size() / 50_000_000)
    assert sizer.size() == 1_000_000


def test_throttle_caps_the_rate():
    throttle = Throttle(rate_bps=200_000, burst=10_000)
    start = time.monotonic()
    for _ in range(20):
        throttle.take(10_000)  # 200 kB at 200 kB/s
    elapsed = time.monotonic() - start
    assert 0.85 <= elapsed <= 1.6
    assert Throttle.from_kbps(0) is None and Throttle.from_kbps(800).rate_bps == 100_000
