"""The SQLite outbox: durable pragmas, named states, crash recovery."""

import pytest

from offline_queue.errors import DuplicateEntry
from offline_queue.store import FAILED, SEALED, SUBMITTED, UPLOADING, AttachmentRow, EntryRow, OutboxStore


def _row(entry_id: str, queued_at: float = 100.0, tag: str = "tag") -> EntryRow:
    return EntryRow(
        id=entry_id,
        provisional_number=f"K-{entry_id}",
        official_number=None,
        service_code="GD-YL-001",
        county="441423",
        created_at="2026-11-28T04:30:00Z",
        queued_at=queued_at,
        page_count=1,
        visits_needed=0,
        applicant_tag=tag,
        document_sha256="d" * 64,
        document_size=10,
        state=SEALED,
        reason="",
        attempts=0,
        next_attempt_at=None,
        updated_at=queued_at,
        submitted_at=None,
        purged=False,
    )


@pytest.fixture
def store(tmp_path):
    s = OutboxStore(tmp_path / "outbox.sqlite3")
    yield s
    s.close()


def test_wal_and_full_sync(store):
    assert store.pragma("journal_mode") == "wal"
    assert store.pragma("synchronous") == 2  # FULL


def test_insert_and_read_back(store):
    store.insert(_row("a"), [AttachmentRow("a", 0, "e" * 64, 5, "M1", 1, False)])
    assert store.get("a").state == SEALED
    assert [a.sha256 for a in store.attachments("a")] == ["e" * 64]
    assert store.counts()[SEALED] == 1
    assert store.get("missing") is None


def test_duplicate_is_refused(store):
    store.insert(_row("a"), [])
    with pytest.raises(DuplicateEntry):
        store.insert(_row("a"), [])


def test_claim_only_once(store):
    store.insert(_row("a"), [])
    assert store.claim("a", 101.0) is True
    assert store.claim("a", 101.0) is False
    assert store.get("a").state == UPLOADING


def test_in_flight_work_returns_to_ready_on_reopen(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    store = OutboxStore(path)
    store.insert(_row("a", 100.0), [])
    store.insert(_row("b", 101.0), [])
    store.insert(_row("c", 102.0), [])
    store.claim("a", 110.0)
    store.claim("b", 110.0)
    store.mark_submitted("b", "441423-1", SUBMITTED, 111.0)
    store.claim("c", 112.0)
    # no close(): the process "crashes" with a and c in flight
    reopened = OutboxStore(path)
    assert reopened.recovered == 2
    assert [r.id for r in reopened.entries([SEALED])] == ["a", "c"]
    assert reopened.get("b").state == SUBMITTED
    reopened.close()
    assert OutboxStore(path).recovered == 0


def test_due_is_oldest_first_and_respects_backoff(store):
    store.insert(_row("young", 200.0), [])
    store.insert(_row("old", 100.0), [])
    store.insert(_row("later", 150.0), [])
    store.claim("later", 300.0)
    store.release("later", "hall_unreachable", 400.0, 300.0, count=True)
    assert [r.id for r in store.due(300.0)] == ["old", "young"]
    assert [r.id for r in store.due(400.0)] == ["old", "later", "young"]
    assert store.get("later").attempts == 1


def test_apply_status_is_idempotent(store):
    store.insert(_row("a"), [])
    assert store.apply_status("a", "correction_needed", "441423-9", "photo unreadable", 200.0) is True
    assert store.apply_status("a", "correction_needed", "441423-9", "photo unreadable", 201.0) is False
    row = store.get("a")
    assert (row.state, row.official_number, row.reason) == (
        "correction_needed",
        "441423-9",
        "photo unreadable",
    )
    assert store.apply_status("nobody", "accepted", "", "", 202.0) is False


def test_failed_keeps_reason(store):
    store.insert(_row("a"), [])
    store.claim("a", 101.0)
    store.mark_failed("a", "too_large: 20 MB", 102.0)
    row = store.get("a")
    assert (row.state, row.reason, row.attempts) == (FAILED, "too_large: 20 MB", 1)


def test_sequence_persists(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    store = OutboxStore(path)
    assert [store.next_sequence() for _ in range(3)] == [1, 2, 3]
    store.close()
    assert OutboxStore(path).next_sequence() == 4


def test_unknown_state_is_refused_by_the_schema(store):
    from offline_queue.errors import StorageError

    with pytest.raises(StorageError):
        store.insert(_row("a").__class__(**{**_row("a").__dict__, "state": "lost"}), [])
