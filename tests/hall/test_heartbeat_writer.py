"""The heartbeat writer, its cache and its own connection, in one process on a real SQLite
database and on the PostgreSQL cluster the tests start (issue 11).

Over HTTP the heartbeat is tested in test_api_fleet.py (both databases) and across two hall
processes in test_load_shared_state.py; here what HTTP cannot arrange: a batch of several
kiosks with one failing row, a pass that fails, the statements a batch costs, console
writes reaching the next beat through the generation, and the database dropping the
writer's connection. One database and one writer serve the module per backend; each test
enrols its own kiosks.
"""

from __future__ import annotations

import json
import queue
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete

from hall.api.heartbeat_writer import Beat, HeartbeatWriter
from hall.core.config import load_settings
from hall.core.keys import load_or_create_keys
from hall.db import make_engine, make_sessionmaker, migrate
from hall.models import Device, DeviceState, Heartbeat, SeenNonce
from hall.services import commands, devices, fleet_generation
from offline_queue.signing import sign_headers
from tests.hall.kiosk_client import raw_public

PATH = "/api/v1/heartbeat"


@dataclass
class Hall:
    settings: object
    engine: object
    sessions: object
    keys: object
    writer: HeartbeatWriter
    done: queue.Queue


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hall(request, tmp_path_factory) -> Iterator[Hall]:
    db_url = None
    if request.param == "postgres":
        db_url = request.getfixturevalue("postgres_cluster").create_database("hall_writer")
    settings = load_settings(db=db_url, data_dir=tmp_path_factory.mktemp("writer"), environ={})
    settings.ensure_dirs()
    migrate(settings.db_url)
    engine = make_engine(settings.db_url)
    sessions = make_sessionmaker(engine)
    keys = load_or_create_keys(settings.keys_dir)
    done: queue.Queue = queue.Queue()
    # The tests above the write-behind's own: every beat answered after its batch committed, a
    # history row for each (the usual way, which a beat with something to deliver still takes).
    writer = HeartbeatWriter(engine, settings, keys, time.time, lambda batch: done.put(batch),
                             flush_s=0, history_every_s=0)
    yield Hall(settings, engine, sessions, keys, writer, done)
    writer.stop()
    engine.dispose()


def enrol(hall: Hall) -> tuple[str, Ed25519PrivateKey]:
    from hall.timeutil import to_datetime

    key = Ed25519PrivateKey.generate()
    device_id = "k-" + uuid.uuid4().hex[:12]
    with hall.sessions() as db:
        db.add(Device(id=device_id, county="440000", public_key=raw_public(key),
                      enrolled_at=to_datetime(time.time())))
        db.commit()
    return device_id, key


def beat(kiosk: tuple[str, Ed25519PrivateKey], **report) -> Beat:
    device_id, key = kiosk
    body = json.dumps({"queue": {"depth": 1}, **report}).encode()
    return Beat(sign_headers(key, device_id, "POST", PATH, [], body, time.time()), PATH, [], body)


def run(hall: Hall, *beats: Beat) -> list[Beat]:
    """Submit the beats together (one batch: the writer is started after), wait for them."""
    hall.writer.stop()
    for one in beats:
        assert hall.writer.submit(one)
    hall.writer.start()
    answered: list[Beat] = []
    while len(answered) < len(beats):
        answered += hall.done.get(timeout=30)
    return list(beats)


def history_rows(hall: Hall, device_id: str) -> int:
    from sqlalchemy import func, select

    with hall.sessions() as db:
        return db.scalar(select(func.count()).where(Heartbeat.device_id == device_id))


def answered(hall: Hall, *beats: Beat) -> list[Beat]:
    """Submit to the running writer (its connection stays held between batches), wait."""
    hall.writer.ensure_running()
    for one in beats:
        assert hall.writer.submit(one)
    done: list[Beat] = []
    while len(done) < len(beats):
        done += hall.done.get(timeout=30)
    return list(beats)


