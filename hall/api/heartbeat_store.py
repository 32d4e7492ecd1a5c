"""The heartbeat writer's database side: one connection held for the writer's life, and the
batch's statements as plain SQL of the driver (psycopg / sqlite3), written once per dialect.

Why (issue 11, "Speed"): through a session per batch, each batch paid a pool checkout with
its ``pre_ping`` (a round trip on PostgreSQL), and each statement SQLAlchemy's execution
(cache key, parameter processing, result rows) and psycopg's pipelined executemany, which
sends every row as a statement of its own: about two thirds of the writer's CPU. Here:

* one ``Connection`` is checked out of the engine when the writer first needs it and kept;
  each batch is one transaction on it, begun through SQLAlchemy so that the engine's hooks
  still hold (SQLite: the process's writer turn and ``BEGIN IMMEDIATE``; both: the lazy
  commit's setting, ``hall.db.lazy_commit``), the statements run on its DBAPI connection's
  cursor inside that transaction (on PostgreSQL ``BEGIN`` and ``COMMIT`` are this module's
  own, sent with other statements: ``HeartbeatStore.transaction``);
* on PostgreSQL each statement takes the whole batch as arrays (``unnest``): one statement
  and one round trip for all the batch's kiosks, prepared on the server once;
  on SQLite, sqlite3's own executemany (its loop is C) with statements it caches;
* on PostgreSQL, once every kiosk of a batch is cached, the nonces, ``last_seen``, the history
  and the state rows are ONE statement that writes only while the fleet generation is the one
  the cache was read at (``StoreBatch.write_guarded``, hall/api/heartbeat_writer.py says when),
  sent with the ``BEGIN``: two round trips a batch, the trim, the commands' marks and the
  ``COMMIT`` in the second;
* a connection the database dropped (restart, fail-over, an idle timeout) is invalidated
  and a fresh one checked out for the next transaction. ``ConnectionLost`` says it happened
  before the commit was asked for: nothing of that batch was written, so the writer may
  write it again at once on the fresh connection.

The rows and their meaning are those of ``nonce_book.record_nonces`` and
``fleet.write_beats`` (the nonce book and the FastAPI route still use those): a nonce
that comes back from the insert was new, ``last_seen`` only when a minute old, the sweep of
old nonces one batch in ``SWEEP_ONE_IN``, one ``device_states`` row per kiosk (upsert), one
``heartbeats`` row per beat (or per beat the writer's ``HistoryMemo`` chose: the ``history``
argument, the guarded statement's ``w``), the trim keeping a kiosk's newest ``keep`` rows, and
the commands' expiry and first-delivery marks.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from hall.models import Heartbeat
from hall.services.commands import EXPIRED, PENDING
from hall.services.nonce_book import LAST_SEEN_STEP_S, SWEEP_ONE_IN
from hall.timeutil import to_datetime


class ConnectionLost(Exception):
    """The held connection broke before the batch's commit was asked for: nothing was written."""


class BeatRow(NamedTuple):
    """One heartbeat's columns (``device_states`` and, but for the last four, ``heartbeats``)."""

    device_id: str
    health_state: str
    queue_depth: int
    oldest_unsent_s: int | None
    report_json: str
    free_disk_bytes: int
    software_version: str
    config_version: int
    uptime_s: int
    locked: bool


@dataclass(frozen=True)
class _Sql:
    generation: str
    nonces: str
    touch: str
    sweep: str
    states: str
    history: str
    trim: str
    expire: str
    delivered: str
    guarded: str = ""  # PostgreSQL: nonces, last_seen, history and states in one, if the generation holds


_STATE_SET = ", ".join(f"{name} = excluded.{name}" for name in (
    "reported_at", "health_state", "queue_depth", "oldest_unsent_s", "report_json", "free_disk_bytes",
    "software_version", "config_version", "uptime_s", "locked"))
_STATE_COLUMNS = ("device_id, reported_at, health_state, queue_depth, oldest_unsent_s, report_json, "
                  "free_disk_bytes, software_version, config_version, uptime_s, locked")
_HISTORY_COLUMNS = "device_id, received_at, health_state, queue_depth, oldest_unsent_s, report_json"

