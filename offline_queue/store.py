"""The SQLite outbox: one row per queued application, its attachments, and a few meta values.

WAL journal, ``synchronous=FULL``; every state change is one ``BEGIN IMMEDIATE``
transaction. States are readable strings (``STATES``). On open, rows left in
``uploading`` by a crash go back to ``sealed`` (``OutboxStore.recovered`` says how many).
``purges`` keeps an audit record (what, when, why, bytes freed) of every entry whose
sealed copies were deleted, written in the same transaction that marks it purged. A
full disk (``SQLITE_FULL``) raises ``DiskFull``; the transaction is rolled back whole.
This module holds SQL only: it knows nothing of sealing, files or HTTP.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from offline_queue.errors import DiskFull, DuplicateEntry, StorageError

SEALED = "sealed"
UPLOADING = "uploading"
SUBMITTED = "submitted"
ACCEPTED = "accepted"
CORRECTION_NEEDED = "correction_needed"
COMPLETED = "completed"
REJECTED = "rejected"
FAILED = "failed"

STATES = (SEALED, UPLOADING, SUBMITTED, ACCEPTED, CORRECTION_NEEDED, COMPLETED, REJECTED, FAILED)
UNSENT_STATES = (SEALED, UPLOADING)
HALL_STATES = (SUBMITTED, ACCEPTED, CORRECTION_NEEDED, COMPLETED, REJECTED)

# 2: indexes for every query the kiosk runs per villager or per pass, and the running
#    total of blob bytes (meta "bytes_used"): nothing on the enqueue path scans the queue
# 3: applicant_tag holds the memory-hard lookup key (offline_queue.applicant_lookup), not
#    the kiosk's tag; its parameters in meta "lookup_kdf" (the outbox converts old rows);
#    the hall's reasons sealed to the applicant (reason_public, reason_box, reason_digest);
#    later, with the same check: supplements (kind, parent_id), added on open when missing;
#    then a correction's materials (ids, comma-separated), a completion's result count and
#    the grid worker who helped (``agent``: a keyed digest of the worker id, for the worklist);
#    then that worker's staff card key (``agent_public``, the public half) and the hall's
#    reason sealed to it as a second box (``agent_reason_box``), both NULL in older rows
SCHEMA_VERSION = 3
LOOKUP_KDF_KEY = "lookup_kdf"
_BYTES_USED_KEY = "bytes_used"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    provisional_number TEXT NOT NULL,
    official_number TEXT,
    service_code TEXT NOT NULL,
    county TEXT NOT NULL,
    created_at TEXT NOT NULL,
    queued_at REAL NOT NULL,
    page_count INTEGER NOT NULL,
    visits_needed INTEGER NOT NULL,
    applicant_tag TEXT NOT NULL,
    document_sha256 TEXT NOT NULL,
    document_size INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ({", ".join(f"'{s}'" for s in STATES)})),
    reason TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL,
    updated_at REAL NOT NULL,
    submitted_at REAL,
    purged INTEGER NOT NULL DEFAULT 0,
    reason_public BLOB,
    reason_box BLOB,
    reason_digest TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT 'application',
    parent_id TEXT NOT NULL DEFAULT '',
    materials TEXT NOT NULL DEFAULT '',
    results INTEGER NOT NULL DEFAULT 0,
    agent TEXT NOT NULL DEFAULT '',
    agent_public BLOB,
    agent_reason_box BLOB
);
CREATE INDEX IF NOT EXISTS entries_state ON entries (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS entries_applicant ON entries (applicant_tag);
CREATE INDEX IF NOT EXISTS entries_queued ON entries (state, queued_at);
CREATE INDEX IF NOT EXISTS entries_provisional ON entries (provisional_number COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS entries_official ON entries (official_number COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS entries_retention ON entries (purged, submitted_at);
CREATE INDEX IF NOT EXISTS entries_document ON entries (document_sha256);
CREATE INDEX IF NOT EXISTS entries_agent ON entries (agent, kind);
CREATE INDEX IF NOT EXISTS entries_parent ON entries (parent_id);
CREATE TABLE IF NOT EXISTS attachments (
    entry_id TEXT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    material TEXT NOT NULL,
    pages INTEGER NOT NULL,
    uploaded INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (entry_id, sha256)
);
CREATE INDEX IF NOT EXISTS attachments_sha256 ON attachments (sha256);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- running counts per state, kept by the database itself in the writing transaction
CREATE TABLE IF NOT EXISTS state_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS entries_count_insert AFTER INSERT ON entries BEGIN
    INSERT INTO state_counts (state, n) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS entries_count_update AFTER UPDATE OF state ON entries
WHEN OLD.state != NEW.state BEGIN
    UPDATE state_counts SET n = n - 1 WHERE state = OLD.state;
    INSERT INTO state_counts (state, n) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS entries_count_delete AFTER DELETE ON entries BEGIN
    UPDATE state_counts SET n = n - 1 WHERE state = OLD.state;
END;
CREATE TABLE IF NOT EXISTS purges (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id TEXT NOT NULL,
    provisional_number TEXT NOT NULL,
    official_number TEXT,
    state TEXT NOT NULL,
    submitted_at REAL,
    purged_at REAL NOT NULL,
    bytes_freed INTEGER NOT NULL,
    reason TEXT NOT NULL
);
"""