def test_a_connection_the_database_dropped_is_replaced_and_the_batch_answered(hall):
    kiosk = enrol(hall)
    assert all(b.answer is not None for b in answered(hall, beat(kiosk)))
    store = hall.writer.store
    held = store._held
    assert held is not None
    connections, reconnects = store.connections, hall.writer.reconnects
    raw = held.connection.dbapi_connection
    if store.postgres:  # the server ends the writer's session, as a restart or an idle timeout would
        with hall.engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({raw.info.backend_pid})")
    else:  # SQLite has no server: the connection is closed under the writer
        raw.close()
    (after,) = answered(hall, beat(kiosk))
    # Nothing was written on the lost connection: the batch went again on a fresh one and was answered.
    assert after.answer is not None, after.error
    assert (store.connections, hall.writer.reconnects) == (connections + 1, reconnects + 1)
    assert hall.writer.loop.running
    (again,) = answered(hall, beat(kiosk))
    assert again.answer is not None and store.connections == connections + 1
    if store.postgres:  # the new connection commits lazily too, as the writer's always did
        raw = store._held.connection.dbapi_connection  # (not through SQLAlchemy: its hook would set it)
        assert raw.execute("SHOW synchronous_commit").fetchone()[0] == "off"


def test_a_batch_with_a_failing_row_loses_no_other_answer_and_the_writer_lives(hall):
    kiosks = [enrol(hall) for _ in range(3)]
    assert all(b.answer is not None for b in run(hall, *(beat(k) for k in kiosks)))  # now cached
    # The first kiosk's row vanishes behind the cache's back (a Core delete bumps no
    # generation): its next rows break the foreign keys, and with them the batch's transaction.
    gone = kiosks[0][0]
    with hall.sessions() as db:
        for table in (SeenNonce, Heartbeat, DeviceState):
            db.execute(delete(table).where(table.device_id == gone))
        db.execute(delete(Device).where(Device.id == gone))
        db.commit()
    fallbacks = hall.writer.fallbacks
    before = history_rows(hall, kiosks[1][0])
    first, second, third = run(hall, *(beat(k) for k in kiosks))
    assert hall.writer.fallbacks == fallbacks + 1  # the batch failed, then each beat was written alone
    # One transaction: nothing of the failed batch stayed, each beat written again is one row.
    assert history_rows(hall, kiosks[1][0]) == before + 1
    # Written alone after the cache was dropped, its device is read afresh: there is none.
    assert first.answer is None and first.error is not None and first.error.status == 401
    assert second.answer is not None and third.answer is not None
    assert hall.writer.loop.running
    (after,) = run(hall, beat(kiosks[1]))
    assert after.answer is not None and hall.writer.loop.running


def test_a_failing_pass_answers_busy_and_the_writer_goes_on(hall):
    from sqlalchemy.exc import OperationalError

    kiosk = enrol(hall)
    store = hall.writer.store

    def down():
        raise OperationalError("connect", None, Exception("the database went away"))

    store._connection = down  # the writer's connection cannot be had (its engine's connect fails)
    try:
        (refused,) = run(hall, beat(kiosk))
    finally:
        del store._connection
    assert refused.error is not None and (refused.error.status, refused.error.code) == (503, "busy")
    assert hall.writer.loop.running
    (fine,) = run(hall, beat(kiosk))
    assert fine.answer is not None


def test_a_batch_costs_the_same_statements_for_one_kiosk_or_eight(hall):
    kiosks = [enrol(hall) for _ in range(8)]
    run(hall, *(beat(k) for k in kiosks))  # cached, and each kiosk's first trim done
    statements: list[str] = []

    def count(statement: str) -> None:
        if not statement.startswith("DELETE FROM nonces"):  # the sweep runs one batch in 50
            statements.append(statement)

    hall.writer.store.trace = count  # each statement the writer hands its driver (one per kind)
    try:
        run(hall, beat(kiosks[0]))
        one = len(statements)
        statements.clear()
        answered = run(hall, *(beat(k) for k in kiosks))
        eight = len(statements)
    finally:
        hall.writer.store.trace = None
    assert all(b.answer is not None for b in answered)
    # The generation, the nonces, last_seen, the states, the history: one statement each.
    assert eight <= one + 1, (one, eight)


