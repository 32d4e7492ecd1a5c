"""The offline queue's facade: seal an application, keep it on disk, hand it to the sync.

``OfflineQueue`` is what the kiosk and the sync engine talk to. It seals the application
document and every attachment to the hall's public key (``offline_queue.sealing``),
writes the boxes to the blob store and the routing metadata to the SQLite outbox in one
transaction. Nothing personal is kept in the clear: only sealed boxes, routing metadata
(numbers, service code, county, page count, states) and the applicant tag (an HMAC the
kiosk computes). It knows neither HTTP nor the hall.

Crash safety: blobs are written (fsync, rename, folder fsync) *before* the row that
names them commits, so a row never points at a missing or partial file. Opening the
queue after a power cut at any instant repairs what the cut left and says so in
``OfflineQueue.recovery`` (a ``Recovery``): entries left ``uploading`` go back to
``sealed``, temporaries and blobs no committed row names are removed, and an unsent
entry whose sealed copy is gone (a disk fault, not a crash) is quarantined as
``failed`` with the reason ``blob_missing`` instead of blocking the others.

Budgets: ``enqueue`` refuses with ``QueueFull`` when the queue's own budget would be
exceeded and with ``DiskFull`` when the filesystem would keep less than
``min_free_bytes`` free, in both cases before anything is written.

Retention: ``purge_confirmed`` deletes the sealed copies of entries the hall confirmed
more than a given time ago, through ``purge`` (the one path a remote wipe will use too),
which keeps an audit record in the outbox (``purges()``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from offline_queue import sealing
from offline_queue.applicant_lookup import ApplicantLookup, LookupParams
from offline_queue.blobs import BlobStore, sha256_hex
from offline_queue.errors import DiskFull, QueueFull, StorageError
from offline_queue.store import (
    APPLICATION,
    HALL_STATES,
    LOOKUP_KDF_KEY,
    SEALED,
    STATES,
    SUBMITTED,
    SUPPLEMENT,
    UNSENT_STATES,
    AttachmentRow,
    EntryRow,
    OutboxStore,
    PurgeRow,
)

log = logging.getLogger(__name__)

_CURSOR_KEY = "sync_cursor"
# Hall statuses the kiosk keeps as one of its own: after a supplement the county has the
# application again and is checking it, which is what "submitted" tells the villager.
_HALL_STATUS_AS = {"supplemented": SUBMITTED}
_CONTACT_KEY = "last_contact"
_CREATED_KEY = "created_at"


# Read-only properties, not plain attributes: the kiosk's frozen dataclasses fit them
# (a plain protocol attribute would demand a settable one).
class AttachmentLike(Protocol):
    @property
    def material(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def media_type(self) -> str: ...
    @property
    def pages(self) -> int: ...


class ApplicationLike(Protocol):
    """What ``enqueue`` reads from an application (``kiosk.applications.Application`` fits)."""

    @property
    def id(self) -> str: ...
    @property
    def provisional_number(self) -> str: ...
    @property
    def service_code(self) -> str: ...
    @property
    def county(self) -> str: ...
    @property
    def created_at(self) -> str: ...
    @property
    def visits_needed(self) -> int: ...
    @property
    def applicant_tag(self) -> str: ...
    @property
    def document(self) -> dict[str, Any]: ...
    @property
    def attachments(self) -> Sequence[AttachmentLike]: ...


class SupplementLike(Protocol):
    """New pages answering a correction (``kiosk`` builds one from the materials named)."""

    @property
    def id(self) -> str: ...
    @property
    def created_at(self) -> str: ...
    @property
    def document(self) -> dict[str, Any]: ...
    @property
    def attachments(self) -> Sequence[AttachmentLike]: ...


class StatusChangeLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def official_number(self) -> str: ...
    @property
    def reason(self) -> str: ...


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
    applicant_tag: str = field(default="", repr=False)  # the outbox's lookup key, not the kiosk's tag
    submitted_at: float | None = None
    # the hall's reason is sealed to the applicant: ``reason`` holds it only in entries from
    # ``by_applicant`` (the card opens it) or ``by_agent`` with the worker's card; elsewhere
    # this says one is there
    reason_sealed: bool = False
    # the same reason sealed to the grid worker's staff card too (a second box): ``by_agent``
    # opens it with the card's key agreement
    agent_reason_sealed: bool = False
    reason_digest: str = field(default="", repr=False)  # changes with the reason (a keyed digest)
    kind: str = APPLICATION  # or SUPPLEMENT: new pages for the application ``parent_id``
    parent_id: str = ""
    materials: tuple[str, ...] = ()  # the latest correction's material ids (() = none named: any)
    results: int = 0  # results the hall keeps for a completed application (the printable slip)


@dataclass(frozen=True)
class QueueSummary:
    counts: dict[str, int]
    oldest_unsent_age_s: float | None
    bytes_used: int
    budget_bytes: int
    near_full: bool
    free_disk_bytes: int | None = None  # what the filesystem under the queue still has
    last_contact_age_s: float | None = None  # since the hall last answered (or the queue began)

    @property
    def waiting(self) -> int:
        return sum(self.counts.get(s, 0) for s in UNSENT_STATES)


@dataclass(frozen=True)
class Recovery:
    """What opening the queue repaired after a crash or power cut."""

    in_flight_reset: int = 0  # entries left ``uploading``, back to ``sealed``
    temporaries_swept: int = 0  # half-written blob files removed
    orphan_blobs_removed: int = 0  # whole blobs whose row never committed
    quarantined: tuple[str, ...] = ()  # unsent entries whose sealed copy is missing -> failed

    @property
    def anything(self) -> bool:
        return bool(self.in_flight_reset or self.temporaries_swept or self.orphan_blobs_removed
                    or self.quarantined)

    def to_dict(self) -> dict[str, Any]:
        return {"in_flight_reset": self.in_flight_reset, "temporaries_swept": self.temporaries_swept,
                "orphan_blobs_removed": self.orphan_blobs_removed, "quarantined": list(self.quarantined)}


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
        reason_sealed=row.reason_box is not None,
        agent_reason_sealed=row.agent_reason_box is not None,
        reason_digest=row.reason_digest,
        kind=row.kind,
        parent_id=row.parent_id,
        materials=tuple(m for m in row.materials.split(",") if m),
        results=row.results,
    )


class OfflineQueue:
    """The encrypted outbox in ``data_dir`` (``outbox.sqlite3`` and ``blobs/``)."""

    def __init__(
        self,
        data_dir: Path,
        budget_bytes: int,
        clock: Callable[[], float] = time.time,
        near_full_fraction: float = 0.9,
        min_free_bytes: int = 0,
        write: Callable[[int, memoryview], int] = os.write,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.budget_bytes = int(budget_bytes)
        self.near_full_fraction = near_full_fraction
        self.min_free_bytes = int(min_free_bytes)
        self._clock = clock
        self._lock = threading.RLock()
        self._store = OutboxStore(self.data_dir / "outbox.sqlite3")
        self._blobs = BlobStore(self.data_dir / "blobs", write=write)
        self.recovered = self._store.recovered
        self._lookup = self._open_lookup()
        self._seal_plain_reasons()
        on_disk = set(self._blobs.names())  # the one walk over the blob folder, on open only
        self.orphans_removed = self._remove_orphans(on_disk)
        quarantined = self._quarantine_missing(on_disk)
        self.recovery = Recovery(self.recovered, self._blobs.swept, self.orphans_removed, quarantined)
        if self._store.get_meta(_CREATED_KEY) is None:
            self._store.set_meta(_CREATED_KEY, repr(self._clock()))
        if self.recovery.anything:
            log.warning(
                "outbox recovered after a crash: %d in flight back to ready, %d temporaries and %d"
                " orphan blobs removed, %d entries quarantined (sealed copy missing)",
                self.recovery.in_flight_reset, self.recovery.temporaries_swept,
                self.recovery.orphan_blobs_removed, len(quarantined),
            )

    # -- the kiosk's side --------------------------------------------------------------

    def enqueue(self, app: ApplicationLike, hall_seal_key: bytes,
                *, agent_card_key: bytes | None = None) -> QueueEntry:
        """Seal ``app`` to the hall's key and queue it; ``QueueFull`` before anything is written.

        ``agent_card_key``: the X25519 public key of the staff card of the grid worker who
        applied (代办), kept with the entry so the hall's reasons are sealed to the card too
        (``by_agent``). Not secret; ignored for an application without an agent."""
        agent = self._agent_of(app.document)
        agent_public = _card_key(agent_card_key) if agent else None
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
            used = self._store.bytes_used()  # a running total: enqueue costs the same at any queue size
            if used + needed > self.budget_bytes:
                raise QueueFull(f"queue budget exceeded: {used} + {needed} > {self.budget_bytes} bytes")
            free = self.free_disk_bytes()
            if free is not None and free - needed < self.min_free_bytes:
                raise DiskFull(f"only {free} bytes free on the disk, {needed} needed"
                               f" and {self.min_free_bytes} kept free")
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
                    applicant_tag=self._lookup.key_for(app.applicant_tag),  # never the tag itself
                    reason_public=(self._lookup.reason_public(app.applicant_tag) if app.applicant_tag
                                   else None),
                    document_sha256=written[-1],
                    document_size=len(sealed_doc),
                    state=SEALED,
                    reason="",
                    attempts=0,
                    next_attempt_at=None,
                    updated_at=now,
                    submitted_at=None,
                    purged=False,
                    agent=agent,
                    agent_public=agent_public,
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

    def enqueue_supplement(self, parent: QueueEntry, supplement: SupplementLike,
                           hall_seal_key: bytes) -> QueueEntry:
        """Seal and queue new pages for ``parent``'s correction; the sync sends it exactly
        once like an application (docs/protocol.md 11.1). The pages are sealed with the
        application's id as context (the hall opens them as the first pages), the document
        with the supplement's own. No applicant tag: it never lists as an application."""
        if parent.kind != APPLICATION:
            raise ValueError("a supplement joins an application")
        page_context, doc_context = parent.id.encode("ascii"), supplement.id.encode("ascii")
        sealed_atts = [sealing.seal(bytes(a.data), hall_seal_key, context=page_context)
                       for a in supplement.attachments]
        shas = [sha256_hex(box) for box in sealed_atts]
        document = dict(supplement.document)
        document["attachments"] = _document_attachments(document.get("attachments"), supplement.attachments,
                                                        shas)
        payload = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        sealed_doc = sealing.seal(payload.encode("utf-8"), hall_seal_key, context=doc_context)
        del payload, document
        needed = len(sealed_doc) + sum(len(b) for b in sealed_atts)
        with self._lock:
            used = self._store.bytes_used()
            if used + needed > self.budget_bytes:
                raise QueueFull(f"queue budget exceeded: {used} + {needed} > {self.budget_bytes} bytes")
            free = self.free_disk_bytes()
            if free is not None and free - needed < self.min_free_bytes:
                raise DiskFull(f"only {free} bytes free on the disk, {needed} needed"
                               f" and {self.min_free_bytes} kept free")
            written: list[str] = []
            try:
                for box in [*sealed_atts, sealed_doc]:
                    written.append(self._blobs.put(box))
                now = self._clock()
                row = EntryRow(
                    id=supplement.id, provisional_number=parent.provisional_number,
                    official_number=parent.official_number, service_code=parent.service_code,
                    county=parent.county, created_at=supplement.created_at, queued_at=now,
                    page_count=sum(int(a.pages) for a in supplement.attachments), visits_needed=0,
                    applicant_tag="", reason_public=None, document_sha256=written[-1],
                    document_size=len(sealed_doc), state=SEALED, reason="", attempts=0,
                    next_attempt_at=None, updated_at=now, submitted_at=None, purged=False,
                    kind=SUPPLEMENT, parent_id=parent.id,
                )
                atts = [
                    AttachmentRow(supplement.id, i, sha, len(box), a.material, int(a.pages), False)
                    for i, (a, sha, box) in enumerate(zip(supplement.attachments, shas, sealed_atts,
                                                          strict=True))
                ]
                self._store.insert(row, atts)
            except BaseException:
                self._forget(written)
                raise
        log.info("outbox: queued a supplement to %s (%d pages)", parent.provisional_number, len(atts))
        return _entry(row)

    def summary(self) -> QueueSummary:
        """Counts, ages and bytes from indexed queries and running totals (asked before each villager)."""
        used = self._store.bytes_used()
        oldest = self._store.oldest_unsent_queued_at()
        now = self._clock()
        contact = self.last_contact
        if contact is None:
            created = self._store.get_meta(_CREATED_KEY)
            contact = float(created) if created is not None else None
        return QueueSummary(
            counts=self._store.counts(),
            oldest_unsent_age_s=None if oldest is None else max(0.0, now - oldest),
            bytes_used=used,
            budget_bytes=self.budget_bytes,
            near_full=used >= self.near_full_fraction * self.budget_bytes,
            free_disk_bytes=self.free_disk_bytes(),
            last_contact_age_s=None if contact is None else max(0.0, now - contact),
        )

    def free_disk_bytes(self) -> int | None:
        """Bytes an unprivileged writer may still use on the queue's filesystem (None if unknown)."""
        try:
            st = os.statvfs(self.data_dir)
        except OSError:
            return None
        return st.f_bavail * st.f_frsize

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
        """The entries queued under the kiosk's applicant tag (see ``offline_queue.applicant_lookup``)."""
        if not tag:
            return []
        entries = []
        for row in self._store.by_applicant(self._lookup.key_for(tag)):
            entry = _entry(row)
            if row.reason_box is not None:
                entry = replace(entry, reason=self._open_reason(row, tag))
            entries.append(entry)
        return entries

    def _open_reason(self, row: EntryRow, tag: str) -> str:
        try:
            return sealing.open_box(row.reason_box or b"", self._lookup.reason_key(tag),
                                    context=row.id.encode("ascii")).decode("utf-8")
        except Exception:  # noqa: BLE001 - a damaged box: show the state without its reason
            log.warning("outbox: a sealed reason could not be opened")
            return ""

    def by_agent(self, worker_id: str, agree: Callable[[bytes], bytes] | None = None,
                 card_public: bytes | None = None, only: Iterable[str] | None = None) -> list[QueueEntry]:
        """The applications a grid worker made on villagers' behalf (代办), newest first: the worklist.

        Without ``agree`` the reasons stay sealed (``reason_sealed`` / ``agent_reason_sealed``
        say one is there). With it — the worker's staff card's key agreement
        (``hardware.pcsc_cards.VerifiedStaffCard.agree``: ephemeral public key in, shared
        secret out) — each entry's second box is opened (``card_public``: only the boxes
        sealed to that card's key ask it; ``only``: only these entry ids). A box that does
        not open with what the card answered (another card, a damaged box) leaves ``reason``
        empty: fail closed. The callable's own errors (the card taken out) pass through."""
        if not worker_id:
            return []
        entries = []
        wanted = None if only is None else set(only)
        for row in self._store.by_agent(self.agent_key(worker_id)):
            entry = _entry(row)
            box, public = row.agent_reason_box, row.agent_public
            if agree is not None and box is not None and public is not None and (
                    card_public is None or bytes(card_public) == bytes(public)) and (
                    wanted is None or row.id in wanted):
                entry = replace(entry, reason=self._open_agent_reason(row.id, box, public, agree))
            entries.append(entry)
        return entries

    def _open_agent_reason(self, entry_id: str, box: bytes, public: bytes,
                           agree: Callable[[bytes], bytes]) -> str:
        try:
            return sealing.open_box_with(box, public, agree, context=entry_id.encode("ascii")).decode("utf-8")
        except (sealing.SealError, UnicodeDecodeError):  # another card or a damaged box: no reason shown
            log.warning("outbox: a reason sealed to a staff card did not open")
            return ""

    def supplements_of(self, parent_id: str) -> list[QueueEntry]:
        """The supplements queued for an application (sent or not), oldest first."""
        return [_entry(r) for r in self._store.supplements_of(parent_id)]

    def agent_key(self, worker_id: str) -> str:
        """What the outbox keeps of a grid worker: a digest keyed by this kiosk's salt, not the id."""
        return hmac.new(self._lookup.params.salt, b"agent:" + worker_id.encode("utf-8"),
                        hashlib.sha256).hexdigest()

    def _agent_of(self, document: Any) -> str:
        agent = document.get("agent") if isinstance(document, dict) else None
        worker = agent.get("worker_id") if isinstance(agent, dict) else None
        return self.agent_key(str(worker)) if worker else ""

    def by_number(self, number: str) -> list[QueueEntry]:
        """The entries whose provisional or official number is ``number`` (a receipt's QR)."""
        wanted = number.strip()
        if not wanted:
            return []
        return [_entry(r) for r in self._store.by_number(wanted)]

    def next_sequence(self) -> int:
        """A persistent counter (1, 2, 3 …) for provisional numbers."""
        return self._store.next_sequence()

    def apply_status(self, change: StatusChangeLike) -> QueueEntry | None:
        """Apply a status the hall reported; the entry if it changed, None if not (or unknown)."""
        status = _HALL_STATUS_AS.get(change.status, change.status)
        if status not in HALL_STATES:
            log.warning("outbox: ignoring unknown hall status %r", change.status)
            return None
        row = self._store.get(change.id)
        if row is None:
            return None
        box, digest = self._seal_reason(row, change.reason or "")
        agent_box = self._seal_for_agent(row, change.reason or "")
        # a correction names materials and a completion counts results (newer feeds only)
        materials = ",".join(getattr(change, "materials", ()) or ()) if status == "correction_needed" else ""
        results = int(getattr(change, "results", 0) or 0) if status == "completed" else 0
        changed = self._store.apply_status(
            change.id, status, change.official_number or None, "", self._clock(),
            reason_box=box, reason_digest=digest, materials=materials, results=results,
            agent_reason_box=agent_box,
        )
        return self.get(change.id) if changed else None

    def _seal_reason(self, row: EntryRow, reason: str) -> tuple[bytes | None, str]:
        """The hall's reason sealed to the applicant's key, and a digest to tell a repeat.

        An entry queued without an applicant tag has no key: its reason is not kept (the
        hall and its tracking page still show it).
        """
        if not reason:
            return None, ""
        message = f"{row.id}\n{reason}".encode()
        digest = hmac.new(self._lookup.params.salt, message, hashlib.sha256).hexdigest()
        if row.reason_public is None:
            return None, digest
        return sealing.seal(reason.encode("utf-8"), row.reason_public, context=row.id.encode("ascii")), digest

    @staticmethod
    def _seal_for_agent(row: EntryRow, reason: str) -> bytes | None:
        """The hall's reason sealed to the staff card of the worker who applied: a second box,
        opened only by that card's key agreement after its PIN (None: no reason or no card key)."""
        if not reason or row.agent_public is None:
            return None
        return sealing.seal(reason.encode("utf-8"), row.agent_public, context=row.id.encode("ascii"))

    def purge_confirmed(self, retention_s: float) -> int:
        """Delete the sealed copies of entries the hall confirmed more than ``retention_s`` ago.

        Entries not yet confirmed (``sealed``, ``uploading``) and quarantined ones
        (``failed``, kept for the grid worker) are never purged here.
        """
        cutoff = self._clock() - retention_s
        purged = 0
        for entry_id in self._store.purgeable(cutoff):  # indexed: not a walk over every entry
            if self.purge(entry_id, "retention"):
                purged += 1
        if purged:
            log.info("outbox: retention purged the sealed copies of %d confirmed entries", purged)
        return purged

    def purge(self, entry_id: str, reason: str) -> bool:
        """Delete one entry's sealed copies, keeping its row and an audit record; False if already.

        The audit record and the purged mark commit first, then the files go; a crash in
        between leaves orphan blobs that the next open removes.
        """
        row = self._store.get(entry_id)
        if row is None or row.purged:
            return False
        shas = [row.document_sha256, *(a.sha256 for a in self._store.attachments(row.id))]
        with self._lock:
            others = self._store.referenced_blobs_except(entry_id, shas)
            freed = sum(self._blob_size(sha) for sha in shas if sha not in others)
            if not self._store.mark_purged(entry_id, reason, freed, self._clock()):
                return False
            for sha in shas:
                if sha not in others:
                    self._blobs.delete(sha)
        return True

    def purges(self) -> list[PurgeRow]:
        """The audit trail of purged entries, oldest first (no personal data in it)."""
        return self._store.purges()

    def _blob_size(self, sha256: str) -> int:
        try:
            return self._blobs.path_for(sha256).stat().st_size
        except OSError:
            return 0

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

    def mark_submitted(self, entry_id: str, official_number: str | None, state: str = SUBMITTED) -> None:
        """The hall has it; ``official_number`` is None until a clerk accepts it (it comes by the feed)."""
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

    def _open_lookup(self) -> ApplicantLookup:
        """The lookup KDF of this outbox; an outbox from before it has its plain tags converted."""
        stored = self._store.get_meta(LOOKUP_KDF_KEY)
        if stored is not None:
            try:
                return ApplicantLookup(LookupParams.from_json(stored))
            except (ValueError, KeyError, TypeError) as exc:
                raise StorageError("the outbox's lookup parameters are damaged") from exc
        lookup = ApplicantLookup(LookupParams.fresh())
        old_tags = self._store.applicant_tags()
        if old_tags:
            log.warning("outbox: converting the applicant tags of %d applicants (once)", len(old_tags))
        converted = {t: (lookup.key_for(t), lookup.reason_public(t)) for t in old_tags}
        in_force = self._store.convert_applicant_tags(converted, lookup.params.to_json())
        if old_tags:
            self._store.checkpoint()
        lookup.forget()
        if in_force != lookup.params.to_json():  # another process sharing the outbox was first
            return ApplicantLookup(LookupParams.from_json(in_force))
        return lookup

    def _seal_plain_reasons(self) -> None:
        """Reasons an older outbox kept in the clear: sealed to their applicant now (once)."""
        plain = self._store.plain_hall_reasons()
        for entry_id, reason, public in plain:
            row = self._store.get(entry_id)
            if row is not None:
                box, digest = self._seal_reason(replace(row, reason_public=public), reason)
                self._store.seal_reason(entry_id, box, digest)
        if plain:
            self._store.checkpoint()

    def _forget(self, written: list[str]) -> None:
        """Best effort after a failed enqueue; what is left is swept as orphans on next open."""
        try:
            referenced = self._store.referenced_blobs()
            for sha in written:
                if sha not in referenced:
                    self._blobs.delete(sha)
        except StorageError:
            log.warning("outbox: could not remove the blobs of a failed enqueue")

    def _quarantine_missing(self, on_disk: set[str]) -> tuple[str, ...]:
        """Unsent entries whose sealed copies are gone can never be sent: ``failed``, not stuck."""
        missing = list(dict.fromkeys(entry_id for entry_id, sha in self._store.unsent_blobs()
                                     if sha not in on_disk))
        for entry_id in missing:
            self._store.mark_failed(entry_id, "blob_missing", self._clock())
        return tuple(missing)

    def _remove_orphans(self, on_disk: set[str]) -> int:
        """Blobs written just before a crash, whose outbox row never committed."""
        referenced = self._store.referenced_blobs()
        orphans = [sha for sha in on_disk if sha not in referenced]
        for sha in orphans:
            self._blobs.delete(sha)
            on_disk.discard(sha)
        return len(orphans)


def _card_key(key: bytes | None) -> bytes | None:
    """A staff card's X25519 public key as the outbox keeps it (None when absent or malformed)."""
    if key is None:
        return None
    try:
        X25519PublicKey.from_public_bytes(bytes(key))
    except (ValueError, TypeError):
        log.warning("outbox: a staff card key that is not an X25519 key was not kept")
        return None
    return bytes(key)


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
    "Recovery",
    "StatusChangeLike",
    "UNSENT_STATES",
]