_ENTRY_COLUMNS = (
    "id, provisional_number, official_number, service_code, county, created_at, queued_at, "
    "page_count, visits_needed, applicant_tag, document_sha256, document_size, state, reason, "
    "attempts, next_attempt_at, updated_at, submitted_at, purged, reason_public, reason_box, reason_digest, "
    "kind, parent_id, materials, results, agent, agent_public, agent_reason_box"
)
_ADDED_COLUMNS = {  # schema 3: added to older outboxes on open
    "reason_public": "BLOB", "reason_box": "BLOB", "reason_digest": "TEXT NOT NULL DEFAULT ''",
    # a supplement (new pages answering a correction) and the application it joins
    "kind": "TEXT NOT NULL DEFAULT 'application'", "parent_id": "TEXT NOT NULL DEFAULT ''",
    # a correction's materials, a completion's results, the grid worker who helped (worklist)
    "materials": "TEXT NOT NULL DEFAULT ''", "results": "INTEGER NOT NULL DEFAULT 0",
    "agent": "TEXT NOT NULL DEFAULT ''",
    # the worker's staff card key (public half) and the reason sealed to it (the worklist's)
    "agent_public": "BLOB", "agent_reason_box": "BLOB",
}
APPLICATION, SUPPLEMENT = "application", "supplement"


@dataclass(frozen=True)
class EntryRow:
    id: str
    provisional_number: str
    official_number: str | None
    service_code: str
    county: str
    created_at: str
    queued_at: float
    page_count: int
    visits_needed: int
    applicant_tag: str
    document_sha256: str
    document_size: int
    state: str
    reason: str
    attempts: int
    next_attempt_at: float | None
    updated_at: float
    submitted_at: float | None
    purged: bool
    reason_public: bytes | None = None  # the applicant's reason key (public half), None without a tag
    reason_box: bytes | None = None  # the hall's reason, sealed to reason_public
    reason_digest: str = ""  # tells a repeated reason from a new one without opening the box
    kind: str = APPLICATION  # or SUPPLEMENT: new pages for ``parent_id``'s correction
    parent_id: str = ""
    materials: str = ""  # the latest correction's material ids, comma-separated ("" = none named)
    results: int = 0  # results the hall keeps for a completed application (a printable slip)
    agent: str = ""  # keyed digest of the grid worker who applied on the villager's behalf
    agent_public: bytes | None = None  # that worker's staff card key (X25519 public), None without
    agent_reason_box: bytes | None = None  # the hall's reason sealed to agent_public (a second box)