# PostgreSQL: a batch's rows as one array per column, one statement each (``unnest`` zips them).
# The arrays go in binary (``%b``): psycopg quotes each element of a text array with a regular
# expression, which cost a third of the writer's time in a profile.
_POSTGRES = _Sql(
    generation="SELECT value FROM fleet_generation WHERE id = 1",
    # With ``last_seen`` in the same statement (a WITH's data-modifying statement always runs):
    # one round trip for both.
    nonces="WITH new AS (INSERT INTO nonces (device_id, nonce, ts) "
           "SELECT * FROM unnest(%b::varchar[], %b::varchar[], %b::bigint[]) "
           "ON CONFLICT (device_id, nonce) DO NOTHING RETURNING device_id, nonce), "
           "touched AS (UPDATE devices SET last_seen = %s WHERE id IN (SELECT device_id FROM new) "
           "AND (last_seen IS NULL OR last_seen < %s)) "
           "SELECT device_id, nonce FROM new",
    touch="",  # in ``nonces``
    sweep="DELETE FROM nonces WHERE ts < %s",
    states=f"INSERT INTO device_states ({_STATE_COLUMNS}) "
           "SELECT d, %s, h, q, o, r, f, s, c, u, l FROM unnest(%b::varchar[], %b::varchar[], %b::int[], "
           "%b::int[], %b::text[], %b::bigint[], %b::varchar[], %b::int[], %b::bigint[], %b::bool[]) "
           "AS t(d, h, q, o, r, f, s, c, u, l) "
           f"ON CONFLICT (device_id) DO UPDATE SET {_STATE_SET}",
    history=f"INSERT INTO heartbeats ({_HISTORY_COLUMNS}) "
            "SELECT d, %s, h, q, o, r FROM unnest(%b::varchar[], %b::varchar[], %b::int[], %b::int[], "
            "%b::text[]) AS t(d, h, q, o, r)",
    # Per kiosk: its rows from its ``keep``-th newest down (none when it has fewer).
    trim="DELETE FROM heartbeats AS h USING (SELECT t.d, (SELECT id FROM heartbeats WHERE device_id = t.d "
         "ORDER BY id DESC OFFSET %s LIMIT 1) AS cut FROM unnest(%b::varchar[]) AS t(d)) AS c "
         "WHERE h.device_id = c.d AND h.id <= c.cut",
    expire="UPDATE device_commands SET status = %s WHERE id = ANY(%b::varchar[]) AND status = %s",
    delivered="UPDATE device_commands SET delivered_at = %s WHERE id = ANY(%b::varchar[]) "
              "AND delivered_at IS NULL",
    # The batch in one statement, written only when the fleet generation is still the one the
    # writer's cache was read at (its signature checks used that cache's keys and revocations);
    # else nothing is written and the first row's generation tells the writer to read afresh.
    # A beat's history row only where ``w`` (the writer's HistoryMemo: the report changed, or
    # its kiosk's last row is old). The rows of a beat are written only when its nonce was new
    # (the join with ``new``); a kiosk's state from its last new beat (``k``: the beat's place in
    # the batch), upserted in the kiosks' byte order, the order the other shape (``write_beats``)
    # locks them in.
    guarded="WITH g AS (SELECT value FROM fleet_generation WHERE id = 1), "
            "new AS (INSERT INTO nonces (device_id, nonce, ts) "
            "SELECT * FROM unnest(%b::varchar[], %b::varchar[], %b::bigint[]) "
            "WHERE (SELECT value FROM g) = %s "
            "ON CONFLICT (device_id, nonce) DO NOTHING RETURNING device_id, nonce), "
            "touched AS (UPDATE devices SET last_seen = %s WHERE id IN (SELECT device_id FROM new) "
            "AND (last_seen IS NULL OR last_seen < %s)), "
            "beat AS (SELECT t.* FROM unnest(%b::varchar[], %b::varchar[], %b::varchar[], %b::int[], "
            "%b::int[], %b::text[], %b::bigint[], %b::varchar[], %b::int[], %b::bigint[], %b::bool[], "
            "%b::int[], %b::bool[]) "
            "AS t(d, n, h, q, o, r, f, s, c, u, l, k, w) "
            "JOIN new ON new.device_id = t.d AND new.nonce = t.n), "
            f"history AS (INSERT INTO heartbeats ({_HISTORY_COLUMNS}) "
            "SELECT d, %s, h, q, o, r FROM beat WHERE w ORDER BY k), "
            f"states AS (INSERT INTO device_states ({_STATE_COLUMNS}) "
            "SELECT d, %s, h, q, o, r, f, s, c, u, l "
            "FROM (SELECT DISTINCT ON (d) * FROM beat ORDER BY d, k DESC) "
            f'AS latest ORDER BY d COLLATE "C" ON CONFLICT (device_id) DO UPDATE SET {_STATE_SET}) '
            "SELECT (SELECT value FROM g), NULL::varchar, NULL::varchar "
            "UNION ALL SELECT NULL, device_id, nonce FROM new",
)

