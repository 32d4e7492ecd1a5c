"""The heartbeat writer: plain beats answered at once and written behind in large batches; the
others checked, written and answered in ONE transaction per batch.

**Plain beats, written behind** (issue 11, "Speed": a row written per beat, in the batches of
10-16 that the connections in flight make, cost the hall and PostgreSQL ~0.5 ms a beat, where
60 % of the bare endpoint's rate leaves ≈ 0.08 ms for the database part). A beat whose answer
delivers nothing that must be recorded first — its kiosk in the fleet cache at a known
generation (hall/services/fleet_cache.py) with no command to deliver or expire, no
configuration and no release to send — is checked on the fast path's event loop
(``answer_now``: the clock window, the signature with the cached pinned key, not revoked at
the cached generation, a valid report, a nonce this process has not answered within the clock
window) and answered there and then; its rows (nonce, ``last_seen``, state row, and a history
row when ``HistoryMemo`` wants one) wait in memory and the writer's thread writes them in one
transaction when ``flush_beats`` wait or the first has waited ``flush_s`` (500, 0.2 s). The
flush holds the generation check: written only while the fleet generation is the one each beat
was answered at; when it moved (a revocation, a key rotation, a command, a configuration
committed meanwhile), the kiosks are read afresh and the beats of a kiosk revoked or whose key
changed are not written (counted in ``dropped_changed``, logged). A plain beat is answered
from the cache only while its generation was read from the database (or held by a guarded
write) within ``fresh_s`` (2 × ``flush_s``, 0.4 s): a busy hall's flushes read it every
``flush_s``, a quiet hall's beats take the usual way. So a revocation, a command or a
configuration committed reaches every beat that arrives ``fresh_s`` after its commit.

What this costs, by design:

* **a crash loses at most ``flush_s`` of answered plain beats** (SIGKILL, power cut; a stop —
  ``county-hall serve`` ending, the lifespan's shutdown — flushes what waits). They are
  telemetry the kiosk sends again within a minute; nothing of a command or a configuration is
  among them (those beats are answered only after their commit, below);
* a replay of a plain beat that reaches *another* hall process within the flush window gets the
  plain answer (it carries nothing the original's did not: no command, no configuration); at
  the flush its nonce is already in the book and nothing is written twice
  (``dropped_replays``). A replay reaching the same process is refused before it is answered;
  so is one reaching any process after the original's flush (the usual way's nonce book) —
  but for a process that restarted within the window, whose memory is empty: plain answer, no row;
* while a flush fails because the database is gone or busy, the answered beats are kept (at
  most ``MAX_WAITING_FLUSHES`` flushes' worth, the oldest dropped past it, counted in
  ``dropped_failing``) and tried again every ``FLUSH_RETRY_S``, and no beat is answered before
  its write: new beats take the usual way, which answers 503 busy while the database is away
  (the kiosk comes back after Retry-After). The thread lives through it (tested).

``flush_s=0`` turns write-behind off (every beat the usual way; the tests of the usual way).

**History rows**: one when the report's content changed from the kiosk's last history row
(health and each device's state, queue depth, versions, configuration version, locked,
problems) or that row is older than ``history_every_s`` (300 s), so the console's chart and
timeline keep their points without a row a minute per kiosk; the state row (last heard, the
flags), ``last_seen`` and the nonce are written for every beat. Per hall process (each
remembers what it wrote: with N processes a kiosk gets at most N rows per interval).

**The usual way** (a beat with something to deliver, a kiosk not cached, a refusal to make with
what is read afresh). One writer per hall process, on a ``workers.BackgroundLoop`` thread (a
pass that fails is logged and counted, the thread goes on). The fast path
(hall/api/heartbeat_fast_path.py) hands each ``POST /api/v1/heartbeat`` that ``answer_now``
did not answer over as a ``Beat`` and waits; the writer takes every beat that arrived while
its last batch was being written (group commit: the busier the hall, the larger the batch, no
timer), and per batch:

1. refuses, without the database, a beat without the signature headers or outside the clock
   window (``signatures.check_clock``) and one that waited longer than ``max_age_s`` (503 busy,
   as admission sheds a request that waited too long);
2. begins one transaction on the writer's own connection (hall/api/heartbeat_store.py: held
   for the writer's life, the driver's plain SQL, one statement per kind for the whole
   batch): the fleet generation and the kiosks not cached (hall/services/fleet_cache.py);
   checks each signature with the kiosk's pinned key, and its revocation
   (``signatures.check_device``);
3. records the batch's nonces with one statement (a replay is refused, ``last_seen`` set, as
   ``nonce_book.record_nonces``), parses and validates each body in one pass
   (``HeartbeatIn.model_validate_json``), and writes every kiosk's state row and history row
   (when the memo wants one; the plain beats waiting are flushed first, so that a kiosk's
   rows are written in the order its beats came), the history trim of the kiosks whose turn
   it is, and the commands' delivery and expiry marks; commits (without waiting for the disk,
   as before: ``hall.db.lazy_commit``);
4. only then hands the answers back. No answer leaves before its batch committed: what a
   power cut can lose is the last moment's batches, none of them answered yet (their
   kiosks retry within a minute) — or, answered but not yet on the disk (the commit does not
   wait for an fsync), heartbeat rows and delivery marks: a command is then delivered again
   and the kiosk refuses an id it has seen and acks it; a nonce forgotten so lets a replay of
   that heartbeat through, which only writes the same report again.

On PostgreSQL, when every kiosk of the batch is in the cache at a known generation (the
steady state: a kiosk is read once per generation), 2 and 3 are one statement sent with the
``BEGIN`` (``StoreBatch.write_guarded``): the signatures are checked with the cached keys and
revocations first, and the statement writes the nonces, ``last_seen``, the history rows and
the state rows (of the beats whose nonce was new) only if the fleet generation is still the
cache's — a revocation or a key rotation committed since leaves it writing nothing, and the
batch is then checked again with what is read afresh and written as above, in the same
transaction. So a batch is two round trips (that statement; the trim, the commands' marks and
the ``COMMIT``) instead of three, and three statements instead of six. The answers, the
refusals and the rows are those of the other way (tests/hall/test_heartbeat_writer.py).

A batch whose transaction fails is written again one beat at a time, so one bad row costs
only its own answer; a database that is busy or gone answers the whole batch 503 busy. A
connection the database dropped is replaced, and when it broke before the commit (nothing
written) the batch is written again at once on the new one.

The history trim: each kiosk keeps its newest ``heartbeat_history`` rows; trimmed every
``TRIM_EVERY`` of its beats in this process (and at its first), so the trim's index read
(up to ``heartbeat_history`` entries) is shared by that many beats and a kiosk's history
holds at most ``heartbeat_history + TRIM_EVERY`` rows per hall process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from hall.api.errors import encode_json
from hall.api.heartbeat_behind import HistoryMemo, SeenNonces, WaitingBeat
from hall.api.heartbeat_store import BeatRow, ConnectionLost, HeartbeatStore
from hall.api.schemas import HeartbeatIn
from hall.core.config import Settings
from hall.core.keys import HallKeys
from hall.db import lazy_commit, sqlite_begin
from hall.errors import AuthFailed, HallError, InvalidRequest
from hall.services.fleet_cache import FleetCache, KioskEntry
from hall.services.nonce_book import Busy
from hall.services.signatures import check_clock, check_device
from hall.timeutil import Clock, iso, to_datetime
from offline_queue.signing import HEADER_DEVICE, HEADER_NONCE
from workers.loop import BackgroundLoop

log = logging.getLogger("hall.heartbeat")
TRIM_EVERY = 32
# Write-behind of plain beats: flushed when this many wait or the first has waited this long.
FLUSH_BEATS = 500
FLUSH_S = 0.2
# A kiosk's history row when its report changed, or when its last one is this old.
HISTORY_EVERY_S = 300.0
# A flush the database refused (gone, busy) is tried again this often; answered beats wait in
# memory up to this many flushes' worth, the oldest dropped past it (counted, logged).
FLUSH_RETRY_S = 0.5
MAX_WAITING_FLUSHES = 20
# The database's own "not now" (and, on the held connection, a connection lost twice in a row).
DATABASE_BUSY: tuple[type[BaseException], ...] = (OperationalError, PoolTimeout, DisconnectionError,
                                                  ConnectionLost)


class WriteFailed(HallError):
    status = 500
    code = "internal_error"


@dataclass(eq=False)
class Beat:
    """One heartbeat request as the fast path read it, and (once done) its outcome."""

    headers: Mapping[str, str]  # the signature headers, named as offline_queue.signing spells them
    path: str
    query: list[tuple[str, str]]
    body: bytes
    arrived: float = field(default_factory=time.monotonic)
    waiter: Any = None  # the fast path's own (its future); never touched here
    answer: dict[str, Any] | None = None  # 200
    encoded: bytes | None = None  # ``answer`` as the fast path sends it, when made already
    error: HallError | None = None  # or this
    _values: dict[str, str] = field(default_factory=dict)
    _timestamp: int = 0

    @property
    def done(self) -> bool:
        return self.answer is not None or self.error is not None

    @property
    def device_id(self) -> str:
        return self._values.get(HEADER_DEVICE, "")


class HeartbeatWriter:
    """``writer.submit(beat)`` (False: too many waiting, answer 503); ``deliver(batch)`` is
    called on the writer's thread with every batch once each beat in it is done."""

    def __init__(self, engine: Engine, settings: Settings, keys: HallKeys, clock: Clock,
                 deliver: Callable[[list[Beat]], None], *, max_pending: int = 2048,
                 max_age_s: float | None = None, flush_beats: int = FLUSH_BEATS,
                 flush_s: float = FLUSH_S, history_every_s: float = HISTORY_EVERY_S) -> None:
        self.store = HeartbeatStore(engine)
        # The driver's own errors too: the batch's statements are the driver's (a lock timeout,
        # a serialization failure on PostgreSQL are its OperationalError).
        self._busy_errors = (*DATABASE_BUSY, engine.dialect.loaded_dbapi.OperationalError)
        self._settings = settings
        self._clock = clock
        self._deliver = deliver
        self._max_pending = max_pending
        # As long as a signed request may wait for its place (admission) and its nonce, together.
        self._max_age_s = max_age_s if max_age_s is not None else max(1.0, 2 * settings.kiosk_wait_s)
        self.cache = FleetCache(keys.sign_private)
        self._lock = threading.Lock()
        self._pending: list[Beat] = []
        self._beats_of: dict[str, int] = {}  # beats written per kiosk, for the trim's turn
        self.loop = BackgroundLoop("hall-heartbeat-writer", self._one_pass, interval_s=1.0,
                                   crash_backoff_s=0.05)
        self.batches = 0  # for tests and logs
        self.largest_batch = 0
        self.fallbacks = 0  # batches written again one beat at a time
        self.reconnects = 0  # batches written again on a fresh connection
        self.guarded = 0  # batches written by the one guarded statement (PostgreSQL, kiosks cached)
        # Benchmarks (heartbeat_cpu.py) compare the shapes in one process: False writes every batch
        # the usual way (three round trips).
        self.guard = True
        # Write-behind (``flush_s`` 0: off, every beat answered after its batch committed).
        self.flush_beats = flush_beats
        self.flush_s = flush_s
        self.fresh_s = 2 * flush_s  # a plain beat answered early only this soon after the generation was read
        self._waiting: list[WaitingBeat] = []  # answered plain beats, oldest first
        self._waiting_since = 0.0  # monotonic time the oldest of them was answered
        self._flush_failing = False  # the last flush failed: no beat is answered before its write
        self._seen = SeenNonces()
        self._plain: tuple[int, dict[str, Any], bytes] = (-1, {}, b"")  # (second, answer, encoded)
        self.history = HistoryMemo(history_every_s)
        self.answered_early = 0  # plain beats answered before their write
        self.flushes = 0
        self.flush_failures = 0
        self.dropped_changed = 0  # answered, then not written: its kiosk revoked or its key rotated
        self.dropped_replays = 0  # answered, then not written: the nonce was in the book (another process)
        self.dropped_failing = 0  # answered, then not written: the database refused them too long

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        """Stop the thread; beats answered and not yet written are written now (one flush, here),
        beats still waiting for an answer are answered 503 busy (the kiosk comes back)."""
        if self.loop.stop():
            if self._waiting:
                self._flush()
            self.store.close()  # (a pass still running keeps it: closed under it, its batch would fail)
        with self._lock:
            left, self._pending = self._pending, []
        for beat in left:
            beat.error = Busy("the hall is busy; try again later")
        if left:
            self._deliver(left)

    def ensure_running(self) -> None:
        if not self.loop.running:
            self.loop.start()

    def submit(self, beat: Beat) -> bool:
        with self._lock:
            if len(self._pending) >= self._max_pending:
                return False
            self._pending.append(beat)
        self.loop.wake()
        return True

    # -- the writer's thread --------------------------------------------------------

    def _one_pass(self) -> float | None:
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            rest = batch
            try:
                rest = self._process(batch)
            finally:  # whatever happened, every beat is answered
                for beat in rest:
                    if not beat.done:
                        beat.error = WriteFailed("the hall failed; try again later")
                self._deliver(rest)
        return self._flush_when_due()

    def _flush_when_due(self) -> float | None:
        """Flush the answered plain beats when enough wait or the oldest waited long enough; the
        seconds until the next is due (None: nothing waits, sleep until a beat comes)."""
        with self._lock:
            count, since = len(self._waiting), self._waiting_since
        if not count:
            return None
        waited = time.monotonic() - since
        if count >= self.flush_beats or waited >= self.flush_s:
            self._flush()
            if self._flush_failing:  # again a little later
                return FLUSH_RETRY_S
            return 0 if self._waiting else None  # answered during the flush: the next pass looks
        return self.flush_s - waited

    def _process(self, batch: list[Beat]) -> list[Beat]:
        """The usual way: the batch's beats answered once their transaction committed."""
        too_old = time.monotonic() - self._max_age_s
        live = []
        for beat in batch:
            if beat.arrived < too_old:
                beat.error = Busy("the hall is busy; try again later")
                continue
            try:
                beat._values, beat._timestamp, _ = check_clock(beat.headers, self._clock,
                                                               self._settings.max_skew_s)
            except HallError as exc:
                beat.error = exc
                continue
            live.append(beat)
        if not live:
            return batch
        if self._waiting:  # written first: a kiosk's rows in the order its beats came
            self._flush()
        self.batches += 1
        self.largest_batch = max(self.largest_batch, len(live))
        try:
            self._write(live)
        except self._busy_errors as exc:
            self._busy(live, exc)
        except Exception as exc:  # noqa: BLE001 - one bad row must not cost the others their answers
            self.cache.clear()  # the marks it made in the cache were rolled back
            self.history.forget()
            if len(live) == 1:
                self._failed(live[0], exc)
                return batch
            self.fallbacks += 1
            log.warning("a batch of %d heartbeats failed (%s); writing them one by one",
                        len(live), type(exc).__name__)
            for beat in live:
                try:
                    self._write([beat])
                except self._busy_errors as again:
                    self._busy([beat], again)
                except Exception as again:  # noqa: BLE001
                    self.cache.clear()
                    self._failed(beat, again)
        return batch

    # -- write-behind ----------------------------------------------------------------

    def answer_now(self, beat: Beat) -> bool:
        try:
            return self._answer_now(beat)
        except Exception as exc:  # noqa: BLE001 - a failure here costs the early answer, not the answer
            log.error("unexpected %s answering a heartbeat early; the usual way answers it",
                      type(exc).__name__)
            beat.answer = beat.error = beat.encoded = None
            return False

    def _answer_now(self, beat: Beat) -> bool:
        """On the fast path's event loop, as the beat arrives: True when it is done here — a
        plain beat answered (its kiosk cached at a known generation, its signature good with
        the cached key, not revoked, a nonce this process has not seen, a valid report, nothing
        to deliver; its rows wait for the flush), a replay or a clock refused. False: submit it
        (the usual way, which also answers the refusals with what it reads afresh)."""
        if self.flush_s <= 0 or self._flush_failing:
            return False
        try:
            beat._values, beat._timestamp, _ = check_clock(beat.headers, self._clock,
                                                           self._settings.max_skew_s)
        except HallError as exc:
            beat.error = exc
            return True
        cached = self._cached_kiosk(beat.device_id)
        if cached is None:
            return False
        epoch, generation, entry = cached
        nonce = beat._values[HEADER_NONCE]
        if (beat.device_id, nonce) in self._seen:
            beat.error = AuthFailed("nonce already seen", code="replayed_nonce")
            return True
        try:
            check_device(entry.device, beat._values, "POST", beat.path, beat.query, beat.body)
        except HallError:
            return False
        report = self._plain_report(beat.device_id, beat.body, epoch)
        if report is None:
            return False  # (a bad body: its nonce is used up the usual way, as it always was)
        now = self._clock()
        self._queue_early(beat.device_id, nonce, beat._timestamp, entry.device.public_key, generation,
                          report, now)
        beat.answer, beat.encoded = self._plain_answer(now)
        return True

    def _queue_early(self, device_id: str, nonce: str, timestamp: int, public_key: bytes, generation: int,
                     report: HeartbeatIn, now: float) -> None:
        """A beat answered on the spot (``_answer_now``, ``answer_plain``): its nonce remembered, its
        rows queued for the next flush, the writer woken when it is the first or the batch is full."""
        self._seen.add((device_id, nonce), int(now), self._settings.max_skew_s + 1)
        waiting = WaitingBeat(beat_row(device_id, report), nonce, timestamp, public_key, generation,
                              self.history.wants(device_id, report, now))
        with self._lock:
            first = not self._waiting
            if first:
                self._waiting_since = time.monotonic()
            self._waiting.append(waiting)
            due = len(self._waiting) >= self.flush_beats
        if first or due:  # the writer sets its timer by the first; flushes at once when due
            # (Started here if need be — an app called without its lifespan, benchmarks, tests —
            # not asked per beat by the fast path: whether a thread is alive costs ~1 µs to ask.)
            self.ensure_running()
            self.loop.wake()
        self.answered_early += 1

    def _cached_kiosk(self, device_id: str) -> tuple[int, int, KioskEntry] | None:
        """The cache's epoch, generation and entry for a kiosk when the cache may answer for it on
        the spot (``_answer_now``, ``answer_plain``), else None: no kiosk entry, a generation not
        known, the writer changing the cache (an odd epoch), or the generation last confirmed too
        long ago — a revocation, command or configuration committed since is seen by the usual
        way (a busy hall's flushes confirm it every ``flush_s``; a quiet hall's beats take the
        usual way)."""
        cache = self.cache
        epoch, generation = cache.epoch, cache.generation
        entry = cache.kiosks.get(device_id)
        if (epoch % 2 or generation is None or generation < 0 or entry is None
                or not cache.fresh(time.monotonic(), self.fresh_s)):
            return None
        return epoch, generation, entry

    def _plain_report(self, device_id: str, body: bytes, epoch: int) -> HeartbeatIn | None:
        """The beat's report when it is valid and the kiosk has nothing to be delivered, and the
        cache is still at ``epoch`` (the writer changing it meanwhile: what was read may mix)."""
        report = _report_or_error(body)
        if isinstance(report, HallError) or not self.cache.delivers_nothing(
                device_id, report.config_version, report.versions.get("release", "")):
            return None
        return report if self.cache.epoch == epoch else None

    def answer_plain(self, device_id: str, nonce: str, timestamp: int, signed: bytes, signature: bytes,
                     body: bytes, verify: Callable[[bytes, bytes, bytes], bool]) -> bytes | None:
        """``_answer_now`` for the one case that is every beat of a busy hall, straight (issue 11,
        "Speed": the connection's protocol, hall/api/heartbeat_fast_path.py ``plain_answer``): the
        encoded 200 answer of a plain beat — its timestamp inside the clock window, its kiosk
        cached at a generation known fresh, a nonce this process has not seen, ``signature`` good
        for ``signed`` (the canonical string, made by the caller) under the kiosk's cached key,
        not revoked, a valid report with nothing to deliver; its rows then wait for the flush as
        ``_answer_now``'s. Anything else is None, with nothing done: the caller hands the beat to
        ``answer_now`` (the refusals, with their texts) or the usual way."""
        try:
            return self._answer_plain(device_id, nonce, timestamp, signed, signature, body, verify)
        except Exception as exc:  # noqa: BLE001 - as answer_now: the present path answers it
            log.error("unexpected %s answering a plain heartbeat; the present path answers it",
                      type(exc).__name__)
            return None

    def _answer_plain(self, device_id: str, nonce: str, timestamp: int, signed: bytes, signature: bytes,
                      body: bytes, verify: Callable[[bytes, bytes, bytes], bool]) -> bytes | None:
        if self.flush_s <= 0 or self._flush_failing:
            return None
        now = self._clock()
        if abs(now - timestamp) > self._settings.max_skew_s:
            return None  # refused by answer_now's check_clock, with its text
        cached = self._cached_kiosk(device_id)
        if cached is None or (device_id, nonce) in self._seen:
            return None
        epoch, generation, entry = cached
        device = entry.device
        # check_device's checks, in its order: a nonce over 64 characters, the signature, revoked.
        if len(nonce) > 64 or not verify(device.public_key, signed, signature) or device.revoked:
            return None
        report = self._plain_report(device_id, body, epoch)
        if report is None:
            return None
        self._queue_early(device_id, nonce, timestamp, device.public_key, generation, report, now)
        return self._plain_answer(now)[1]

    def _plain_answer(self, now: float) -> tuple[dict[str, Any], bytes]:
        """A plain beat's answer and its encoding, made once a second (they differ only by the
        second; formatting the time and encoding the answer were ~3 % of a beat's loop time). The
        dict is shared by the second's beats: nobody changes an answer once made."""
        second = int(now)
        cached = self._plain
        if cached[0] != second:
            # Every field of HeartbeatOut, null ones too.
            answer = {"heartbeat_interval_s": self._settings.heartbeat_interval_s,
                      "server_time": iso(to_datetime(second)), "commands": [], "config": None,
                      "release": None}
            cached = self._plain = (second, answer, encode_json(answer).encode())
        return cached[1], cached[2]

    def _flush(self) -> None:
        """Write the answered plain beats waiting (one transaction). The database gone or busy:
        they are kept (up to ``MAX_WAITING_FLUSHES`` flushes' worth) and tried again, and until
        a flush succeeds no beat is answered before its write (new beats get the usual way's
        503 while the database is away). Any other failure: written one at a time, a beat that
        fails alone dropped."""
        with self._lock:
            waiting, self._waiting = self._waiting, []
            since = self._waiting_since
        if not waiting:
            return
        self.flushes += 1
        try:
            self._write_waiting(waiting)
        except Exception as exc:  # noqa: BLE001 - the thread goes on whatever the database says
            self.flush_failures += 1
            self.cache.clear()  # a refresh it made may not be the database's
            self.history.forget()
            if isinstance(exc, self._busy_errors):
                self._flush_failing = True
                log.warning("the database refused a flush of %d answered heartbeats (%s); kept to try "
                            "again", len(waiting), type(exc).__name__)
                with self._lock:  # back in front of any answered meanwhile, oldest dropped past the bound
                    self._waiting[:0] = waiting
                    self._waiting_since = since
                    excess = len(self._waiting) - MAX_WAITING_FLUSHES * self.flush_beats
                    if excess > 0:
                        del self._waiting[:excess]
                if excess > 0:
                    self.dropped_failing += excess
                    log.error("%d answered heartbeats dropped unwritten (the database refused them)", excess)
                return
            log.warning("a flush of %d answered heartbeats failed (%s); writing them one by one",
                        len(waiting), type(exc).__name__)
            for one in waiting:
                try:
                    self._write_waiting([one])
                except Exception as again:  # noqa: BLE001
                    self.cache.clear()
                    self.dropped_failing += 1
                    log.error("an answered heartbeat dropped unwritten (%s, device %s)", type(again).__name__,
                              one.row.device_id)
        self._flush_failing = False

    def _write_waiting(self, waiting: list[WaitingBeat]) -> None:
        try:
            self._write_waiting_once(waiting)
        except ConnectionLost:
            self.reconnects += 1
            log.warning("the heartbeat writer's database connection was lost; flushing again")
            self.cache.clear()
            self._write_waiting_once(waiting)

    def _write_waiting_once(self, waiting: list[WaitingBeat]) -> None:
        """One transaction: the nonces, ``last_seen``, the state rows and the history rows
        chosen, written only while the fleet generation is the one each beat was answered at;
        when it moved, the kiosks are read afresh and the beats of one revoked or whose key
        changed are not written (``dropped_changed``). A nonce already in the book (a replay
        answered by another process) writes nothing (``dropped_replays``)."""
        settings, cache = self._settings, self.cache
        generation = cache.generation
        same = generation is not None and generation >= 0 and all(w.generation == generation for w in waiting)
        guarded = self.guard and self.store.postgres and same
        kept = waiting
        started = time.monotonic()
        with sqlite_begin("IMMEDIATE"), lazy_commit(), self.store.transaction(guarded=guarded) as batch:
            now = self._clock()
            new: set[tuple[str, str]] | None = None
            if guarded:
                assert generation is not None
                new = batch.write_guarded(generation, [(w.row.device_id, w.nonce, w.ts) for w in waiting],
                                          [(w.row, w.nonce, w.history) for w in waiting], now,
                                          settings.max_skew_s)
                self.guarded += new is not None
            written = new is not None
            if written:
                cache.confirm(started)  # the guarded write held on the cache's generation
            if new is None:
                current = batch.generation()
                if current < 0 or any(w.generation != current for w in waiting):
                    cache.refresh(batch.connection, {w.row.device_id for w in waiting}, current)
                    kept = [w for w in waiting if self._unchanged(w)]
                    if len(kept) < len(waiting):
                        self.dropped_changed += len(waiting) - len(kept)
                        log.warning("%d answered heartbeats not written: their kiosk was revoked or its "
                                    "key rotated since", len(waiting) - len(kept))
                if current == cache.generation:  # (refreshed to it, or held it already)
                    cache.confirm(started)
                nonces = [(w.row.device_id, w.nonce, w.ts) for w in kept]
                new = batch.record_nonces(nonces, now, settings.max_skew_s) if nonces else set()
            rows: list[BeatRow] = []
            history_rows: list[BeatRow] = []
            trim: list[str] = []
            replays = 0
            for w in kept:
                key = (w.row.device_id, w.nonce)
                if key not in new:
                    replays += 1
                    continue
                new.discard(key)
                if self._trim_turn(w.row.device_id):
                    trim.append(w.row.device_id)
                if not written:
                    rows.append(w.row)
                    if w.history:
                        history_rows.append(w.row)
            with batch.writes():
                if written:
                    batch.trim(settings.heartbeat_history, trim)
                else:
                    batch.write_beats(rows, to_datetime(now), settings.heartbeat_history, trim, history_rows)
        if replays:
            self.dropped_replays += replays
            log.info("%d answered heartbeats not written: their nonce was in the book (replays)", replays)

    def _unchanged(self, waiting: WaitingBeat) -> bool:
        device = self.cache.device(waiting.row.device_id)
        return device is not None and not device.revoked and device.public_key == waiting.public_key

    def _busy(self, beats: Iterable[Beat], exc: Exception) -> None:
        # The type only: a driver's message can quote the statement's parameters.
        log.warning("database busy (%s) on heartbeats", type(exc).__name__)
        self.cache.clear()
        self.history.forget()
        for beat in beats:
            beat.error = Busy("the hall is busy; try again later")

    def _failed(self, beat: Beat, exc: Exception) -> None:
        log.error("unexpected %s on a heartbeat (device %s)", type(exc).__name__, beat.device_id)
        beat.error = WriteFailed("the hall failed; try again later")

    def _write(self, beats: list[Beat]) -> None:
        """The batch's one transaction; the beats' outcomes are set only once it committed.
        A connection found dropped before the commit (nothing written) costs one more try on a
        fresh one, not the batch's answers."""
        try:
            self._write_once(beats)
        except ConnectionLost:
            self.reconnects += 1
            log.warning("the heartbeat writer's database connection was lost; writing the batch again")
            self.cache.clear()  # the marks it made in the cache were not written
            self._write_once(beats)

    def _write_once(self, beats: list[Beat]) -> None:
        settings, cache = self._settings, self.cache
        # Every kiosk of the batch cached at a known generation (PostgreSQL): the signatures are
        # checked with the cache first and the batch written by one statement that holds only if
        # the generation is still that one (two round trips, not three); else read afresh first.
        guarded = (self.guard and self.store.postgres and cache.generation is not None
                   and cache.generation >= 0 and all(beat.device_id in cache.kiosks for beat in beats))
        outcomes: list[tuple[Beat, dict[str, Any] | HallError]] = []
        reports: dict[Beat, HeartbeatIn | HallError] = {}
        wants: dict[Beat, bool] = {}  # a history row for this beat (decided once: the memo remembers)
        accepted: list[Beat] = []
        started = time.monotonic()
        with sqlite_begin("IMMEDIATE"), lazy_commit(), self.store.transaction(guarded=guarded) as batch:
            connection = batch.connection
            now = self._clock()

            def history(beat: Beat, report: HeartbeatIn) -> bool:
                if beat not in wants:
                    wants[beat] = self.history.wants(beat.device_id, report, now)
                return wants[beat]
            new: set[tuple[str, str]] | None = None
            written = False  # the rows went with the nonces (the guarded statement)
            if guarded:
                signed = self._signed(beats, outcomes)
                if signed:
                    nonces, rows = self._guarded_rows(signed, reports, history)
                    assert cache.generation is not None
                    new = batch.write_guarded(cache.generation, nonces, rows, now, settings.max_skew_s)
                    written = new is not None
                    self.guarded += written
                    if written:
                        cache.confirm(started)
                    if new is None:  # the generation moved: nothing written; what the cache said is void
                        outcomes.clear()
                else:
                    new = set()
            if new is None:
                cache.refresh(connection, {beat.device_id for beat in beats}, batch.generation())
                cache.confirm(started)
                signed = self._signed(beats, outcomes)
                nonces = [(beat.device_id, beat._values[HEADER_NONCE], beat._timestamp) for beat in signed]
                new = batch.record_nonces(nonces, now, settings.max_skew_s) if nonces else set()
            when = to_datetime(now)
            server_time = iso(when)
            rows: list[BeatRow] = []
            history_rows: list[BeatRow] = []
            trim: list[str] = []
            expired: list[str] = []
            delivered: list[str] = []
            for beat in signed:
                key = (beat.device_id, beat._values[HEADER_NONCE])
                if key not in new:
                    outcomes.append((beat, AuthFailed("nonce already seen", code="replayed_nonce")))
                    continue
                new.discard(key)  # a twin in the same batch is a replay
                report = reports[beat] if beat in reports else _report_or_error(beat.body)
                if isinstance(report, HallError):
                    outcomes.append((beat, report))
                    continue
                accepted.append(beat)
                if not written:
                    rows.append(beat_row(beat.device_id, report))
                    if history(beat, report):
                        history_rows.append(rows[-1])
                if self._trim_turn(beat.device_id):
                    trim.append(beat.device_id)
                # Every field of HeartbeatOut, null ones too.
                outcomes.append((beat, {
                    "heartbeat_interval_s": settings.heartbeat_interval_s, "server_time": server_time,
                    "commands": cache.commands_for(beat.device_id, when, expired, delivered),
                    "config": cache.config_for(beat.device_id, report.config_version),
                    "release": cache.release_for(connection, beat.device_id,
                                                 report.versions.get("release", ""))}))
            with batch.writes():
                if written:
                    batch.trim(settings.heartbeat_history, trim)
                else:
                    batch.write_beats(rows, when, settings.heartbeat_history, trim, history_rows)
                batch.expire(expired)
                batch.mark_delivered(delivered, when)
        for beat in accepted:  # a replay reaching this process is refused before its batch
            self._seen.add((beat.device_id, beat._values[HEADER_NONCE]), int(now), settings.max_skew_s + 1)
        for beat, outcome in outcomes:
            if isinstance(outcome, HallError):
                beat.error = outcome
            else:
                beat.answer = outcome

    def _signed(self, beats: list[Beat], outcomes: list[tuple[Beat, dict[str, Any] | HallError]],
                ) -> list[Beat]:
        """The beats whose signature verifies with their kiosk's key as cached (the others'
        refusals appended to ``outcomes``)."""
        signed = []
        for beat in beats:
            try:
                check_device(self.cache.device(beat.device_id), beat._values, "POST", beat.path, beat.query,
                             beat.body)
            except HallError as exc:
                outcomes.append((beat, exc))
                continue
            signed.append(beat)
        return signed

    @staticmethod
    def _guarded_rows(signed: list[Beat], reports: dict[Beat, HeartbeatIn | HallError],
                      history: Callable[[Beat, HeartbeatIn], bool],
                      ) -> tuple[list[tuple[str, str, int]], list[tuple[BeatRow, str, bool]]]:
        """Every signed beat's nonce, and the row (with its nonce and whether it gets a history
        row) of each whose body is valid — but a twin's (same kiosk and nonce as a beat before
        it in the batch: a replay)."""
        nonces: list[tuple[str, str, int]] = []
        rows: list[tuple[BeatRow, str, bool]] = []
        seen: set[tuple[str, str]] = set()
        for beat in signed:
            nonce = beat._values[HEADER_NONCE]
            nonces.append((beat.device_id, nonce, beat._timestamp))
            if (beat.device_id, nonce) in seen:
                continue
            seen.add((beat.device_id, nonce))
            report = reports[beat] = _report_or_error(beat.body)
            if not isinstance(report, HallError):
                rows.append((beat_row(beat.device_id, report), nonce, history(beat, report)))
        return nonces, rows

    def _trim_turn(self, device_id: str) -> bool:
        count = self._beats_of.get(device_id, -1) + 1  # -1: its first beat here trims
        self._beats_of[device_id] = count % TRIM_EVERY
        return count % TRIM_EVERY == 0


