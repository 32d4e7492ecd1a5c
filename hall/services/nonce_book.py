"""The nonces of signed requests, recorded many to a transaction (group commit).

Every signed request must leave its nonce in the database before it is answered, so
that a replay is refused by any hall process. Written one request at a time, that was
one write transaction per request: on SQLite one writer at a time, each holding the
lock across several statements while the event loop's thread held the GIL, so signed
requests queued behind each other's locks (about 20 signed requests/s for the whole
hall under the 500-connection mix, and a signed p99 of 3 s under an unauthenticated
flood). Now the requests of one process that arrive while a write is under way wait for
the next one, which records all of them in ONE transaction::

    INSERT INTO nonces (device_id, nonce, ts) VALUES (...), (...), ...
    ON CONFLICT (device_id, nonce) DO NOTHING RETURNING device_id, nonce

A nonce that comes back was new; one that does not was seen before (a replay). The
same batch sets ``devices.last_seen``, but only where it is older than
``LAST_SEEN_STEP_S`` (the console shows it to the minute), and sweeps nonces older
than the skew window now and then instead of on every request.

No thread of its own: the first request that finds no write under way becomes the
*leader* and writes the batch (its own nonce and every one queued so far); the others
wait on an event. When the leader is done it hands the lead to the first request still
waiting, so no request writes more than one batch for others. A request that waits
longer than ``wait_s`` gives up with ``Busy`` (503 + Retry-After); its nonce may still be
recorded, which only means the kiosk retries with a new one.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from types import ModuleType

from sqlalchemy import bindparam, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.dml import Insert

from hall.db import lazy_commit, sqlite_begin
from hall.errors import HallError
from hall.models import Device, SeenNonce
from hall.timeutil import to_datetime

LAST_SEEN_STEP_S = 60
SWEEP_ONE_IN = 50  # batches


class Busy(HallError):
    status = 503
    code = "busy"


@dataclass(eq=False)
class _Entry:
    device_id: str
    nonce: str
    ts: int
    now: float
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # this request writes the next batch
    done: bool = False
    abandoned: bool = False  # gave up waiting; written anyway
    new: bool = False
    error: BaseException | None = None


class NonceBook:
    """``book.record(device_id, nonce, ts, now)``: True when the nonce is new (and now
    recorded), False when it was seen before. Thread-safe; one per process."""

    def __init__(self, sessions: sessionmaker[Session], max_skew_s: int, wait_s: float = 1.0) -> None:
        self._sessions = sessions
        self._max_skew_s = max_skew_s
        self._wait_s = wait_s
        self._lock = threading.Lock()
        self._pending: list[_Entry] = []
        self._writing = False
        self.batches = 0  # for tests and logs
        self.largest_batch = 0

    def record(self, device_id: str, nonce: str, ts: int, now: float) -> bool:
        entry = _Entry(device_id, nonce, ts, now)
        with self._lock:
            self._pending.append(entry)
            if not self._writing:
                self._writing = entry.lead = True
        if not entry.lead and not entry.wake.wait(self._wait_s):
            with self._lock:
                if not (entry.lead or entry.done):
                    entry.abandoned = True
                    raise Busy("the hall is busy; try again later")
        if entry.lead and not entry.done:
            self._write_batch()
        if entry.error is not None:
            raise entry.error
        return entry.new

    def _write_batch(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        try:
            new = self._write(batch)
            for entry in batch:
                entry.new = (entry.device_id, entry.nonce) in new
                new.discard((entry.device_id, entry.nonce))  # a twin in the same batch is a replay
        except BaseException as exc:  # the database's error is every waiting request's answer
            for entry in batch:
                entry.error = exc
        finally:
            with self._lock:
                for entry in batch:
                    entry.done = True
                successor = next((e for e in self._pending if not e.abandoned), None)
                if successor is None:
                    self._writing = False
                else:
                    successor.lead = True
            for entry in batch:
                entry.wake.set()
            if successor is not None:
                successor.wake.set()

    def _write(self, batch: list[_Entry]) -> set[tuple[str, str]]:
        self.batches += 1
        self.largest_batch = max(self.largest_batch, len(batch))
        now = max(entry.now for entry in batch)
        with self._sessions() as db, sqlite_begin("IMMEDIATE"), lazy_commit():
            new = record_nonces(db.connection(), [(e.device_id, e.nonce, e.ts) for e in batch], now,
                                self._max_skew_s)
            db.commit()
        return new


def record_nonces(connection: Connection, nonces: list[tuple[str, str, int]], now: float,
                  max_skew_s: int) -> set[tuple[str, str]]:
    """Insert ``(device_id, nonce, ts)`` rows in the caller's transaction; the (device_id, nonce)
    pairs that were new. Also sets those devices' ``last_seen`` (when older than
    ``LAST_SEEN_STEP_S``) and now and then sweeps nonces older than the skew window. Used by the
    book's batches and by the heartbeat writer's (hall/services/heartbeat_writer.py)."""
    rows = [{"device_id": device_id, "nonce": nonce, "ts": ts} for device_id, nonce, ts in nonces]
    # executemany with RETURNING (SQLAlchemy's "insertmanyvalues": one multi-row
    # INSERT per batch, statement compiled once per process).
    inserted = connection.execute(_INSERT[connection.dialect.name], rows)
    new = {(row.device_id, row.nonce) for row in inserted}
    seen_at = to_datetime(now)
    devices = sorted({device_id for device_id, _ in new})
    if devices:
        connection.execute(_TOUCH, {"ids": devices, "seen_at": seen_at,
                                    "stale": seen_at - timedelta(seconds=LAST_SEEN_STEP_S)})
    if secrets.randbelow(SWEEP_ONE_IN) == 0:
        connection.execute(_SWEEP, {"before": int(now) - max_skew_s - 1})
    return new


def record_one(connection: Connection, nonces: list[tuple[str, str, int]], now: float,
               max_skew_s: int) -> set[tuple[str, str]]:
    """``record_nonces`` for one request's nonce in its own transaction (the upload's fast path,
    hall/api/upload_fast_path.py): the same rows, and on PostgreSQL the nonce and ``last_seen``
    in ONE statement (a data-modifying ``WITH``: one round trip where ``record_nonces`` makes
    two, which a request of its own does not share with others)."""
    if connection.dialect.name != "postgresql" or len(nonces) != 1:
        return record_nonces(connection, nonces, now, max_skew_s)
    (device_id, nonce, ts), = nonces
    seen_at = to_datetime(now)
    new = connection.exec_driver_sql(ONE_NONCE_PG, (device_id, nonce, ts, seen_at,
                                               seen_at - timedelta(seconds=LAST_SEEN_STEP_S))).scalar()
    if secrets.randbelow(SWEEP_ONE_IN) == 0:
        connection.execute(_SWEEP, {"before": int(now) - max_skew_s - 1})
    return {(device_id, nonce)} if new else set()


# One nonce recorded on PostgreSQL in one statement (the driver's parameters: device id, nonce,
# timestamp, seen at, seen at less LAST_SEEN_STEP_S): the touch reads the insert's RETURNING, so
# only a new nonce sets last_seen, as record_nonces. ``ONE_NONCE_STEPS_PG`` is the statement's
# WITH steps alone, for a statement that writes more beside them (hall/api/upload_pg.py).
ONE_NONCE_STEPS_PG = """
WITH new AS (
    INSERT INTO nonces (device_id, nonce, ts) VALUES (%s, %s, %s)
    ON CONFLICT (device_id, nonce) DO NOTHING RETURNING device_id
), touched AS (
    UPDATE devices SET last_seen = %s
    WHERE id IN (SELECT device_id FROM new) AND (last_seen IS NULL OR last_seen < %s)
    RETURNING 1
)"""
ONE_NONCE_PG = ONE_NONCE_STEPS_PG + """
SELECT count(*) FROM new"""

_NONCES = SeenNonce.__table__
_DEVICES = Device.__table__


def _insert_new(dialect: ModuleType) -> Insert:
    return (dialect.insert(_NONCES)
            .on_conflict_do_nothing(index_elements=[_NONCES.c.device_id, _NONCES.c.nonce])
            .returning(_NONCES.c.device_id, _NONCES.c.nonce))


# Built once: constructing and compiling a statement per batch cost more than running it.
_INSERT = {"postgresql": _insert_new(postgresql), "sqlite": _insert_new(sqlite)}
_TOUCH = (update(_DEVICES)
          .where(_DEVICES.c.id.in_(bindparam("ids", expanding=True)),
                 or_(_DEVICES.c.last_seen.is_(None), _DEVICES.c.last_seen < bindparam("stale")))
          .values(last_seen=bindparam("seen_at")))
_SWEEP = delete(_NONCES).where(_NONCES.c.ts < bindparam("before"))
