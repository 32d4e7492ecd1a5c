"""Engine, sessions and migrations (SQLite by default, PostgreSQL via psycopg 3)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions (a test keeps this in step with Alembic's head).
HEAD_REVISION = "0014_attachments_upload_index"


# How the next SQLite transaction in this context begins. IMMEDIATE takes the write lock
# at once, so a transaction that reads and then writes cannot fail half-way on a lock
# (the safe default: the CLI, services, signed-request checks). DEFERRED takes no lock
# until it writes, so reads never queue behind writers (WAL): the server runs GET and
# HEAD requests this way (hall/api/deps.py). PostgreSQL ignores it.
_sqlite_begin: ContextVar[str] = ContextVar("sqlite_begin", default="IMMEDIATE")


@contextmanager
def sqlite_begin(mode: str) -> Iterator[None]:
    """Transactions begun inside this block begin ``BEGIN <mode>`` (IMMEDIATE or DEFERRED)."""
    if mode not in ("IMMEDIATE", "DEFERRED"):
        raise ValueError(mode)
    token = _sqlite_begin.set(mode)
    try:
        yield
    finally:
        _sqlite_begin.reset(token)


# Whether the next transaction's commit must reach the disk before it returns. Only the
# signed-request check turns it off (``lazy_commit``): it records a nonce and last_seen,
# and every signed request is idempotent (uploads by offset, applications by
# Idempotency-Key, the feed reads), so a power cut that forgets the last milliseconds of
# nonces lets nothing happen twice. Without it every signed request waited for an fsync
# of its own, and on SQLite one at a time: ~30 signed requests/s for the whole hall.
_durable: ContextVar[bool] = ContextVar("durable_commit", default=True)


@contextmanager
def lazy_commit() -> Iterator[None]:
    """Transactions begun inside this block commit without waiting for the disk
    (SQLite: ``PRAGMA synchronous=NORMAL`` in WAL; PostgreSQL: ``synchronous_commit=off``)."""
    token = _durable.set(False)
    try:
        yield
    finally:
        _durable.reset(token)


_SYNC_KEY = "durable_commit"  # in a pooled connection's info: the setting it has now


def set_sqlite_begin(mode: str) -> None:
    """Like ``sqlite_begin`` for the rest of the current context (one request's task)."""
    if mode not in ("IMMEDIATE", "DEFERRED"):
        raise ValueError(mode)
    _sqlite_begin.set(mode)


def make_engine(url: str, pool_size: int = 5, pool_timeout_s: float = 30.0,
                busy_timeout_ms: int = 30000) -> Engine:
    """An engine whose pool holds ``pool_size`` connections and no overflow: a request that
    finds none free waits ``pool_timeout_s`` and then fails with sqlalchemy's TimeoutError
    (the API answers 503 + Retry-After). The server sizes both from its admission budgets;
    the CLI keeps the patient defaults."""
    if not url.startswith("sqlite"):
        engine = create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=0,
                               pool_timeout=pool_timeout_s)

        # The setting is the connection's (SET SESSION), made only when a transaction wants the
        # other one: a statement per transaction (a round trip) was a tenth of a heartbeat's.
        # Set inside the transaction, it is undone by a rollback: then it is set again next time.
        @event.listens_for(engine, "begin")
        def _on_begin_pg(connection):
            durable = _durable.get()
            if connection.info.get(_SYNC_KEY) != durable:
                setting = "ON" if durable else "OFF"
                connection.exec_driver_sql(f"SET SESSION synchronous_commit TO {setting}")
                connection.info[_SYNC_KEY] = durable

        @event.listens_for(engine, "rollback")
        def _on_rollback_pg(connection):
            connection.info.pop(_SYNC_KEY, None)

        @event.listens_for(engine, "reset")
        def _on_reset_pg(dbapi_connection, record, reset_state):
            # The pool rolls back a transaction left open (which undoes a SET made in it); a
            # connection given back idle (committed) keeps its setting: forgetting it there cost
            # a SET, a round trip, at every checkout.
            if not reset_state.transaction_was_reset and not _idle(dbapi_connection):
                record.info.pop(_SYNC_KEY, None)

        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=pool_timeout_s,
                           connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, open transactions, so that each begins as we say.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    turn = _WriterTurn(busy_timeout_ms / 1000)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = _sqlite_begin.get()
        if mode == "IMMEDIATE":
            turn.take(connection.info)
        try:
            # synchronous is per connection and cannot change inside a transaction: set before
            # BEGIN, and only when this transaction wants the other setting than the last one.
            durable = _durable.get()
            if connection.info.get(_SYNC_KEY) != durable:
                connection.exec_driver_sql("PRAGMA synchronous=" + ("FULL" if durable else "NORMAL"))
                connection.info[_SYNC_KEY] = durable
            connection.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            turn.give_back(connection.info)
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection):
        turn.give_back(connection.info)

    # A transaction ended by the pool, not by its session (a connection given back or lost).
    @event.listens_for(engine, "reset")
    def _on_reset(_dbapi_connection, record, _reset_state):
        turn.give_back(record.info)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(_dbapi_connection, record, _exception):
        turn.give_back(record.info)

    return engine


def _idle(dbapi_connection) -> bool:
    """True when a psycopg connection is outside any transaction (False when unsure)."""
    try:
        from psycopg import pq

        return dbapi_connection.info.transaction_status == pq.TransactionStatus.IDLE
    except (AttributeError, ImportError):
        return False


class _WriterTurn:
    """One writer at a time among the threads of this process, first come first served.

    SQLite has one write lock; threads that find it taken poll it (sleeping 1, 2, 5 … up
    to 100 ms between tries), so under load the lock sat free while 16 threads slept, and
    writes failed after ``busy_timeout`` (heartbeats: 12 a second, half of them 503). Now a
    write transaction waits for its turn on a lock of the process before ``BEGIN
    IMMEDIATE``, and SQLite's own busy wait only arbitrates between hall processes. The
    turn is handed on when the transaction ends (commit, rollback, or the pool's reset of
    a connection given back mid-transaction); a turn not granted within the busy timeout is
    the same ``database is locked`` as SQLite's (503 + Retry-After)."""

    def __init__(self, timeout_s: float) -> None:
        self._lock = threading.Lock()
        self._timeout_s = timeout_s

    def take(self, info: dict) -> None:
        if not self._lock.acquire(timeout=self._timeout_s):
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
        info["writer_turn"] = True

    def give_back(self, info: dict) -> None:
        if info.pop("writer_turn", False):
            self._lock.release()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    from hall.services import fleet_generation  # imports the models: not at this module's import

    sessions = sessionmaker(engine, expire_on_commit=False)
    fleet_generation.install(sessions)  # heartbeat caches see every fleet write (issue 11)
    return sessions


def is_current(engine: Engine) -> bool:
    """True when the schema is already at HEAD_REVISION (a cheap check before Alembic)."""
    try:
        with engine.connect() as connection:
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except Exception:  # no table yet, or no database file yet
        return False
    return version == HEAD_REVISION


def migrate(url: str, county: str = "") -> None:
    """Bring the database to the newest Alembic revision. ``county`` is the hall's county:
    0004 makes the console users that existed before roles county admins of it."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    config.attributes["county"] = county
    command.upgrade(config, "head")