def test_a_command_a_configuration_and_a_revocation_reach_the_next_beat(hall):
    from hall.services import configs

    kiosk = enrol(hall)
    (first,) = run(hall, beat(kiosk))
    assert first.answer is not None and first.answer["commands"] == []
    reloads = hall.writer.cache.reloads
    run(hall, beat(kiosk))
    assert hall.writer.cache.reloads == reloads  # nothing changed: answered from the cache

    with hall.sessions() as db:
        issued = commands.issue(db, hall.keys.sign_private, kiosk[0], "sync_now", {}, "staff", ttl_s=600)
        configs.push(db, {"kiosk": {"idle_timeout_s": 80.0}}, [kiosk[0]], "staff")
    (second,) = run(hall, beat(kiosk))
    assert second.answer is not None
    assert [c["document"]["id"] for c in second.answer["commands"]] == [issued.id]
    assert second.answer["config"]["document"]["settings"] == {"kiosk": {"idle_timeout_s": 80.0}}
    assert hall.writer.cache.reloads == reloads + 1

    with hall.sessions() as db:
        devices.revoke(db, kiosk[0])
    (third,) = run(hall, beat(kiosk))
    assert third.error is not None and (third.error.status, third.error.code) == (403, "device_revoked")


def test_without_its_generation_row_the_cache_keeps_nothing(hall):
    """A database that lost the row (restored from before migration 0012, not migrated) cannot
    announce a change: the writer then reads every batch's kiosks afresh."""
    from hall.models import FleetGeneration

    kiosk = enrol(hall)
    with hall.sessions() as db:
        db.execute(delete(FleetGeneration))
        db.commit()
    try:
        reloads = hall.writer.cache.reloads
        assert all(b.answer is not None for b in run(hall, beat(kiosk)) + run(hall, beat(kiosk)))
        assert hall.writer.cache.reloads == reloads + 2
    finally:
        with hall.sessions() as db:
            db.add(FleetGeneration(id=1, value=10**6))
            db.commit()


def test_a_batch_that_fails_before_its_commit_leaves_nothing(hall):
    """The store's transaction is one (on PostgreSQL its own BEGIN on a connection in autocommit)."""
    from sqlalchemy import select

    device_id, _ = enrol(hall)
    hall.writer.stop()  # the store is the writer's: used here while its thread is stopped
    store = hall.writer.store
    with pytest.raises(RuntimeError), store.transaction() as batch:
        assert batch.record_nonces([(device_id, "n-" + uuid.uuid4().hex, int(time.time()))], time.time(),
                                   300)
        raise RuntimeError("after the nonce, before the commit")
    with hall.sessions() as db:
        assert db.scalars(select(SeenNonce.nonce).where(SeenNonce.device_id == device_id)).all() == []
    with store.transaction() as batch:  # and the connection is fine for the next
        assert batch.generation() >= -1
        with batch.writes():
            batch.expire([])
    hall.writer.start()


def test_a_cached_batch_is_written_by_one_statement_with_the_same_refusals(hall):
    """PostgreSQL: kiosks cached at the current generation are written by the guarded statement
    (nonces, history, states at once); its answers are those of the usual way — a twin in the
    batch and an old nonce are replays, a bad body is refused after its nonce was used."""
    from sqlalchemy import select

    kiosks = [enrol(hall) for _ in range(3)]
    run(hall, *(beat(k) for k in kiosks))  # cached
    old = beat(kiosks[2])
    run(hall, old)
    statements: list[str] = []
    hall.writer.store.trace = statements.append
    try:
        first, second = beat(kiosks[0], uptime_s=1), beat(kiosks[0], uptime_s=2)
        twin = Beat(dict(second.headers), PATH, [], second.body)
        bad = beat(kiosks[1], queue={"depth": "many"})
        replay = Beat(dict(old.headers), PATH, [], old.body)
        before = [history_rows(hall, k[0]) for k in kiosks]
        answered_ = run(hall, first, second, twin, bad, replay)
    finally:
        hall.writer.store.trace = None
    if hall.writer.store.postgres:
        assert any(s.startswith("WITH g AS") for s in statements), statements
        assert not any(s.startswith("INSERT INTO heartbeats") for s in statements), statements
    assert first.answer is not None and second.answer is not None, (first.error, second.error)
    assert twin.error is not None and twin.error.code == "replayed_nonce"
    assert replay.error is not None and replay.error.code == "replayed_nonce"
    assert bad.error is not None and bad.error.status in (400, 422)
    assert len(answered_) == 5
    assert [history_rows(hall, k[0]) for k in kiosks] == [before[0] + 2, before[1], before[2]]
    with hall.sessions() as db:
        state = db.get(DeviceState, kiosks[0][0])
        assert state is not None and state.uptime_s == 2  # the kiosk's last beat of the batch
        nonce = bad.headers["X-Nonce"]
        assert db.scalars(select(SeenNonce.nonce).where(SeenNonce.device_id == kiosks[1][0],
                                                        SeenNonce.nonce == nonce)).all() == [nonce]
    (again,) = run(hall, Beat(dict(bad.headers), PATH, [], bad.body))
    assert again.error is not None and again.error.code == "replayed_nonce"
    assert hall.writer.loop.running


