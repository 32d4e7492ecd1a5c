"""Durable and lazy commits (hall.db.lazy_commit) on one pooled connection.

The setting (SQLite ``PRAGMA synchronous``, PostgreSQL ``synchronous_commit``) is made only
when a transaction wants the other one than the connection has (a statement per transaction
was a tenth of a heartbeat). Whatever came before — lazy transactions, a rollback that undid
the setting, a connection given back mid-transaction — a durable transaction must run durable."""

from __future__ import annotations

import pytest

from hall.db import lazy_commit, make_engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_cluster").create_database("commit_modes")
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
        query = "SHOW synchronous_commit"
        expected = {True: "on", False: "off"}
    else:
        url = f"sqlite:///{tmp_path / 'modes.db'}"
        query = "PRAGMA synchronous"
        expected = {True: 2, False: 1}  # FULL, NORMAL
    engine = make_engine(url, pool_size=1)  # one connection: every transaction reuses it
    yield engine, query, expected
    engine.dispose()


def test_each_transaction_runs_in_its_own_mode_whatever_came_before(engine):
    engine, query, expected = engine

    def mode_inside(durable: bool, end: str = "commit") -> object:
        connection = engine.connect()
        try:
            if durable:
                value = _read(connection, query)
            else:
                with lazy_commit():
                    value = _read(connection, query)
            if end == "commit":
                connection.commit()
            elif end == "rollback":
                connection.rollback()
            # "abandon": given back to the pool mid-transaction
        finally:
            connection.close()
        return value

    assert mode_inside(False) == expected[False]
    assert mode_inside(False) == expected[False]  # kept: no statement needed
    assert mode_inside(True) == expected[True]
    # A durable transaction that set the mode and rolled back (PostgreSQL undoes the setting):
    # the next durable one must not trust the connection's memory.
    assert mode_inside(False) == expected[False]
    assert mode_inside(True, end="rollback") == expected[True]
    assert mode_inside(True) == expected[True]
    # The same, the transaction left open and rolled back by the pool.
    assert mode_inside(False) == expected[False]
    assert mode_inside(True, end="abandon") == expected[True]
    assert mode_inside(True) == expected[True]
    assert mode_inside(False, end="rollback") == expected[False]
    assert mode_inside(False) == expected[False]

def _read(connection, query: str) -> object:
    return connection.exec_driver_sql(query).scalar()


def test_a_connection_given_back_idle_keeps_its_mode(engine):
    """Given back after its commit, a connection needs no new setting for a transaction in the
    same mode (the pool's reset used to make it forget: a statement at every checkout)."""
    from sqlalchemy import event

    engine, query, expected = engine
    settings: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(_conn, _cursor, statement, *_args):
        if statement.startswith(("SET SESSION synchronous_commit", "PRAGMA synchronous=")):
            settings.append(statement)

    for _ in range(3):
        with engine.connect() as connection:
            assert _read(connection, query) == expected[True]
            connection.commit()
    assert len(settings) <= 1  # at most the first checkout's