# SQLite: sqlite3's executemany, a statement per row (no round trips to save).
_SQLITE = _Sql(
    generation="SELECT value FROM fleet_generation WHERE id = 1",
    # The batch's nonces as one JSON array of [device_id, nonce, ts] (``WHERE true``: SQLite's
    # parser needs it between a SELECT and ON CONFLICT); RETURNING needs SQLite 3.35.
    nonces="INSERT INTO nonces (device_id, nonce, ts) SELECT json_extract(value, '$[0]'), "
           "json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?) WHERE true "
           "ON CONFLICT (device_id, nonce) DO NOTHING RETURNING device_id, nonce",
    touch="UPDATE devices SET last_seen = ? WHERE id = ? AND (last_seen IS NULL OR last_seen < ?)",
    sweep="DELETE FROM nonces WHERE ts < ?",
    states=f"INSERT INTO device_states ({_STATE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
           f"ON CONFLICT (device_id) DO UPDATE SET {_STATE_SET}",
    history=f"INSERT INTO heartbeats ({_HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
    trim="DELETE FROM heartbeats WHERE device_id = ? AND id <= (SELECT id FROM heartbeats "
         "WHERE device_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
    expire="UPDATE device_commands SET status = ? WHERE id = ? AND status = ?",
    delivered="UPDATE device_commands SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL",
)


