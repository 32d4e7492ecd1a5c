"""The offline queue's facade: seal an application, keep it on disk, hand it to the sync.

``OfflineQueue`` is what the kiosk and the sync engine talk to. It seals the application
document and every attachment to the hall's public key (``offline_queue.sealing``),
writes the boxes to the blob store and the routing metadata to the SQLite outbox in one
transaction. Nothing personal is kept in the clear: only sealed boxes, routing metadata
(numbers, service code, county, page count, states) and the applicant tag (an HMAC the
kiosk computes). It knows neither HTTP nor the hall.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from offline_queue import sealing
from offline_queue.blobs import BlobStore, sha256_hex
from offline_queue.errors import QueueFull, StorageError
from offline_queue.store import (
    HALL_STATES,
    SEALED,
    STATES,
    SUBMITTED,
    UNSENT_STATES,
    AttachmentRow,
    EntryRow,
    OutboxStore,
)

log = logging.getLogger(__name__)

_CURSOR_KEY = "sync_cursor"
_CONTACT_KEY = "last_contact"


class AttachmentLike(Protocol):
    material: str
    data: bytes
    media_type: str
    pages: int


class ApplicationLike(Protocol):
    """What ``enqueue`` reads from an application (``kiosk.applications.Application`` fits)."""

    id: str
    provisional_number: str
    service_code: str
    county: str
    created_at: str
    visits_needed: int
    applicant_tag: str
    document: dict[str, Any]
    attachments: Sequence[AttachmentLike]


class StatusChangeLike(Protocol):
    id: str
    status: str
    official_number: str
    reason: str


@dataclass(frozen=True)
class QueueEntry:
    """One queued application as the screens and the sync see it (no personal data)."""

    id: str
    provisional_number: str
    official_number: str | None
    service_code: str
    state: str
    reason: str
    created_at: str
    updated_at: float
    attempts: int
    next_attempt_at: float | None
    county: str = ""
    page_count: int = 0
    visits_needed: int = 0
    applicant_tag: str = field(default="", repr=False)
    submitted_at: float | None = None


@dataclass(frozen=True)
class QueueSummary:
    counts: dict[str, int]
    oldest_unsent_age_s: float | None
    bytes_used: int
    budget_bytes: int
    near_full: bool


@dataclass(frozen=True)
class QueuedAttachment:
    """An attachment's sealed blob as the hall will know it."""

    sha256: str
    size: int
    material: str
    pages: int
    uploaded: bool


def _entry(row: EntryRow) -> QueueEntry:
    return QueueEntry(
        id=row.id,
        provisional_number=row.provisional_number,
        official_number=row.official_number,
        service_code=row.service_code,
        state=row.state,
        reason=row.reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        county=row.county,
        page_count=row.page_count,
        visits_needed=row.visits_needed,
        applicant_tag=row.applicant_tag,
        submitted_at=row.submitted_at,
    )


