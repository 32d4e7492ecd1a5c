"""Orchestration: what to send to the hall, when, and what to do with the answers.

``SyncEngine.run_once`` sends due entries oldest first, one try/except per entry, then
pulls status changes by cursor. It talks to the outbox only through ``OfflineQueue``'s
methods and to the hall only through ``HallClient``'s; it knows neither SQL nor HTTP.

Per entry: ``sealed -> uploading`` (one transaction), upload each attachment blob
(resumable), post the application with the sealed document inline, then

* success                      -> ``submitted`` with the official number;
* permanent refusal            -> ``failed`` with the hall's reason; the next entry goes on;
* transient trouble            -> back to ``sealed``, attempts + 1, retried after a backoff
  ``min(max, base * 2**attempts) * uniform(0.5, 1.0)`` (at least the hall's Retry-After);
* hall-wide trouble (unreachable, busy, signature refused, revoked) also ends the pass.

After the entries, the pass sends the due ratings (好差评, ``offline_queue.ratings``: small
records of their own, no upload), each marked sent only on a verified 2xx; the hall keys
them by their UUID, so a repeat after a lost answer is recorded once.

Link manners: no pass runs inside the configured quiet hours (China Standard Time, the
kiosk's own time); the bandwidth cap and the adaptive chunk size live in the client
(``transport.Throttle``, ``transport.ChunkSizer``). After each pass the engine purges
the sealed copies of entries the hall confirmed longer ago than the retention period.

``SyncWorker`` runs the engine on a ``workers.BackgroundLoop`` at a lower CPU priority
(the UI stays smooth; a pass or a listener that raises never ends the thread) and
announces events with no personal data in them: ``sync_started``, ``progress`` {done,
total, bytes_done, bytes_total} (at most a few a second), ``sync_finished`` {report},
``status_changed`` {id, state}.
"""

from __future__ import annotations

import base64
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Protocol

from offline_queue.errors import (
    AttachmentMissing,
    DeviceRevoked,
    HallAuthRefused,
    HallBusy,
    HallError,
    HallRejected,
    HallUnreachable,
    QueueError,
    StorageError,
)
from offline_queue.outbox import OfflineQueue, QueueEntry
from offline_queue.ratings import RatingQueue
from offline_queue.store import SUPPLEMENT
from offline_queue.transport import ChunkSizer, HallClient, SubmitResult, Throttle
from workers.loop import BackgroundLoop, PassResult

log = logging.getLogger(__name__)

CHINA_TIME = timezone(timedelta(hours=8))
_QUIET = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")


def in_quiet_hours(spec: str, now: float) -> bool:
    """Whether ``now`` (Unix seconds) falls in ``"HH:MM-HH:MM"`` China Standard Time (may wrap midnight)."""
    match = _QUIET.fullmatch(spec or "")
    if not match:
        return False
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    moment = datetime.fromtimestamp(now, UTC).astimezone(CHINA_TIME)
    minute, start, end = moment.hour * 60 + moment.minute, h1 * 60 + m1, h2 * 60 + m2
    return start <= minute < end if start < end else (minute >= start or minute < end)

# errors that say the hall (not this entry) is the trouble: stop the pass after them
_HALL_WIDE = (HallUnreachable, HallBusy, HallAuthRefused, DeviceRevoked)
# a pass that ended on one of these says the hall could not be reached or would not talk:
# the next pass waits longer (``SyncEngine.next_pass_in_s``)
_OUTAGE_CODES = frozenset({HallUnreachable.code, HallBusy.code, HallAuthRefused.code})


@dataclass(frozen=True)
class SyncReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    status_updates: int = 0
    errors: list[str] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)  # (entry id, new state)
    quiet: bool = False  # the pass did not run: quiet hours
    purged: int = 0  # entries whose sealed copies retention deleted
    wait_s: float = 0.0  # the hall asked for this long of quiet (Retry-After, capped by the client)
    ratings_sent: int = 0  # 好差评 records the hall confirmed in this pass

    @property
    def revoked(self) -> bool:
        return DeviceRevoked.code in self.errors