# ``HeartbeatIn.model_validate_json`` and ``model_dump_json`` without their Python wrappers, which
# pass every option as a keyword (a fifth of the parse's cost, a quarter of the dump's): the same
# validator and serializer with the same defaults (tests/hall/test_heartbeat_writer.py compares).
_validate_report_json = HeartbeatIn.__pydantic_validator__.validate_json
_report_json = HeartbeatIn.__pydantic_serializer__.to_json


def read_report(body: bytes) -> HeartbeatIn:
    """The heartbeat's report, parsed and validated in one pass (pydantic's own JSON parser);
    the same answers as ``validate(HeartbeatIn, parse_json(body))``."""
    try:
        return _validate_report_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise InvalidRequest("body is not valid JSON") from exc
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise InvalidRequest(f"{where}: {first['msg']}") from exc


def _report_or_error(body: bytes) -> HeartbeatIn | HallError:
    try:
        return read_report(body)
    except HallError as exc:
        return exc


def beat_row(device_id: str, report: HeartbeatIn) -> BeatRow:
    """Its ``device_states`` / ``heartbeats`` columns (as ``fleet.state_row`` makes them for the
    FastAPI route), straight from the model: no dict of the report, its JSON by pydantic."""
    versions = report.versions
    return BeatRow(
        device_id, report.health.state[:16], report.queue.depth, report.queue.oldest_unsent_s,
        _report_json(report).decode(), report.free_disk_bytes,
        # The release the kiosk's launcher started, else (factory install) the package version.
        (versions.get("release") or versions.get("kiosk", ""))[:40],
        report.config_version, report.uptime_s, report.locked)