# -- write-behind: plain beats answered before their rows are written ---------------------


@dataclass
class Writer:
    writer: HeartbeatWriter
    done: queue.Queue


@pytest.fixture
def behind(hall) -> Iterator[Writer]:
    """A second writer on the module's database with write-behind on; its timer long enough
    that only what a test does (a stop, a beat the usual way) flushes, unless it says otherwise."""
    made: list[HeartbeatWriter] = []

    def make(flush_s: float = 30.0) -> Writer:
        done: queue.Queue = queue.Queue()
        writer = HeartbeatWriter(hall.engine, hall.settings, hall.keys, time.time,
                                 lambda batch: done.put(batch), flush_s=flush_s)
        made.append(writer)
        writer.start()
        return Writer(writer, done)

    hall.writer.stop()  # (SQLite: one writer at a time in the tests' process is plenty)
    yield make
    for writer in made:
        writer.stop()


def send(w: Writer, *beats: Beat) -> list[Beat]:
    """As the fast path does: each beat answered at once when it can be, else submitted."""
    w.writer.ensure_running()
    submitted = 0
    for one in beats:
        if not w.writer.answer_now(one):
            assert w.writer.submit(one)
            submitted += 1
    done: list[Beat] = []
    while len(done) < submitted:
        done += w.done.get(timeout=30)
    return list(beats)


def state_of(hall: Hall, device_id: str) -> DeviceState | None:
    with hall.sessions() as db:
        return db.get(DeviceState, device_id)


def nonce_written(hall: Hall, one: Beat) -> bool:
    from sqlalchemy import select

    with hall.sessions() as db:
        return db.scalar(select(SeenNonce.nonce).where(SeenNonce.device_id == one.headers["X-Device-Id"],
                                                       SeenNonce.nonce == one.headers["X-Nonce"])) is not None


def test_a_plain_beat_is_answered_before_its_rows_and_they_are_written_at_the_flush(hall, behind):
    w = behind()
    kiosk = enrol(hall)
    (first,) = send(w, beat(kiosk, uptime_s=1))  # not cached yet: the usual way
    assert first.answer is not None and w.writer.answered_early == 0
    rows = history_rows(hall, kiosk[0])
    second, third = send(w, beat(kiosk, uptime_s=2)), beat(kiosk, uptime_s=3, queue={"depth": 4})
    send(w, third)
    (second,) = second
    for one in (second, third):
        assert one.answer == {"heartbeat_interval_s": hall.settings.heartbeat_interval_s,
                              "server_time": one.answer["server_time"], "commands": [], "config": None,
                              "release": None}
    assert w.writer.answered_early == 2
    state = state_of(hall, kiosk[0])
    assert state is not None and state.uptime_s == 1 and not nonce_written(hall, second)  # not yet written
    assert w.writer.loop.running
    w.writer.stop()  # the stop flushes what waits
    state = state_of(hall, kiosk[0])
    assert state is not None and (state.uptime_s, state.queue_depth) == (3, 4)
    assert nonce_written(hall, second) and nonce_written(hall, third)
    # The second said what the first had said (no history row), the third changed the queue.
    assert history_rows(hall, kiosk[0]) == rows + 1