class SyncPolicy(Protocol):
    """The ``sync`` settings the engine reads (``kiosk.settings.SyncSection`` fits)."""

    @property
    def backoff_base_s(self) -> float: ...
    @property
    def backoff_max_s(self) -> float: ...
    @property
    def bandwidth_kbps(self) -> float: ...
    @property
    def quiet_hours(self) -> str: ...
    @property
    def chunk_min_kb(self) -> int: ...
    @property
    def chunk_max_kb(self) -> int: ...


class SyncEngine:
    def __init__(
        self,
        queue: OfflineQueue,
        client: HallClient,
        *,
        backoff_base_s: float = 2,
        backoff_max_s: float = 300,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        quiet_hours: str = "",
        retention_s: float | None = None,
        ratings: RatingQueue | None = None,
    ) -> None:
        self.queue = queue
        # 好差评 records beside the outbox (made on the first rating): sent after the applications
        self.ratings = ratings if ratings is not None else RatingQueue(queue.data_dir, clock)
        self.client = client
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.quiet_hours = quiet_hours
        self.retention_s = retention_s
        self._clock = clock
        self._rng = rng
        self._cancel = threading.Event()
        # progress bookkeeping of the pass in hand (bytes confirmed per entry id)
        self._counted: dict[str, int] = {}
        self._bytes_before = 0
        self._bytes_total = 0
        self._on_bytes: Callable[[int, int], None] | None = None
        self._not_before = 0.0  # the hall's Retry-After: no pass contacts it before this time
        self.outage_passes = 0  # passes in a row that could not reach the hall (or it would not talk)

    @classmethod
    def from_settings(cls, queue: OfflineQueue, client: HallClient, sync: SyncPolicy,
                      clock: Callable[[], float] = time.time,
                      retention_days: float | None = None) -> SyncEngine:
        """Build from the kiosk's ``settings.sync`` section (backoff, quiet hours, chunk sizes, cap).

        The chunk bounds and bandwidth cap are set on ``client`` when it has none of its own.
        """
        if sync.chunk_min_kb:
            client.chunk_sizer = ChunkSizer(sync.chunk_min_kb * 1024, sync.chunk_max_kb * 1024,
                                            start_bytes=64 * 1024)
        if client.throttle is None and sync.bandwidth_kbps:
            client.throttle = Throttle.from_kbps(sync.bandwidth_kbps)
        return cls(
            queue, client, backoff_base_s=sync.backoff_base_s, backoff_max_s=sync.backoff_max_s, clock=clock,
            quiet_hours=sync.quiet_hours,
            retention_s=None if retention_days is None else retention_days * 86400.0,
        )

    def cancel(self) -> None:
        """Stop the current pass after the entry in hand."""
        self._cancel.set()

    def backoff_s(self, attempts: int) -> float:
        """Delay before the next try after ``attempts`` earlier failures (protocol.md, Retries)."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2.0 ** min(attempts, 32))
        return ceiling * (0.5 + 0.5 * self._rng())

    def next_pass_in_s(self, interval_s: float) -> float:
        """When the next pass should start: ``interval_s``, or longer while the hall is out of reach.

        Each pass in a row that found the hall unreachable (or busy, or refusing the
        signature) doubles the wait, up to ``backoff_max_s``, with jitter: the status pull
        runs even with an empty queue, and after a county-wide outage hundreds of kiosks must
        not come back in the same second. A new application wakes the worker at once anyway.
        """
        if self.outage_passes == 0:
            return interval_s
        ceiling = min(max(self.backoff_max_s, interval_s), interval_s * 2.0 ** min(self.outage_passes, 32))
        return max(interval_s, ceiling * (0.5 + 0.5 * self._rng()))

    def run_once(
        self,
        on_progress: Callable[[int, int], None] | None = None,
        on_bytes: Callable[[int, int], None] | None = None,
    ) -> SyncReport:
        """One pass. ``on_progress(done, total)`` after each entry; ``on_bytes(done, total)``
        as attachment bytes are confirmed by the hall (for a progress bar)."""
        self._cancel.clear()
        if in_quiet_hours(self.quiet_hours, self._clock()):
            log.info("sync: quiet hours, not sending now")
            return SyncReport(quiet=True)
        waiting = self._not_before - self._clock()
        if waiting > 0:
            log.info("sync: the hall asked for quiet; next try in %.0f s", waiting)
            return SyncReport(errors=[HallBusy.code], wait_s=waiting)
        sent = failed = retried = 0
        errors: list[str] = []
        stop = False
        due = self.queue.due()
        total = len(due)
        self._bytes_total = sum(self._entry_bytes(e) for e in due)
        self._bytes_before = 0
        self._on_bytes = on_bytes
        if on_bytes is not None:
            on_bytes(0, self._bytes_total)
        for done, entry in enumerate(due, start=1):
            if self._cancel.is_set():
                break
            outcome, error = self._send_one(entry)
            self._bytes_before += self._entry_bytes_sent(entry)
            if on_bytes is not None:
                on_bytes(min(self._bytes_before, self._bytes_total), self._bytes_total)
            if outcome == "sent":
                sent += 1
            elif outcome == "failed":
                failed += 1
            elif outcome == "retried":
                retried += 1
            if error is not None:
                errors.append(error.code if isinstance(error, QueueError) else "internal_error")
                stop = isinstance(error, _HALL_WIDE)
                self._honour_retry_after(error)
            if on_progress is not None:
                on_progress(done, total)
            if stop:
                break
        rated = 0
        if not stop and not self._cancel.is_set():
            rated, rating_error = self._send_ratings()
            if rating_error is not None:
                errors.append(rating_error.code if isinstance(rating_error, QueueError) else "internal_error")
                stop = isinstance(rating_error, _HALL_WIDE)
                self._honour_retry_after(rating_error)
        changed: list[tuple[str, str]] = []
        if not stop and not self._cancel.is_set():
            try:
                changed = self._pull_status()
            except HallError as exc:
                log.info("sync: status pull failed (%s)", exc.code)
                errors.append(exc.code)
                self._honour_retry_after(exc)
            except StorageError as exc:
                log.error("sync: status could not be stored (%s)", exc.code)
                errors.append(exc.code)
        purged = 0
        if self.retention_s is not None:
            try:
                purged = self.queue.purge_confirmed(self.retention_s)
            except StorageError as exc:
                log.error("sync: retention purge failed (%s)", exc.code)
                errors.append(exc.code)
        self.outage_passes = self.outage_passes + 1 if _OUTAGE_CODES & set(errors) else 0
        return SyncReport(sent, failed, retried, len(changed), errors, changed, purged=purged,
                          wait_s=max(0.0, self._not_before - self._clock()), ratings_sent=rated)

    def _send_ratings(self) -> tuple[int, Exception | None]:
        """Send due ratings (small: no upload); a hall-wide trouble ends the run. (sent, last error)."""
        sent = 0
        last: Exception | None = None
        try:
            due = self.ratings.due()
        except StorageError as exc:
            return 0, exc
        for rating in due:
            if self._cancel.is_set():
                break
            try:
                self.client.submit_rating(rating.body)
            except HallRejected as exc:  # refused for good: retrying would not change the answer
                log.warning("sync: a rating was refused (%s); dropped", exc.code)
                self.ratings.mark_sent(rating.id)
                last = exc
                continue
            except Exception as exc:  # noqa: BLE001 - retried on a later pass
                self.ratings.retry_later(rating.id, self._clock() + self.backoff_s(rating.attempts))
                last = exc
                if isinstance(exc, _HALL_WIDE):
                    break
                continue
            self.ratings.mark_sent(rating.id)
            sent += 1
        return sent, last

    def _honour_retry_after(self, error: Exception) -> None:
        """A 429/503 with Retry-After (already capped by the client) holds every pass off until then."""
        if isinstance(error, HallBusy) and error.retry_after:
            self._not_before = max(self._not_before, self._clock() + error.retry_after)

    def _entry_bytes(self, entry: QueueEntry) -> int:
        """What an entry still has to send: attachments not yet uploaded (the document rides in the post)."""
        return sum(a.size for a in self.queue.attachments(entry.id) if not a.uploaded)

    def _entry_bytes_sent(self, entry: QueueEntry) -> int:
        return self._counted.pop(entry.id, 0)

    # -- one entry ----------------------------------------------------------------------

    def _send_one(self, entry: QueueEntry) -> tuple[str, Exception | None]:
        if not self.queue.claim(entry.id):
            return "skipped", None
        try:
            result = self._deliver(entry)
        except HallRejected as exc:
            reason = f"{exc.code}: {exc.detail}" if exc.detail else exc.code
            self.queue.mark_failed(entry.id, reason)
            log.warning("sync: %s refused for good (%s)", entry.provisional_number, exc.code)
            return "failed", exc
        except DeviceRevoked as exc:
            self.queue.release(entry.id, exc.code, self._clock(), count_attempt=False)
            log.error("sync: this kiosk was revoked by the hall")
            return "retried", exc
        except StorageError as exc:
            # the sealed copy is damaged on this kiosk: it can never be sent
            self.queue.mark_failed(entry.id, exc.code)
            log.error("sync: %s cannot be read back (%s)", entry.provisional_number, exc.code)
            return "failed", exc
        except Exception as exc:  # noqa: BLE001 - one entry's trouble must not stop the others
            self._retry_later(entry, exc)
            return "retried", exc
        self.queue.mark_submitted(entry.id, result.official_number or None, _submitted_state(result.status))
        self.queue.record_contact()
        log.info("sync: %s submitted", entry.provisional_number)
        return "sent", None

    def _deliver(self, entry: QueueEntry) -> SubmitResult:
        attachments = self.queue.attachments(entry.id)
        for att in attachments:
            if not att.uploaded:
                self._upload(entry.id, att.sha256)
        listed = [{"sha256": a.sha256, "size": a.size, "material": a.material, "pages": a.pages}
                  for a in attachments]
        sealed_document = base64.b64encode(self.queue.sealed_document(entry.id)).decode("ascii")
        if entry.kind == SUPPLEMENT:  # the same upload path and retries, another endpoint
            supplement = {"id": entry.id, "created_at": entry.created_at, "attachments": listed,
                          "sealed_document": sealed_document}
            return self._post_until_complete(
                entry, {a.sha256 for a in attachments},
                lambda: self.client.submit_supplement(entry.parent_id, supplement, idempotency_key=entry.id))
        payload = {
            "id": entry.id,
            "provisional_number": entry.provisional_number,
            "service_code": entry.service_code,
            "county": entry.county,
            "created_at": entry.created_at,
            "page_count": entry.page_count,
            "visits_needed": entry.visits_needed,
            "sealed_document": sealed_document,
            "attachments": listed,
        }
        return self._post_until_complete(
            entry, {a.sha256 for a in attachments},
            lambda: self.client.submit_application(payload, idempotency_key=entry.id))

    def _post_until_complete(self, entry: QueueEntry, known: set[str],
                             post: Callable[[], SubmitResult]) -> SubmitResult:
        """Post; when the hall lacks a page it names, upload that page once more and post again."""
        reuploaded: set[str] = set()
        while True:
            try:
                return post()
            except AttachmentMissing as exc:
                if exc.sha256 not in known or exc.sha256 in reuploaded:
                    raise
                reuploaded.add(exc.sha256)
                self.queue.mark_uploaded(entry.id, exc.sha256, False)
                self._upload(entry.id, exc.sha256)

    def _upload(self, entry_id: str, sha256: str) -> None:
        counted = self._counted
        base = counted.get(entry_id, 0)
        on_bytes = self._on_bytes
        data = self.queue.read_blob(sha256)

        def progress(offset: int, size: int) -> None:
            counted[entry_id] = base + offset
            if on_bytes is not None:
                done = min(self._bytes_before + counted[entry_id], self._bytes_total)
                on_bytes(done, self._bytes_total)

        self.client.upload_blob(sha256, data, on_progress=progress)
        self.queue.mark_uploaded(entry_id, sha256)

    def _retry_later(self, entry: QueueEntry, exc: Exception) -> None:
        delay = self.backoff_s(entry.attempts)
        if isinstance(exc, HallBusy) and exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        code = exc.code if isinstance(exc, QueueError) else "internal_error"
        if not isinstance(exc, QueueError):
            log.exception("sync: unexpected error on %s", entry.provisional_number)
        else:
            log.info("sync: %s will be retried in %.0f s (%s)", entry.provisional_number, delay, code)
        self.queue.release(entry.id, code, self._clock() + delay)

    # -- status back --------------------------------------------------------------------

    def _pull_status(self) -> list[tuple[str, str]]:
        changes, cursor = self.client.all_status_changes(self.queue.sync_cursor)
        self.queue.record_contact()
        changed = []
        for change in changes:
            entry = self.queue.apply_status(change)
            if entry is not None:
                changed.append((entry.id, entry.state))
        if cursor is not None and cursor != self.queue.sync_cursor:
            self.queue.set_sync_cursor(cursor)
        return changed


def _submitted_state(status: str) -> str:
    return (
        status
        if status in ("submitted", "accepted", "correction_needed", "completed", "rejected")
        else "submitted"
    )


PROGRESS_HZ = 4


@dataclass
class _Progress:
    """The progress of the pass in hand, as the ``progress`` event reports it."""

    done: int = 0
    total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    emitted_at: float = 0.0  # monotonic time of the last event (for the PROGRESS_HZ limit)

    def payload(self) -> dict[str, int]:
        return {"done": self.done, "total": self.total, "bytes_done": self.bytes_done,
                "bytes_total": self.bytes_total}


class SyncWorker:
    """Runs ``engine.run_once`` every ``interval_s`` (and on ``wake()``) on a ``BackgroundLoop``.

    A pass that raises is logged and the loop goes on (``workers.loop``); a listener that
    raises is logged and the pass goes on. Only ``stop()`` or a revoked kiosk end it.
    """

    def __init__(self, engine: SyncEngine, interval_s: float, on_event: Callable[[str, dict], None]) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.on_event = on_event
        self.last_report: SyncReport | None = None
        self.loop = BackgroundLoop("offline-queue-sync", self._one_pass, interval_s, lower_priority=True)

    def start(self) -> None:
        self.loop.start()

    def wake(self) -> None:
        """Run a pass now (e.g. just after an application was queued)."""
        self.loop.wake()

    def stop(self, timeout_s: float = 15) -> None:
        self.engine.cancel()
        self.loop.stop(timeout_s)

    @property
    def running(self) -> bool:
        return self.loop.running

    def join(self, timeout_s: float | None = None) -> None:
        """Wait for the thread to end (after ``stop()``, or by itself when the kiosk is revoked)."""
        self.loop.join(timeout_s)

    def _emit(self, name: str, payload: dict) -> None:
        try:
            self.on_event(name, payload)
        except Exception:  # noqa: BLE001 - a listener's bug must not stop the pass
            log.exception("sync: event listener failed on %s", name)

    def _one_pass(self) -> PassResult:
        progress = _Progress()

        def emit_progress(force: bool) -> None:
            now = time.monotonic()
            if not force and now - progress.emitted_at < 1 / PROGRESS_HZ:
                return
            progress.emitted_at = now
            self._emit("progress", progress.payload())

        def on_progress(done: int, total: int) -> None:
            progress.done, progress.total = done, total
            emit_progress(force=True)

        def on_bytes(done: int, total: int) -> None:
            progress.bytes_done, progress.bytes_total = done, total
            emit_progress(force=False)

        self._emit("sync_started", {})
        try:
            report = self.engine.run_once(on_progress, on_bytes)
        except Exception as exc:  # noqa: BLE001 - e.g. the disk went away: report it, the loop goes on
            log.exception("sync: pass failed (%s)", type(exc).__name__)
            report = SyncReport(errors=[exc.code if isinstance(exc, QueueError) else "internal_error"])
        self.last_report = report
        for entry_id, new_state in report.changed:
            self._emit("status_changed", {"id": entry_id, "state": new_state})
        self._emit("sync_finished", {"report": report})
        if report.revoked:
            log.error("sync: stopping, the hall revoked this kiosk")
            return BackgroundLoop.STOP
        return max(self.engine.next_pass_in_s(self.interval_s), report.wait_s)