@dataclass(frozen=True)
class PurgeRow:
    """An audit record: the sealed copies of ``entry_id`` were deleted at ``purged_at``."""

    entry_id: str
    provisional_number: str
    official_number: str | None
    state: str
    submitted_at: float | None
    purged_at: float
    bytes_freed: int
    reason: str  # "retention" | "wipe" | …


@dataclass(frozen=True)
class AttachmentRow:
    entry_id: str
    position: int
    sha256: str
    size: int
    material: str
    pages: int
    uploaded: bool


class OutboxStore:
    """SQLite storage for the outbox. Thread-safe: one connection behind a lock."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            # overwritten tags and reasons are zeroed, not left in free pages for a disk thief
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._add_columns()
            self._db.executescript(_SCHEMA)  # IF NOT EXISTS: also adds version 2's indexes to old files
            self._upgrade()
        except StorageError:
            raise
        except sqlite3.Error as exc:
            if _is_full(exc):
                raise DiskFull("cannot open the outbox database: the disk is full") from exc
            raise StorageError(f"cannot open the outbox database: {exc}") from exc
        self.recovered = self._recover()

    # -- plumbing ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """One ``BEGIN IMMEDIATE … COMMIT``; rolls back and raises ``StorageError`` on failure."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                if _is_full(exc):
                    raise DiskFull("cannot begin a transaction: the disk is full") from exc
                raise StorageError(f"cannot begin a transaction: {exc}") from exc
            try:
                yield _Cursor(self._db)
                self._db.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                self._rollback()
                if "UNIQUE" in str(exc) and "entries.id" in str(exc):
                    raise DuplicateEntry("this application is already queued") from exc
                raise StorageError(f"outbox constraint failed: {exc}") from exc
            except sqlite3.Error as exc:
                self._rollback()
                if _is_full(exc):
                    raise DiskFull("outbox write failed: the disk is full") from exc
                raise StorageError(f"outbox write failed: {exc}") from exc
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        """ROLLBACK if a transaction is open (SQLite may have ended it itself on a full disk)."""
        if self._db.in_transaction:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StorageError(f"outbox read failed: {exc}") from exc

    def checkpoint(self) -> None:
        """Fold the WAL into the database and empty it (old page images gone from the WAL too)."""
        self._query("PRAGMA wal_checkpoint(TRUNCATE)")

    def pragma(self, name: str) -> Any:
        return self._query(f"PRAGMA {name}")[0][0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _add_columns(self) -> None:
        """Columns of schema 3 on an outbox made before (ALTER TABLE before the indexes)."""
        found = self._db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='entries'")
        if found.fetchone() is None:
            return
        have = {r[1] for r in self._db.execute("PRAGMA table_info(entries)")}
        for name, kind in _ADDED_COLUMNS.items():
            if name not in have:
                self._db.execute(f"ALTER TABLE entries ADD COLUMN {name} {kind}")

    def _upgrade(self) -> None:
        """Bring an outbox of an older schema up to ``SCHEMA_VERSION`` (one transaction)."""
        with self.transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            version = int(row[0]) if row else 0
            if version < 2 or db.execute(
                "SELECT 1 FROM meta WHERE key = ?", (_BYTES_USED_KEY,)
            ).fetchone() is None:
                # the running total starts from what the rows name (the one scan, once per file)
                used = db.execute(
                    "SELECT COALESCE(SUM(size), 0) FROM ("
                    " SELECT document_sha256 AS sha, document_size AS size FROM entries WHERE purged = 0"
                    " UNION SELECT a.sha256, a.size FROM attachments a JOIN entries e ON e.id = a.entry_id"
                    " WHERE e.purged = 0)"
                ).fetchone()[0]
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                           (_BYTES_USED_KEY, str(int(used))))
            if db.execute("SELECT 1 FROM meta WHERE key = 'state_counts'").fetchone() is None:
                # the triggers keep the counts from now on; start them from the rows (once per file)
                db.execute("DELETE FROM state_counts")
                db.execute("INSERT INTO state_counts (state, n)"
                           " SELECT state, COUNT(*) FROM entries GROUP BY state")
                db.execute("INSERT INTO meta (key, value) VALUES ('state_counts', '1')")
            if version < SCHEMA_VERSION:
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)",
                           (str(SCHEMA_VERSION),))

    def _add_bytes_used(self, db: _Cursor, delta: int) -> None:
        """Move the running total inside the transaction that adds or frees the blobs."""
        db.execute(
            "UPDATE meta SET value = CAST(MAX(0, CAST(value AS INTEGER) + ?) AS TEXT) WHERE key = ?",
            (int(delta), _BYTES_USED_KEY),
        )

    def _recover(self) -> int:
        with self.transaction() as db:
            return int(db.execute(
                "UPDATE entries SET state = ?, next_attempt_at = NULL WHERE state = ?", (SEALED, UPLOADING)
            ).rowcount)

    # -- writes -----------------------------------------------------------------------

    def insert(self, entry: EntryRow, attachments: Iterable[AttachmentRow]) -> None:
        """Add an entry and its attachments; the blobs they name count in ``bytes_used`` from now."""
        values = tuple(getattr(entry, f.strip()) for f in _ENTRY_COLUMNS.split(","))
        attachments = list(attachments)
        with self.transaction() as db:
            named = {entry.document_sha256: entry.document_size, **{a.sha256: a.size for a in attachments}}
            shared = self._referenced(db, list(named), except_entry=None)
            self._add_bytes_used(db, sum(size for sha, size in named.items() if sha not in shared))
            db.execute(
                f"INSERT INTO entries ({_ENTRY_COLUMNS}) VALUES ({', '.join('?' * len(values))})", values
            )
            for att in attachments:
                db.execute(
                    "INSERT INTO attachments (entry_id, position, sha256, size, material, pages, uploaded)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        entry.id,
                        att.position,
                        att.sha256,
                        att.size,
                        att.material,
                        att.pages,
                        int(att.uploaded),
                    ),
                )

    def claim(self, entry_id: str, now: float) -> bool:
        """``sealed`` -> ``uploading``; False if the entry was not ready."""
        with self.transaction() as db:
            claimed: int = db.execute(
                "UPDATE entries SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
                (UPLOADING, now, entry_id, SEALED),
            ).rowcount
            return claimed == 1

    def release(self, entry_id: str, reason: str, next_attempt_at: float, now: float, count: bool) -> None:
        """``uploading`` -> ``sealed``, to be tried again at ``next_attempt_at``."""
        with self.transaction() as db:
            db.execute(
                "UPDATE entries SET state = ?, reason = ?, next_attempt_at = ?, updated_at = ?,"
                " attempts = attempts + ? WHERE id = ? AND state = ?",
                (SEALED, reason, next_attempt_at, now, 1 if count else 0, entry_id, UPLOADING),
            )

    def mark_submitted(self, entry_id: str, official_number: str | None, state: str, now: float) -> None:
        with self.transaction() as db:
            db.execute(  # a number the feed brought already is never wiped by a later answer without one
                "UPDATE entries SET state = ?, official_number = COALESCE(?, official_number), reason = '',"
                " next_attempt_at = NULL, updated_at = ?, submitted_at = ?, attempts = attempts + 1"
                " WHERE id = ?",
                (state, official_number, now, now, entry_id),
            )

    def mark_failed(self, entry_id: str, reason: str, now: float) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE entries SET state = ?, reason = ?, next_attempt_at = NULL, updated_at = ?,"
                " attempts = attempts + 1 WHERE id = ?",
                (FAILED, reason, now, entry_id),
            )

    def set_uploaded(self, entry_id: str, sha256: str, uploaded: bool) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE attachments SET uploaded = ? WHERE entry_id = ? AND sha256 = ?",
                (int(uploaded), entry_id, sha256),
            )

    def apply_status(
        self, entry_id: str, state: str, official_number: str | None, reason: str, now: float,
        reason_box: bytes | None = None, reason_digest: str | None = None,
        materials: str = "", results: int = 0, agent_reason_box: bytes | None = None,
    ) -> bool:
        """Set a state the hall reported; True if anything changed (applying twice is harmless).

        With ``reason_digest`` the reason is kept only as ``reason_box`` (sealed by the
        caller; ``agent_reason_box``: the same reason sealed to the grid worker's card) and
        the digest tells a repeat; ``reason`` is then stored empty.
        """
        with self.transaction() as db:
            row = db.execute(
                "SELECT state, official_number, reason, reason_digest, materials, results FROM entries"
                " WHERE id = ?", (entry_id,)
            ).fetchone()
            if row is None:
                return False
            number = official_number or row[1]
            same_extras = (row[4], row[5]) == (materials, results)
            if reason_digest is not None:
                if (row[0], row[1], row[3]) == (state, number, reason_digest) and not row[2] and same_extras:
                    return False
                db.execute(
                    "UPDATE entries SET state = ?, official_number = ?, reason = '', reason_box = ?,"
                    " agent_reason_box = ?, reason_digest = ?, materials = ?, results = ?,"
                    " next_attempt_at = NULL, updated_at = ?, submitted_at = COALESCE(submitted_at, ?)"
                    " WHERE id = ?",
                    (state, number, reason_box, agent_reason_box, reason_digest, materials, results, now, now,
                     entry_id),
                )
                return True
            if (row[0], row[1], row[2]) == (state, number, reason) and same_extras:
                return False
            db.execute(
                "UPDATE entries SET state = ?, official_number = ?, reason = ?, reason_box = NULL,"
                " agent_reason_box = NULL, reason_digest = '', materials = ?, results = ?,"
                " next_attempt_at = NULL, updated_at = ?, submitted_at = COALESCE(submitted_at, ?)"
                " WHERE id = ?",
                (state, number, reason, materials, results, now, now, entry_id),
            )
            return True

    def plain_hall_reasons(self) -> list[tuple[str, str, bytes | None]]:
        """(id, reason, reason_public) of hall states whose reason is still in the clear (old outboxes)."""
        marks = ", ".join("?" * len(HALL_STATES))
        return self._query(
            f"SELECT id, reason, reason_public FROM entries WHERE state IN ({marks}) AND reason != ''",
            HALL_STATES,
        )

    def seal_reason(self, entry_id: str, reason_box: bytes | None, reason_digest: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE entries SET reason = '', reason_box = ?, reason_digest = ? WHERE id = ?",
                       (reason_box, reason_digest, entry_id))

    def mark_purged(self, entry_id: str, reason: str = "retention", bytes_freed: int = 0,
                    now: float | None = None) -> bool:
        """Mark an entry purged and keep the audit record, in one transaction; False if already."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT provisional_number, official_number, state, submitted_at, purged FROM entries"
                " WHERE id = ?", (entry_id,)
            ).fetchone()
            if row is None or row[4]:
                return False
            # the lookup key goes with the sealed copies: a finished entry is found by its number
            db.execute("UPDATE entries SET purged = 1, applicant_tag = '', reason_public = NULL,"
                       " reason_box = NULL, agent_public = NULL, agent_reason_box = NULL WHERE id = ?",
                       (entry_id,))
            self._add_bytes_used(db, -bytes_freed)
            db.execute(
                "INSERT INTO purges (entry_id, provisional_number, official_number, state, submitted_at,"
                " purged_at, bytes_freed, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (entry_id, row[0], row[1], row[2], row[3], now if now is not None else 0.0, bytes_freed,
                 reason),
            )
            return True

    def purges(self) -> list[PurgeRow]:
        rows = self._query(
            "SELECT entry_id, provisional_number, official_number, state, submitted_at, purged_at,"
            " bytes_freed, reason FROM purges ORDER BY seq"
        )
        return [PurgeRow(*r) for r in rows]

    def applicant_tags(self) -> list[str]:
        """The distinct non-empty values in ``applicant_tag`` (for the one-time conversion)."""
        rows = self._query("SELECT DISTINCT applicant_tag FROM entries WHERE applicant_tag != ''")
        return [r[0] for r in rows]

    def convert_applicant_tags(self, replacements: dict[str, tuple[str, bytes]], params_json: str) -> str:
        """Replace each old tag by (lookup key, reason public key) and record the KDF parameters,
        in one transaction; returns the parameters in force. When another process sharing the
        outbox recorded its own first, nothing is replaced and those are returned."""
        with self.transaction() as db:
            existing = db.execute("SELECT value FROM meta WHERE key = ?", (LOOKUP_KDF_KEY,)).fetchone()
            if existing is not None:
                return str(existing[0])
            for old, (new, public) in replacements.items():
                db.execute("UPDATE entries SET applicant_tag = ?, reason_public = ? WHERE applicant_tag = ?",
                           (new, public, old))
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (LOOKUP_KDF_KEY, params_json))
            return params_json

    def next_sequence(self) -> int:
        with self.transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'sequence'").fetchone()
            value = int(row[0]) + 1 if row else 1
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('sequence', ?)", (str(value),))
            return value

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- reads ------------------------------------------------------------------------

    def bytes_used(self) -> int:
        """Bytes of the blobs the live rows name: a running total, not a scan."""
        value = self.get_meta(_BYTES_USED_KEY)
        return int(value) if value is not None else 0

    def get_meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def get(self, entry_id: str) -> EntryRow | None:
        rows = self._query(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE id = ?", (entry_id,))
        return _entry(rows[0]) if rows else None

    def entries(self, states: Iterable[str] | None = None) -> list[EntryRow]:
        if states is None:
            rows = self._query(f"SELECT {_ENTRY_COLUMNS} FROM entries ORDER BY queued_at, seq")
        else:
            wanted = tuple(states)
            marks = ", ".join("?" * len(wanted))
            rows = self._query(
                f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE state IN ({marks}) ORDER BY queued_at, seq",
                wanted,
            )
        return [_entry(r) for r in rows]

    def due(self, now: float) -> list[EntryRow]:
        """``sealed`` entries whose next attempt is due, oldest first."""
        rows = self._query(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE state = ? AND"
            " (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY queued_at, seq",
            (SEALED, now),
        )
        return [_entry(r) for r in rows]

    def by_applicant(self, tag: str) -> list[EntryRow]:
        rows = self._query(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE applicant_tag = ? AND kind = 'application'"
            " ORDER BY queued_at, seq", (tag,)
        )
        return [_entry(r) for r in rows]

    def by_agent(self, agent: str) -> list[EntryRow]:
        """The applications a grid worker made (``agent`` is the outbox's digest), newest first."""
        rows = self._query(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE agent = ? AND kind = 'application'"
            " ORDER BY queued_at DESC, seq DESC", (agent,)
        )
        return [_entry(r) for r in rows]

    def supplements_of(self, parent_id: str) -> list[EntryRow]:
        """The supplements queued for an application, oldest first (indexed)."""
        rows = self._query(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE parent_id = ? AND kind = 'supplement'"
            " ORDER BY queued_at, seq", (parent_id,)
        )
        return [_entry(r) for r in rows]

    def by_number(self, number: str) -> list[EntryRow]:
        """Entries whose provisional or official number is ``number``, case-insensitively (indexed)."""
        rows = self._query(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE provisional_number = ? COLLATE NOCASE"
            " AND kind = 'application' UNION "
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE official_number = ? COLLATE NOCASE"
            " AND kind = 'application'",
            (number, number),
        )
        return sorted((_entry(r) for r in rows), key=lambda e: e.queued_at)

    def purgeable(self, cutoff: float) -> list[str]:
        """Ids of entries the hall confirmed (``HALL_STATES``) at or before ``cutoff``, not yet purged."""
        marks = ", ".join("?" * len(HALL_STATES))
        rows = self._query(
            f"SELECT id FROM entries WHERE purged = 0 AND submitted_at <= ? AND state IN ({marks})"
            " ORDER BY submitted_at",
            (cutoff, *HALL_STATES),
        )
        return [r[0] for r in rows]

    def unsent_blobs(self) -> list[tuple[str, str]]:
        """(entry id, blob sha256) for every blob an unsent entry needs: one query, for the open check."""
        marks = ", ".join("?" * len(UNSENT_STATES))
        return self._query(
            f"SELECT id, document_sha256 FROM entries WHERE state IN ({marks})"
            " UNION ALL SELECT e.id, a.sha256 FROM attachments a JOIN entries e ON e.id = a.entry_id"
            f" WHERE e.state IN ({marks})",
            (*UNSENT_STATES, *UNSENT_STATES),
        )

    def attachments(self, entry_id: str) -> list[AttachmentRow]:
        rows = self._query(
            "SELECT entry_id, position, sha256, size, material, pages, uploaded FROM attachments"
            " WHERE entry_id = ? ORDER BY position",
            (entry_id,),
        )
        return [AttachmentRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]

    def counts(self) -> dict[str, int]:
        """Entries per state: running counts the triggers keep, not a scan."""
        counts = dict.fromkeys(STATES, 0)
        for state, n in self._query("SELECT state, n FROM state_counts"):
            counts[state] = n
        return counts

    def oldest_unsent_queued_at(self) -> float | None:
        # one MIN per state: each is a single seek in entries_queued (an IN list would walk them all)
        oldest = [self._query("SELECT MIN(queued_at) FROM entries WHERE state = ?", (state,))[0][0]
                  for state in UNSENT_STATES]
        return min((t for t in oldest if t is not None), default=None)

    def referenced_blobs(self) -> set[str]:
        docs = self._query("SELECT document_sha256 FROM entries WHERE purged = 0")
        atts = self._query(
            "SELECT a.sha256 FROM attachments a JOIN entries e ON e.id = a.entry_id WHERE e.purged = 0"
        )
        return {r[0] for r in docs} | {r[0] for r in atts}


    def referenced_blobs_except(self, entry_id: str, shas: Sequence[str]) -> set[str]:
        """Which of ``shas`` live entries other than ``entry_id`` still need (pages may share a blob)."""
        with self._lock:
            try:
                return self._referenced(_Cursor(self._db), list(shas), except_entry=entry_id)
            except sqlite3.Error as exc:
                raise StorageError(f"outbox read failed: {exc}") from exc

    @staticmethod
    def _referenced(db: _Cursor, shas: list[str], except_entry: str | None) -> set[str]:
        """Indexed lookups of ``shas`` among the live entries (but ``except_entry``)."""
        if not shas:
            return set()
        marks = ", ".join("?" * len(shas))
        other = except_entry if except_entry is not None else ""
        docs = db.execute(
            # "+purged": without statistics SQLite would walk entries_retention (every live entry)
            f"SELECT document_sha256 FROM entries WHERE document_sha256 IN ({marks}) AND +purged = 0"
            " AND +id != ?", (*shas, other),
        ).fetchall()
        atts = db.execute(
            "SELECT a.sha256 FROM attachments a JOIN entries e ON e.id = a.entry_id"
            f" WHERE a.sha256 IN ({marks}) AND +e.purged = 0 AND +e.id != ?", (*shas, other),
        ).fetchall()
        return {r[0] for r in docs} | {r[0] for r in atts}


class _Cursor:
    """The connection as seen inside a transaction (``execute`` only)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, params)


def _is_full(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None) or 0
    return code & 0xFF == sqlite3.SQLITE_FULL or "disk is full" in str(exc).lower()


def _entry(row: tuple) -> EntryRow:
    values = list(row)
    values[18] = bool(values[18])  # purged
    return EntryRow(*values)
