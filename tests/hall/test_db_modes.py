"""Finding 3 of issue 9, the database side: on SQLite every request, reads included,
began ``BEGIN IMMEDIATE`` and queued behind every writer for up to 30 s; a busy
database then became a 500. Now reads take no write lock and a busy database is a
fast 503 with Retry-After."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from hall.db import make_engine, migrate, sqlite_begin
from tests.hall.kiosk_client import SignedClient
from tests.support.hall_process import HallProcess


@pytest.fixture
def locked_db(tmp_path):
    """A migrated SQLite database whose write lock another connection holds."""
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    migrate(url)
    holder = sqlite3.connect(tmp_path / "hall.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write (RESERVED) lock, until ROLLBACK
    yield url
    holder.execute("ROLLBACK")
    holder.close()


def test_reads_do_not_wait_for_a_writer(locked_db):
    engine = make_engine(locked_db, busy_timeout_ms=200)
    started = time.monotonic()
    with sqlite_begin("DEFERRED"), engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM devices")).scalar() == 0
    assert time.monotonic() - started < 0.2
    engine.dispose()


def test_a_writer_gives_up_after_the_short_busy_timeout(locked_db):
    from sqlalchemy.exc import OperationalError

    engine = make_engine(locked_db, busy_timeout_ms=200)
    started = time.monotonic()
    with pytest.raises(OperationalError), engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM devices"))  # IMMEDIATE: the default
    assert time.monotonic() - started < 2
    engine.dispose()


def test_a_locked_database_is_a_fast_503_with_retry_after_not_a_500(tmp_path):
    with HallProcess(tmp_path) as hall:
        kiosk = SignedClient.enrolled(hall.url, hall.enrollment_code())
        holder = sqlite3.connect(Path(hall.data_dir) / "hall.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            answer = kiosk.status_changes()
            took = time.monotonic() - started
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"] == "busy" and int(answer.headers["Retry-After"]) > 0
        assert took < 3
        assert kiosk.status_changes().status_code == 200  # and it goes on once the lock is gone