class OfflineQueue:
    """The encrypted outbox in ``data_dir`` (``outbox.sqlite3`` and ``blobs/``)."""

    def __init__(
        self,
        data_dir: Path,
        budget_bytes: int,
        clock: Callable[[], float] = time.time,
        near_full_fraction: float = 0.9,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.budget_bytes = int(budget_bytes)
        self.near_full_fraction = near_full_fraction
        self._clock = clock
        self._lock = threading.RLock()
        self._store = OutboxStore(self.data_dir / "outbox.sqlite3")
        self._blobs = BlobStore(self.data_dir / "blobs")
        self.recovered = self._store.recovered
        self.orphans_removed = self._remove_orphans()
        if self.recovered:
            log.info("outbox: %d entries were in flight at a crash and are ready again", self.recovered)

    # -- the kiosk's side --------------------------------------------------------------

    def enqueue(self, app: ApplicationLike, hall_seal_key: bytes) -> QueueEntry:
        """Seal ``app`` to the hall's key and queue it; ``QueueFull`` before anything is written."""
        context = app.id.encode("ascii")
        sealed_atts = [sealing.seal(bytes(a.data), hall_seal_key, context=context) for a in app.attachments]
        shas = [sha256_hex(box) for box in sealed_atts]
        document = dict(app.document)
        document["attachments"] = _document_attachments(document.get("attachments"), app.attachments, shas)
        payload = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        sealed_doc = sealing.seal(payload.encode("utf-8"), hall_seal_key, context=context)
        del payload, document
        needed = len(sealed_doc) + sum(len(b) for b in sealed_atts)
        with self._lock:
            used = self._blobs.total_size()
            if used + needed > self.budget_bytes:
                raise QueueFull(f"queue budget exceeded: {used} + {needed} > {self.budget_bytes} bytes")
            written: list[str] = []
            try:
                for box in [*sealed_atts, sealed_doc]:
                    written.append(self._blobs.put(box))
                now = self._clock()
                row = EntryRow(
                    id=app.id,
                    provisional_number=app.provisional_number,
                    official_number=None,
                    service_code=app.service_code,
                    county=app.county,
                    created_at=app.created_at,
                    queued_at=now,
                    page_count=sum(int(a.pages) for a in app.attachments),
                    visits_needed=int(app.visits_needed),
                    applicant_tag=app.applicant_tag,
                    document_sha256=written[-1],
                    document_size=len(sealed_doc),
                    state=SEALED,
                    reason="",
                    attempts=0,
                    next_attempt_at=None,
                    updated_at=now,
                    submitted_at=None,
                    purged=False,
                )
                atts = [
                    AttachmentRow(app.id, i, sha, len(box), a.material, int(a.pages), False)
                    for i, (a, sha, box) in enumerate(zip(app.attachments, shas, sealed_atts, strict=True))
                ]
                self._store.insert(row, atts)
            except BaseException:
                self._forget(written)
                raise
        log.info("outbox: queued %s (%d attachments)", app.provisional_number, len(atts))
        return _entry(row)

    def summary(self) -> QueueSummary:
        used = self._blobs.total_size()
        oldest = self._store.oldest_unsent_queued_at()
        return QueueSummary(
            counts=self._store.counts(),
            oldest_unsent_age_s=None if oldest is None else max(0.0, self._clock() - oldest),
            bytes_used=used,
            budget_bytes=self.budget_bytes,
            near_full=used >= self.near_full_fraction * self.budget_bytes,
        )

    def entries(self, states: Iterable[str] | None = None) -> list[QueueEntry]:
        if states is not None:
            states = tuple(states)
            unknown = set(states) - set(STATES)
            if unknown:
                raise ValueError(f"unknown queue states: {sorted(unknown)}")
        return [_entry(r) for r in self._store.entries(states)]

    def get(self, entry_id: str) -> QueueEntry | None:
        row = self._store.get(entry_id)
        return None if row is None else _entry(row)

    def by_applicant(self, tag: str) -> list[QueueEntry]:
        return [_entry(r) for r in self._store.by_applicant(tag)]

    def next_sequence(self) -> int:
        """A persistent counter (1, 2, 3 …) for provisional numbers."""
        return self._store.next_sequence()

    def apply_status(self, change: StatusChangeLike) -> QueueEntry | None:
        """Apply a status the hall reported; the entry if it changed, None if not (or unknown)."""
        if change.status not in HALL_STATES:
            log.warning("outbox: ignoring unknown hall status %r", change.status)
            return None
        changed = self._store.apply_status(
            change.id, change.status, change.official_number or None, change.reason or "", self._clock()
        )
        return self.get(change.id) if changed else None

    def purge_confirmed(self, retention_s: float) -> int:
        """Delete the sealed copies of entries the hall confirmed more than ``retention_s`` ago."""
        cutoff = self._clock() - retention_s
        purged = 0
        for row in self._store.entries(HALL_STATES):
            if row.purged or row.submitted_at is None or row.submitted_at > cutoff:
                continue
            self._store.mark_purged(row.id)
            for sha in [row.document_sha256, *(a.sha256 for a in self._store.attachments(row.id))]:
                self._blobs.delete(sha)
            purged += 1
        return purged

    def close(self) -> None:
        self._store.close()

    # -- the sync engine's side --------------------------------------------------------

    def due(self) -> list[QueueEntry]:
        """Entries ready to send now, oldest first."""
        return [_entry(r) for r in self._store.due(self._clock())]

    def claim(self, entry_id: str) -> bool:
        """Mark ``sealed`` -> ``uploading`` (one transaction); False if not ready."""
        return self._store.claim(entry_id, self._clock())

    def release(self, entry_id: str, reason: str, retry_at: float, count_attempt: bool = True) -> None:
        """Put an ``uploading`` entry back to ``sealed`` until ``retry_at``."""
        self._store.release(entry_id, reason, retry_at, self._clock(), count_attempt)

    def mark_submitted(self, entry_id: str, official_number: str, state: str = SUBMITTED) -> None:
        self._store.mark_submitted(entry_id, official_number, state, self._clock())

    def mark_failed(self, entry_id: str, reason: str) -> None:
        self._store.mark_failed(entry_id, reason, self._clock())

    def attachments(self, entry_id: str) -> list[QueuedAttachment]:
        return [
            QueuedAttachment(a.sha256, a.size, a.material, a.pages, a.uploaded)
            for a in self._store.attachments(entry_id)
        ]

    def mark_uploaded(self, entry_id: str, sha256: str, uploaded: bool = True) -> None:
        self._store.set_uploaded(entry_id, sha256, uploaded)

    def sealed_document(self, entry_id: str) -> bytes:
        row = self._store.get(entry_id)
        if row is None:
            raise StorageError("no such entry")
        return self._blobs.get(row.document_sha256)

    def read_blob(self, sha256: str) -> bytes:
        return self._blobs.get(sha256)

    @property
    def sync_cursor(self) -> str | None:
        return self._store.get_meta(_CURSOR_KEY)

    def set_sync_cursor(self, cursor: str) -> None:
        self._store.set_meta(_CURSOR_KEY, cursor)

    def record_contact(self) -> None:
        self._store.set_meta(_CONTACT_KEY, repr(self._clock()))

    @property
    def last_contact(self) -> float | None:
        value = self._store.get_meta(_CONTACT_KEY)
        return None if value is None else float(value)

    # -- housekeeping -----------------------------------------------------------------

    def _forget(self, written: list[str]) -> None:
        """Best effort after a failed enqueue; what is left is swept as orphans on next open."""
        try:
            referenced = self._store.referenced_blobs()
            for sha in written:
                if sha not in referenced:
                    self._blobs.delete(sha)
        except StorageError:
            log.warning("outbox: could not remove the blobs of a failed enqueue")

    def _remove_orphans(self) -> int:
        """Blobs written just before a crash, whose outbox row never committed."""
        referenced = self._store.referenced_blobs()
        orphans = [sha for sha in self._blobs.names() if sha not in referenced]
        for sha in orphans:
            self._blobs.delete(sha)
        return len(orphans)


def _document_attachments(
    listed: Any, attachments: Sequence[AttachmentLike], shas: Sequence[str]
) -> list[dict[str, Any]]:
    """The document's attachment list, each with the sealed blob's sha256 added."""
    if (
        isinstance(listed, list)
        and len(listed) == len(attachments)
        and all(isinstance(d, dict) for d in listed)
    ):
        base = [dict(d) for d in listed]
    else:
        base = [{} for _ in attachments]
    for item, att, sha in zip(base, attachments, shas, strict=True):
        item.setdefault("material", att.material)
        item.setdefault("pages", int(att.pages))
        item.setdefault("media_type", att.media_type)
        item["sha256"] = sha
    return base


__all__ = [
    "ApplicationLike",
    "AttachmentLike",
    "OfflineQueue",
    "QueueEntry",
    "QueueSummary",
    "QueuedAttachment",
    "StatusChangeLike",
    "UNSENT_STATES",
]