class HeartbeatStore:
    """``with store.transaction() as batch:`` one batch's statements, committed at the end."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self._sql = _POSTGRES if self.postgres else _SQLITE
        # Times as the models write them (UtcDateTime: aware on PostgreSQL, naive UTC text on SQLite).
        processor = Heartbeat.__table__.c.received_at.type.bind_processor(engine.dialect)
        self._time: Callable[[datetime], Any] = processor or (lambda value: value)
        dbapi = engine.dialect.loaded_dbapi
        self._lost_errors: tuple[type[BaseException], ...] = (DBAPIError, dbapi.Error)
        self._held: Connection | None = None
        self.connections = 0  # checked out so far (1 + reconnections), for tests and logs
        self.trace: Callable[[str], None] | None = None  # tests: called with each statement run

    def close(self) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        try:
            if self.postgres and not held.invalidated:  # back to the pool as the pool gave it
                held.connection.dbapi_connection.autocommit = False
            held.close()
        except Exception:  # noqa: BLE001 - then it is not given back at all
            held.invalidate()

    @contextmanager
    def transaction(self, *, guarded: bool = False) -> Iterator[StoreBatch]:
        """One transaction on the held connection; its body's statements through the yielded
        ``StoreBatch``. A body that fails rolls it back; raises ``ConnectionLost`` (from the
        driver's error) when the connection broke before the commit was asked for.

        On PostgreSQL the connection runs in the driver's autocommit mode and the transaction is
        this class's own: ``BEGIN`` goes out with the read of the fleet generation, and
        ``COMMIT`` with the batch's writes (``StoreBatch.writes``) — three round trips a batch
        (begin and generation, the nonces, the writes and commit), where the driver's own
        ``BEGIN`` and ``COMMIT`` would be two more. SQLAlchemy's transaction on it then only
        keeps its books (and runs the engine's hooks); its commit finds nothing left to do.

        ``guarded`` (PostgreSQL): the ``BEGIN`` waits for ``StoreBatch.write_guarded``, which
        sends it with the batch's one statement — two round trips a batch."""
        connection = self._connection()
        batch: StoreBatch | None = None
        try:
            transaction = connection.begin()
            batch = StoreBatch(self, connection, connection.connection.dbapi_connection.cursor(),
                               begin=not (guarded and self.postgres))
            yield batch
        except BaseException as exc:
            committing = batch is not None and batch.committing
            if self._broken(connection, exc):
                if committing:
                    raise  # the commit's fate is unknown: no second try
                raise ConnectionLost(type(exc).__name__) from exc
            if connection.in_transaction():
                connection.rollback()  # on PostgreSQL the driver sends ROLLBACK: the session is in one
            raise
        try:
            transaction.commit()
        except BaseException as exc:
            self._broken(connection, exc)  # the commit's fate is unknown: no ConnectionLost
            raise

    def _connection(self) -> Connection:
        if self._held is None or self._held.closed or self._held.invalidated:
            held = self._engine.connect()  # the pool's pre-ping, once per connection
            if self.postgres:
                held.connection.dbapi_connection.autocommit = True  # BEGIN and COMMIT are ours
            self._held = held
            self.connections += 1
        return self._held

    def _broken(self, connection: Connection, exc: BaseException) -> bool:
        """Drop the connection when ``exc`` says it is gone (True then)."""
        raw = None if connection.invalidated or connection.closed else connection.connection.dbapi_connection
        gone = raw is None or bool(getattr(raw, "broken", False) or getattr(raw, "closed", False))
        if not gone and isinstance(exc, DBAPIError):
            gone = exc.connection_invalidated
        elif not gone and isinstance(exc, self._lost_errors):
            gone = self._engine.dialect.is_disconnect(exc, raw, None)  # type: ignore[arg-type]
        if gone:
            try:
                connection.invalidate()
            except Exception:  # noqa: BLE001 - it is being thrown away
                pass
            if connection is self._held:
                self._held = None
        return gone


class StoreBatch:
    """The statements of one batch, in the store's transaction."""

    def __init__(self, store: HeartbeatStore, connection: Connection, cursor: Any, *,
                 begin: bool = True) -> None:
        self.connection = connection  # SQLAlchemy's, for the cache's reads of kiosks it lacks
        self._store = store
        self._sql = store._sql
        self._cursor = cursor
        self._postgres = store.postgres
        self._time = store._time
        self.committing = False  # COMMIT asked for: a failure from here on has an unknown outcome
        self._generation: int | None = None
        self.begun = not self._postgres  # SQLite: SQLAlchemy's BEGIN IMMEDIATE has run
        if self._postgres and begin:  # BEGIN and the generation's read in one round trip
            raw = cursor.connection
            with raw.pipeline():
                raw.execute(b"BEGIN")
                self._run(self._sql.generation, ())
            self.begun = True
            self._generation = self._value(self._cursor.fetchone())

    def _run(self, sql: str, params: Any) -> Any:
        if self._store.trace is not None:
            self._store.trace(sql)
        if self._postgres:
            return self._cursor.execute(sql, params, prepare=True)
        return self._cursor.execute(sql, params)

    def _many(self, sql: str, rows: list[tuple]) -> None:
        """SQLite only: one statement, many rows (sqlite3's loop is C; no round trips)."""
        if self._store.trace is not None:
            self._store.trace(sql)
        self._cursor.executemany(sql, rows)

    def generation(self) -> int:
        """The fleet generation (hall/services/fleet_generation.py), -1 when its row is missing."""
        if self._generation is None:
            self._generation = self._value(self._run(self._sql.generation, ()).fetchone())
        return self._generation

    @staticmethod
    def _value(row: Any) -> int:
        return -1 if row is None else int(row[0])

    def record_nonces(self, nonces: list[tuple[str, str, int]], now: float,
                      max_skew_s: int) -> set[tuple[str, str]]:
        """Insert ``(device_id, nonce, ts)``; the pairs that were new (as ``nonce_book.record_nonces``)."""
        seen_at = to_datetime(now)
        when, stale = self._time(seen_at), self._time(seen_at - timedelta(seconds=LAST_SEEN_STEP_S))
        if self._postgres:  # last_seen in the same statement
            device_ids, values, stamps = zip(*nonces, strict=True)
            params: tuple = (list(device_ids), list(values), list(stamps), when, stale)
        else:
            params = (json.dumps(nonces),)
        new = {(row[0], row[1]) for row in self._run(self._sql.nonces, params).fetchall()}
        devices = sorted({device_id for device_id, _ in new})
        if devices and not self._postgres:
            self._many(self._sql.touch, [(when, device_id, stale) for device_id in devices])
        if secrets.randbelow(SWEEP_ONE_IN) == 0:
            self._run(self._sql.sweep, (int(now) - max_skew_s - 1,))
        return new

    def write_guarded(self, generation: int, nonces: list[tuple[str, str, int]],
                      rows: list[tuple[BeatRow, str, bool]], now: float,
                      max_skew_s: int) -> set[tuple[str, str]] | None:
        """PostgreSQL, in a transaction made with ``guarded=True``: ``BEGIN`` and the batch's one
        statement (``_Sql.guarded``) in one round trip — the nonces (``last_seen``), and each
        beat's history row and its kiosk's state row when its nonce was new; ``rows``: each
        beat's row with its nonce. Written only if the fleet generation is ``generation``:
        then the pairs that were new, else None (nothing written; the transaction open, its
        generation in ``generation()``, for the caller to read afresh and write the usual way).
        Each row: the beat's columns, its nonce, and whether it gets a history row.
        The ``COMMIT`` stays for ``writes()``: a connection lost before it was sent has written
        nothing, so the batch may go again on a fresh one (``ConnectionLost``)."""
        assert self._postgres and not self.begun
        seen_at = to_datetime(now)
        when, stale = self._time(seen_at), self._time(seen_at - timedelta(seconds=LAST_SEEN_STEP_S))
        device_ids, values, stamps = zip(*nonces, strict=True)
        # Each beat's 13 values turned into 13 columns by zip (in C: a fifth of the Python loop that
        # appended them one by one); no rows (every body refused): 13 empty columns.
        columns: list[list] = [list(column) for column in zip(
            *((row[0], nonce, *row[1:], place, history) for place, (row, nonce, history) in enumerate(rows)),
            strict=True)] or [[] for _ in range(13)]
        raw = self._cursor.connection
        with raw.pipeline():
            raw.execute(b"BEGIN")
            self.begun = True
            self._run(self._sql.guarded, (list(device_ids), list(values), list(stamps), generation, when,
                                          stale, *columns, when, when))
            if secrets.randbelow(SWEEP_ONE_IN) == 0:
                self._trace(self._sql.sweep)
                raw.execute(self._sql.sweep, (int(now) - max_skew_s - 1,), prepare=True)
        found = self._cursor.fetchall()
        self._generation = self._value(found[0])
        if self._generation != generation:
            return None
        return {(row[1], row[2]) for row in found[1:]}

    def _trace(self, sql: str) -> None:
        if self._store.trace is not None:
            self._store.trace(sql)

    @contextmanager
    def writes(self) -> Iterator[None]:
        """Around the batch's last statements (``write_beats``, ``expire``, ``mark_delivered``):
        on PostgreSQL a pipeline that ends with the COMMIT, so that all of them go out together
        and cost one round trip. (SQLite: the transaction commits as it ends.)"""
        if not self._postgres or not self.begun:  # (not begun: a guarded batch with nothing to write)
            yield
            return
        raw = self._cursor.connection
        with raw.pipeline():
            yield
            self.committing = True
            raw.execute(b"COMMIT")

    def write_beats(self, rows: list[BeatRow], when: datetime, keep: int, trim: list[str],
                    history: list[BeatRow] | None = None) -> None:
        """The history rows (``history``, else every beat's); each kiosk's state row (its last
        beat of the batch); the trim of the kiosks named in ``trim``."""
        at = self._time(when)
        written = rows if history is None else history
        if written and self._postgres:
            columns = [list(column) for column in zip(*written, strict=True)]
            self._run(self._sql.history, (at, *columns[:5]))
        elif written:
            self._many(self._sql.history, [(row[0], at, *row[1:5]) for row in written])
        if rows:
            # One upsert per kiosk (its last beat), in the kiosks' order: two hall processes
            # locking the same kiosks' rows take them in the same order (no deadlock).
            latest = sorted({row.device_id: row for row in rows}.values())
            if self._postgres:
                state_columns = [list(column) for column in zip(*latest, strict=True)]
                self._run(self._sql.states, (at, *state_columns))
            else:
                self._many(self._sql.states, [(row[0], at, *row[1:]) for row in latest])
        self.trim(keep, trim)

    def trim(self, keep: int, trim: list[str]) -> None:
        """The history of the kiosks in ``trim`` cut to their newest ``keep`` rows."""
        if trim:
            if self._postgres:
                self._run(self._sql.trim, (keep, trim))
            else:
                self._many(self._sql.trim, [(device_id, device_id, keep) for device_id in trim])

    def expire(self, command_ids: list[str]) -> None:
        if not command_ids:
            return
        if self._postgres:
            self._run(self._sql.expire, (EXPIRED, command_ids, PENDING))
        else:
            self._many(self._sql.expire, [(EXPIRED, one, PENDING) for one in command_ids])

    def mark_delivered(self, command_ids: list[str], now: datetime) -> None:
        if not command_ids:
            return
        at = self._time(now)
        if self._postgres:
            self._run(self._sql.delivered, (at, command_ids))
        else:
            self._many(self._sql.delivered, [(at, one) for one in command_ids])
