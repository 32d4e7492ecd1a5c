"""Costs that do not grow with the queue (issue 8 part 6): running totals and indexed queries.

No timing here (that is ``benchmarks/enqueue.py``): these tests pin the *shape* — enqueue
and summary never walk the blob folder, the per-villager and per-pass queries use an
index, the running byte total always equals what is on disk, and an outbox written by
schema 1 is upgraded on open.
"""

from __future__ import annotations

import os
import sqlite3

import pytest

from offline_queue.outbox import OfflineQueue
from offline_queue.store import SCHEMA_VERSION, STATES


def _on_disk(queue: OfflineQueue) -> int:
    return queue._blobs.total_size()


def test_running_total_matches_the_blobs_through_enqueue_and_purge(queue, clock, make_app, hall_public):
    entries = [queue.enqueue(make_app(pages=2), hall_public) for _ in range(3)]
    assert queue.summary().bytes_used == _on_disk(queue) > 0
    for entry in entries[:2]:
        queue.mark_submitted(entry.id, f"OFF-{entry.id[:4]}")
    clock.advance(10)
    assert queue.purge_confirmed(5) == 2
    assert queue.summary().bytes_used == _on_disk(queue) > 0
    assert queue.purge(entries[2].id, "wipe")
    assert queue.summary().bytes_used == _on_disk(queue) == 0


def test_enqueue_and_summary_never_walk_the_blob_folder(queue, make_app, hall_public, monkeypatch):
    for _ in range(3):
        queue.enqueue(make_app(pages=1), hall_public)
    walks = []
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda *a: walks.append(a) or real_scandir(*a))
    queue.enqueue(make_app(pages=3), hall_public)
    queue.summary()
    queue.by_number("K0001-20261128-0001")
    assert walks == []


@pytest.mark.parametrize("sql, params", [
    ("SELECT id FROM entries WHERE applicant_tag = ?", ("x",)),
    ("SELECT id FROM entries WHERE provisional_number = ? COLLATE NOCASE", ("x",)),
    ("SELECT id FROM entries WHERE official_number = ? COLLATE NOCASE", ("x",)),
    ("SELECT MIN(queued_at) FROM entries WHERE state IN ('sealed', 'uploading')", ()),
    ("SELECT id FROM entries WHERE purged = 0 AND submitted_at <= ?", (1.0,)),
    ("SELECT 1 FROM attachments WHERE sha256 = ?", ("x",)),
    ("SELECT 1 FROM entries WHERE document_sha256 = ?", ("x",)),
])
def test_per_villager_and_per_pass_queries_use_an_index(queue, sql, params):
    plan = " ".join(str(r[-1]) for r in queue._store._query("EXPLAIN QUERY PLAN " + sql, params))
    assert "USING" in plan and "INDEX" in plan, plan



def test_by_number_finds_either_number_in_any_case(queue, make_app, hall_public):
    entry = queue.enqueue(make_app(), hall_public)
    queue.mark_submitted(entry.id, "GD2026-000123")
    assert [e.id for e in queue.by_number(entry.provisional_number.lower())] == [entry.id]
    assert [e.id for e in queue.by_number(" gd2026-000123 ")] == [entry.id]
    assert queue.by_number("nothing") == [] and queue.by_number("  ") == []


def _recount(queue: OfflineQueue) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    for state, n in queue._store._query("SELECT state, COUNT(*) FROM entries GROUP BY state"):
        counts[state] = n
    return counts


def _sql_steps(queue: OfflineQueue, action) -> int:
    """SQLite virtual-machine steps (in hundreds) an action costs: a count, not a timing."""
    steps = [0]
    queue._store._db.set_progress_handler(lambda: steps.__setitem__(0, steps[0] + 1), 100)
    try:
        action()
    finally:
        queue._store._db.set_progress_handler(None, 100)
    return steps[0]


def test_enqueue_and_summary_do_the_same_sql_work_at_any_queue_size(queue, make_app, hall_public):
    for _ in range(5):
        queue.enqueue(make_app(pages=0), hall_public)
    small = (_sql_steps(queue, lambda: queue.enqueue(make_app(pages=3), hall_public)),
             _sql_steps(queue, queue.summary))
    for _ in range(250):
        queue.enqueue(make_app(pages=0), hall_public)
    large = (_sql_steps(queue, lambda: queue.enqueue(make_app(pages=3), hall_public)),
             _sql_steps(queue, queue.summary))
    assert large[0] <= small[0] + 2 and large[1] <= small[1] + 1, (small, large)


def test_running_counts_follow_every_transition(queue, clock, make_app, hall_public):
    entries = [queue.enqueue(make_app(pages=1), hall_public) for _ in range(4)]
    queue.claim(entries[0].id)
    queue.release(entries[0].id, "hall_busy", clock() + 5)
    queue.claim(entries[1].id)
    queue.mark_submitted(entries[1].id, "GD-1")
    queue.claim(entries[2].id)
    queue.mark_failed(entries[2].id, "too_large")
    queue.claim(entries[3].id)  # left uploading, as a crash would
    assert queue.summary().counts == _recount(queue)
    assert queue.summary().counts["uploading"] == 1


def _downgrade_to_schema_1(path) -> None:
    """What an outbox written before schema 2 looks like: no running total, no new indexes."""
    db = sqlite3.connect(path)
    for name in ("entries_queued", "entries_provisional", "entries_official", "entries_retention",
                 "entries_document", "attachments_sha256"):
        db.execute(f"DROP INDEX {name}")
    db.execute("DELETE FROM meta WHERE key IN ('bytes_used', 'state_counts')")
    for trigger in ("entries_count_insert", "entries_count_update", "entries_count_delete"):
        db.execute(f"DROP TRIGGER {trigger}")
    db.execute("DROP TABLE state_counts")
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    db.commit()
    db.close()


def test_an_outbox_of_schema_1_is_upgraded_on_open(tmp_path, clock, make_app, hall_public):
    data = tmp_path / "data"
    old = OfflineQueue(data, budget_bytes=10_000_000, clock=clock)
    entries = [old.enqueue(make_app(pages=2), hall_public) for _ in range(3)]
    old.mark_submitted(entries[0].id, "OFF-1")
    clock.advance(10)
    old.purge_confirmed(5)
    expected = _on_disk(old)
    old.close()
    _downgrade_to_schema_1(data / "outbox.sqlite3")

    upgraded = OfflineQueue(data, budget_bytes=10_000_000, clock=clock)
    try:
        assert upgraded._store.get_meta("schema") == str(SCHEMA_VERSION)
        assert upgraded.summary().bytes_used == expected == _on_disk(upgraded)
        assert upgraded.summary().counts == _recount(upgraded)
        indexes = {r[0] for r in upgraded._store._query("SELECT name FROM sqlite_master WHERE type='index'")}
        assert {"entries_queued", "entries_provisional", "attachments_sha256"} <= indexes
        upgraded.enqueue(make_app(), hall_public)
        assert upgraded.summary().bytes_used == _on_disk(upgraded)
    finally:
        upgraded.close()