def test_a_flush_comes_by_itself_when_its_time_is_up(hall, behind):
    w = behind(flush_s=0.05)
    kiosk = enrol(hall)
    send(w, beat(kiosk, uptime_s=1))
    (plain,) = send(w, beat(kiosk, uptime_s=2))
    assert plain.answer is not None and w.writer.answered_early == 1
    deadline = time.monotonic() + 20
    while not nonce_written(hall, plain) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert nonce_written(hall, plain) and state_of(hall, kiosk[0]).uptime_s == 2
    assert w.writer.flushes >= 1 and w.writer.loop.running


def test_a_beat_with_a_command_waits_for_its_commit(hall, behind):
    from hall.models import DeviceCommand

    w = behind()
    kiosk = enrol(hall)
    send(w, beat(kiosk))  # cached
    (plain,) = send(w, beat(kiosk, uptime_s=4))
    assert plain.answer is not None and w.writer.answered_early == 1
    with hall.sessions() as db:
        issued = commands.issue(db, hall.keys.sign_private, kiosk[0], "sync_now", {}, "staff", ttl_s=600)
    # This process committed a fleet change: its cache is no longer known fresh (the hook on the
    # sessions' commit), so the next beat goes the usual way — answered with the command once the
    # delivery mark and the rows committed.
    (delivering,) = send(w, beat(kiosk, uptime_s=5))
    assert [c["document"]["id"] for c in delivering.answer["commands"]] == [issued.id]
    assert w.writer.answered_early == 1 and nonce_written(hall, delivering)
    assert w.writer.loop.running
    assert state_of(hall, kiosk[0]).uptime_s == 5
    with hall.sessions() as db:
        assert db.get(DeviceCommand, issued.id).delivered_at is not None


def test_a_revocation_between_the_answer_and_the_flush_writes_nothing_of_that_kiosk(hall, behind):
    w = behind()
    revoked, other = enrol(hall), enrol(hall)
    send(w, beat(revoked, uptime_s=1), beat(other, uptime_s=1))
    plain, fine = send(w, beat(revoked, uptime_s=2), beat(other, uptime_s=2))
    assert plain.answer is not None and fine.answer is not None and w.writer.answered_early == 2
    with hall.sessions() as db:
        devices.revoke(db, revoked[0])
    w.writer.stop()
    assert w.writer.dropped_changed == 1
    assert not nonce_written(hall, plain) and state_of(hall, revoked[0]).uptime_s == 1
    assert nonce_written(hall, fine) and state_of(hall, other[0]).uptime_s == 2
    (refused,) = send(w, beat(revoked))
    assert refused.error is not None and refused.error.code == "device_revoked"


def test_a_replay_is_refused_by_its_process_and_written_once_whichever_answers_it(hall, behind):
    one, two = behind(), behind()  # two hall processes' writers
    kiosk = enrol(hall)
    send(one, beat(kiosk))
    send(two, beat(kiosk))  # both cached
    original = beat(kiosk, uptime_s=9, queue={"depth": 3})
    send(one, original)
    rows = history_rows(hall, kiosk[0])
    (same_process,) = send(one, Beat(dict(original.headers), PATH, [], original.body))
    assert same_process.error is not None and same_process.error.code == "replayed_nonce"
    # Within the flush window the other process has not seen it: the plain answer, which carries
    # nothing the original's did not; the flush writes it once.
    (other_process,) = send(two, Beat(dict(original.headers), PATH, [], original.body))
    assert other_process.answer is not None and other_process.answer["commands"] == []
    one.writer.stop()
    two.writer.stop()
    assert two.writer.dropped_replays == 1
    assert history_rows(hall, kiosk[0]) == rows + 1
    with hall.sessions() as db:
        from sqlalchemy import func, select

        assert db.scalar(select(func.count()).where(SeenNonce.nonce == original.headers["X-Nonce"])) == 1


def test_a_flush_the_database_refuses_leaves_the_writer_alive_and_is_tried_again(hall, behind):
    from sqlalchemy.exc import OperationalError

    w = behind(flush_s=0.05)
    kiosk = enrol(hall)
    send(w, beat(kiosk, uptime_s=1))
    store = w.writer.store

    def down():
        raise OperationalError("connect", None, Exception("the database went away"))

    store.close()
    store._connection = down  # the database is gone
    try:
        (plain,) = send(w, beat(kiosk, uptime_s=2))
        assert plain.answer is not None  # answered from the cache; its flush then fails
        deadline = time.monotonic() + 20
        while w.writer.flush_failures == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert w.writer.flush_failures >= 1 and w.writer.loop.running
        # Until a flush succeeds, beats are not answered ahead of the database: 503, come back.
        (refused,) = send(w, beat(kiosk, uptime_s=3))
        assert refused.error is not None and (refused.error.status, refused.error.code) == (503, "busy")
        assert w.writer.loop.running
    finally:
        del store._connection
    deadline = time.monotonic() + 20
    while not nonce_written(hall, plain) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert nonce_written(hall, plain) and state_of(hall, kiosk[0]).uptime_s == 2  # kept, written later
    assert w.writer.dropped_failing == 0
    (fine,) = send(w, beat(kiosk, uptime_s=4))
    assert fine.answer is not None and w.writer.loop.running


def test_a_plain_beat_is_answered_early_only_while_the_generation_is_freshly_read(hall, behind):
    w = behind(flush_s=0.1)  # fresh for 0.2 s after a read of the generation
    kiosk = enrol(hall)
    send(w, beat(kiosk))  # the usual way: cached, the generation read
    (plain,) = send(w, beat(kiosk, uptime_s=2))
    assert plain.answer is not None and w.writer.answered_early == 1
    # Another process's change (not this process's sessions: no hook tells this cache).
    with hall.engine.begin() as connection:
        fleet_generation.bump(connection)
    time.sleep(0.5)  # past the freshness window, and past the flush (which read the new number)
    (after,) = send(w, beat(kiosk, uptime_s=3))
    # The usual way (read afresh, written before the answer), not the cache's old word.
    assert after.answer is not None and w.writer.answered_early == 1 and nonce_written(hall, after)
    assert w.writer.loop.running


@pytest.mark.parametrize("body", [
    b'{"queue": {"depth": 1}}',
    b"{}",
    json.dumps({"health": {"state": "ok", "devices": [{"device": "camera", "state": "ok", "reason": "",
                                                       "detail": "\u6444\u50cf\u5934"}]},
                "queue": {"depth": 2, "oldest_unsent_s": 30}, "free_disk_bytes": 20_000_000_000,
                "versions": {"kiosk": "0.1.0", "release": "r\u00e9"}, "config_version": 3,
                "uptime_s": 99, "locked": True, "problems": ["config_refused"], "extra": 1}).encode(),
    b"not json", b"[]", b'{"queue": {"depth": -1}}', b'{"versions": {"kiosk": "' + b"x" * 41 + b'"}}',
    b'{"problems": ["' + b"p" * 201 + b'"]}', b'{"uptime_s": "12"}', b'{"locked": "yes"}',
])
def test_the_report_is_read_and_stored_as_pydantic_s_wrappers_would(body):
    """``read_report`` and ``beat_row`` call pydantic's validator and serializer without the
    model's wrapper methods: the same model, the same refusal, the same stored JSON."""
    from pydantic import ValidationError

    from hall.api.heartbeat_writer import beat_row, read_report
    from hall.api.schemas import HeartbeatIn
    from hall.errors import HallError

    try:
        expected: HeartbeatIn | str = HeartbeatIn.model_validate_json(body)
    except ValidationError as exc:  # the refusal as read_report words it
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        expected = "body is not valid JSON" if first["type"] == "json_invalid" else f"{where}: {first['msg']}"
    try:
        report = read_report(body)
    except HallError as refused:
        assert refused.detail == expected
        return
    assert isinstance(report, HeartbeatIn) and report == expected
    assert beat_row("k", report).report_json == expected.model_dump_json()
