"""The upload's fast path on PostgreSQL: the driver's plain SQL, few round trips (issue 11, "Speed").

Through SQLAlchemy's Core on one connection (hall/api/upload_fast_path.py's other path, which
SQLite keeps) an upload made sixteen round trips: per create the pool's pre-ping, ``BEGIN``,
the device, the nonce, the upload of that hash with the quota, the insert, ``COMMIT``; per
chunk the pre-ping, ``BEGIN``, the device, the nonce, the upload, ``COMMIT``, then ``BEGIN``,
the compare and set, ``COMMIT`` — each through SQLAlchemy's execution (cache key, parameters,
result rows), each a thread that gave the GIL up and queued for it again. Here, as
hall/api/heartbeat_store.py writes the beats, the statements are psycopg's own, prepared on the
server once per connection, in the driver's autocommit mode: every statement is a transaction
of its own, so no ``BEGIN`` or ``COMMIT`` goes out, and what must be written together is ONE
statement (a data-modifying ``WITH``):

* create (pre-ping + 2): the device, the upload of that hash and the device's unused uploads
  (the quota) in ONE read — made before the signature is checked, it answers nothing until it
  is; then, once the signature verified, ONE statement that records the nonce (with
  ``last_seen``) and inserts the upload only when that nonce was new (a replay inserts nothing);
* create with its first bytes (pre-ping + 2): the create's read, which also says whether the
  nonce is used (a replay refused before the disk work); the bytes written and fsynced (a whole
  box hash-checked and stored) with no statement open; then the statement of the nonce and the
  upload, inserted at its offset (``create_first``);
* chunk (pre-ping + 3): the device and the upload in one read; the nonce (with ``last_seen``);
  the disk work with no transaction open (the same ``uploads._write_chunk``); the compare and
  set of the offset, which also reads the offset when it lost.

Every write commits durably before the answer (an upload acknowledged complete is committed:
the kiosk deletes its copy on it). The chunk's nonce commits durably too, as on the other path
(a lazy one would be a ``SET`` each way on a connection whose next statement is durable).
The same checks in the same order, the same answers as ``uploads.create_on`` / ``chunk_on``
and the routes (tests/hall/test_upload_fast_path.py runs both databases). The connection comes
from the engine's pool (its pre-ping kept: a PostgreSQL restart costs no request); a failure
rolls back what is open or, when the connection broke, invalidates it; it is given back either
way, out of autocommit mode as the pool gave it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from hall.core.config import Settings
from hall.errors import AuthFailed, Conflict, HallError, NotFound
from hall.models import Device
from hall.services import uploads
from hall.services.nonce_book import LAST_SEEN_STEP_S, ONE_NONCE_PG, ONE_NONCE_STEPS_PG, SWEEP_ONE_IN
from hall.services.signatures import check_clock, check_device
from hall.timeutil import Clock, to_datetime
from offline_queue.signing import HEADER_DEVICE, HEADER_NONCE

_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE
_SYNC_KEY = "durable_commit"  # hall.db's: the pooled connection's session setting, when known

# The device and, for a create, the upload of that hash and the device's unused uploads.
_CREATE_READ = """
SELECT d.id, d.county, d.public_key, d.revoked,
       u.id, u.device_id, u.sha256, u.size, u.received_bytes, u.complete, u.verified,
       u.created_at, u.updated_at, q.n, q.total
FROM (SELECT 1) AS one
LEFT JOIN devices AS d ON d.id = %s
LEFT JOIN uploads AS u ON u.device_id = %s AND u.sha256 = %s
CROSS JOIN (SELECT count(*) AS n, coalesce(sum(x.size), 0) AS total FROM uploads AS x
            WHERE x.device_id = %s
              AND NOT EXISTS (SELECT 1 FROM application_attachments AS a WHERE a.upload_id = x.id)) AS q"""

# A create with its first bytes: the same, and whether this nonce is already used — a replay is
# refused before the disk work (a replay racing its original is refused by the insert's statement).
_CREATE_FIRST_READ = _CREATE_READ.replace("FROM (SELECT 1) AS one", """, EXISTS (SELECT 1 FROM nonces AS s
                                WHERE s.device_id = %s AND s.nonce = %s)
FROM (SELECT 1) AS one""")

_CHUNK_READ = """
SELECT d.id, d.county, d.public_key, d.revoked,
       u.id, u.device_id, u.sha256, u.size, u.received_bytes, u.complete, u.verified,
       u.created_at, u.updated_at
FROM (SELECT 1) AS one
LEFT JOIN devices AS d ON d.id = %s
LEFT JOIN uploads AS u ON u.id = %s AND u.device_id = %s"""

# The nonce (new or a replay: nonce_book's ONE_NONCE_PG), last_seen when a minute old,
# and the upload (at its offset: a create with its first bytes inserts it once they are durable)
# only when the nonce was new and the caller asks for it (the last parameter).
_NONCE_AND_UPLOAD = ONE_NONCE_STEPS_PG + """, made AS (
    INSERT INTO uploads (id, device_id, sha256, size, received_bytes, complete, verified,
                         created_at, updated_at)
    SELECT %s::varchar, %s::varchar, %s::varchar, %s::bigint, %s::bigint, %s::boolean, %s::boolean,
           %s::timestamptz, %s::timestamptz
    WHERE %s::boolean AND EXISTS (SELECT 1 FROM new)
    ON CONFLICT (device_id, sha256) DO NOTHING RETURNING 1
)
SELECT (SELECT count(*) FROM new), (SELECT count(*) FROM made)"""

# uploads._MOVE, and the offset as it stands when the compare and set lost (same snapshot).
_MOVE = """
WITH moved AS (
    UPDATE uploads SET received_bytes = %s, complete = %s, verified = %s, updated_at = %s
    WHERE id = %s AND device_id = %s AND received_bytes = %s AND NOT complete
    RETURNING 1
)
SELECT (SELECT count(*) FROM moved), (SELECT received_bytes FROM uploads WHERE id = %s)"""

_BY_HASH = """
SELECT id, device_id, sha256, size, received_bytes, complete, verified, created_at, updated_at
FROM uploads WHERE device_id = %s AND sha256 = %s"""

_SWEEP = "DELETE FROM nonces WHERE ts < %s"


def _row(values: Any) -> uploads.UploadRow:
    return uploads.UploadRow(*values)


def _insert_params(create: uploads.UploadRow | None) -> tuple:
    """``_NONCE_AND_UPLOAD``'s upload parameters: the row to insert, or none."""
    if create is None:
        return (None,) * 9 + (False,)
    return (create.id, create.device_id, create.sha256, create.size, create.offset, create.complete,
            create.verified, create.created_at, create.updated_at, True)


class PgUploads:
    """The create and the chunk on PostgreSQL (on the thread pool, one call a request)."""

    def __init__(self, engine: Engine, settings: Settings, clock: Clock) -> None:
        self._engine = engine
        self._settings = settings
        self._clock = clock
        self._dbapi = engine.dialect.loaded_dbapi
        self.busy: tuple[type[BaseException], ...] = (self._dbapi.OperationalError,)

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """A pooled psycopg connection in autocommit mode, for one request."""
        fairy = self._engine.raw_connection()  # the pool's checkout, with its pre-ping
        raw = fairy.driver_connection
        try:
            raw.autocommit = True
            yield _Tx(raw, fairy.info, self._settings.max_skew_s)
        except BaseException:
            if raw.broken or raw.closed:
                fairy.invalidate()  # the pool drops it and opens another next time
            elif raw.info.transaction_status != _IDLE:  # (autocommit: none is open but on a failure)
                try:
                    raw.execute(b"ROLLBACK")
                except self._dbapi.Error:
                    fairy.invalidate()
            raise
        finally:
            try:
                if not raw.closed:
                    raw.autocommit = False  # back to the pool as the pool gave it
            except self._dbapi.Error:
                fairy.invalidate()
            fairy.close()

    # -- create --------------------------------------------------------------------------------

    def create(self, headers: Mapping[str, str], path: str, query: list[tuple[str, str]], body: bytes,
               data: Any, refused: HallError | None) -> tuple[uploads.UploadRow, bool]:
        """``data``: the body's ``UploadIn``, or None with ``refused``, the error its parse or
        check raised: answered, as the route, only once the signature verified and the nonce is
        recorded."""
        settings = self._settings
        values, timestamp, now = check_clock(headers, self._clock, settings.max_skew_s)
        device_id = values[HEADER_DEVICE]
        sha256 = ""
        size = 0
        if data is not None:
            try:
                sha256 = uploads.check_declared(settings, data.sha256, data.size)
                size = data.size
            except HallError as exc:
                refused = exc
        with self._connection() as tx:
            row = tx.read(_CREATE_READ, (device_id, device_id, sha256, device_id))
            device = _device(row)
            check_device(device, values, "POST", path, query, body)  # raises: the ROLLBACK, nothing written
            assert device is not None
            existing = _row(row[4:13]) if row[4] is not None else None
            create: uploads.UploadRow | None = None
            if refused is None and existing is None:
                try:
                    uploads.check_quota_counts(settings, row[13], int(row[14]), size)
                    uploads.check_disk(settings, size)
                except HallError as exc:
                    refused = exc
                else:
                    create = uploads.new_upload_row(device.id, sha256, size, self._clock)
            seen_at = to_datetime(now)
            params = (device.id, values[HEADER_NONCE], timestamp, seen_at,
                      seen_at - timedelta(seconds=LAST_SEEN_STEP_S),
                      *_insert_params(create))
            new, made = tx.write(_NONCE_AND_UPLOAD, params, now)
            return _created(tx, new, made, refused, existing, create)

    # -- create with the first bytes -----------------------------------------------------------

    def create_first(self, headers: Mapping[str, str], path: str, query: list[tuple[str, str]], body: bytes,
                     first: uploads.FirstBytes | None, refused: HallError | None
                     ) -> tuple[uploads.UploadRow, bool]:
        """A create that carries the upload's first bytes (``first``, or None with ``refused``, the
        error its headers' checks raised: answered once the signature verified). Pre-ping + 2
        round trips, as the JSON create: ONE read (device, upload of that hash, quota, the nonce
        used?); the bytes made durable with no statement open; then ONE statement that records
        the nonce and inserts the row at its offset. A refusal or an upload that exists records
        the nonce alone. A crash between the file and the row leaves a file no row names
        (uploads.write_first), never a row without its bytes."""
        settings = self._settings
        values, timestamp, now = check_clock(headers, self._clock, settings.max_skew_s)
        device_id, nonce = values[HEADER_DEVICE], values[HEADER_NONCE]
        with self._connection() as tx:
            row = tx.read(_CREATE_FIRST_READ, (device_id, nonce, device_id, device_id,
                                               first.sha256 if first is not None else "", device_id))
            device = _device(row)
            check_device(device, values, "POST", path, query, body)
            assert device is not None
            if row[15]:
                raise AuthFailed("nonce already seen", code="replayed_nonce")
            existing = _row(row[4:13]) if row[4] is not None else None
            create: uploads.UploadRow | None = None
            if refused is None and existing is None:
                assert first is not None
                try:
                    uploads.check_quota_counts(settings, row[13], int(row[14]), first.size)
                    uploads.check_disk(settings, first.size)
                    create = uploads.new_upload_row(device.id, first.sha256, first.size, self._clock)
                    uploads.write_first(settings, create, first)
                except HallError as exc:
                    refused, create = exc, None
            seen_at = to_datetime(now)
            # (Should this fail, whether the row went in is not known: the file stays, for the
            # row or for the abandoned-uploads sweep.)
            new, made = tx.write(_NONCE_AND_UPLOAD, (device.id, nonce, timestamp, seen_at,
                                                     seen_at - timedelta(seconds=LAST_SEEN_STEP_S),
                                                     *_insert_params(create)), now)
            if create is not None and not made:
                uploads.forget_first(settings, create)  # a replay racing, or a twin: no row names it
            return _created(tx, new, made, refused, existing, create)

    # -- chunk ---------------------------------------------------------------------------------

    def chunk(self, headers: Mapping[str, str], path: str, query: list[tuple[str, str]], upload_id: str,
              body: bytes) -> uploads.UploadRow:
        settings = self._settings
        values, timestamp, now = check_clock(headers, self._clock, settings.max_skew_s)
        device_id = values[HEADER_DEVICE]
        with self._connection() as tx:
            row = tx.read(_CHUNK_READ, (device_id, upload_id, device_id))
            device = _device(row)
            check_device(device, values, "PATCH", path, query, body)
            assert device is not None
            refused: HallError | None = None
            upload = None
            try:
                offset = uploads.chunk_offset(settings, headers.get("content-type", ""),
                                              headers.get("upload-offset", ""), len(body))
                if row[4] is None:
                    raise NotFound("no such upload for this device", code="upload_not_found")
                upload = _row(row[4:13])
            except HallError as exc:
                refused = exc
            seen_at = to_datetime(now)
            # Committed before the disk work, which holds no transaction (upload_fast_path._chunk).
            new, = tx.write(ONE_NONCE_PG, (device.id, values[HEADER_NONCE], timestamp, seen_at,
                                                seen_at - timedelta(seconds=LAST_SEEN_STEP_S)), now)
            if not new:
                raise AuthFailed("nonce already seen", code="replayed_nonce")
            if refused is not None:
                raise refused
            assert upload is not None
            return uploads.append_read(tx, settings, upload, offset, body, self._clock, move=tx.move)


def _device(row: Any) -> Device | None:
    if row[0] is None:
        return None
    return Device(id=row[0], county=row[1], public_key=row[2], revoked=row[3])


def _created(tx: _Tx, new: bool, made: bool, refused: HallError | None, existing: uploads.UploadRow | None,
             create: uploads.UploadRow | None) -> tuple[uploads.UploadRow, bool]:
    """Both creates' answer once ``_NONCE_AND_UPLOAD`` ran (``new``: the nonce was new; ``made``:
    the row went in): a replay refused, then the checks' refusal, the upload that existed, the new
    one — or the twin of that hash another request created meanwhile (ON CONFLICT DO NOTHING)."""
    if not new:
        raise AuthFailed("nonce already seen", code="replayed_nonce")
    if refused is not None:
        raise refused
    if existing is not None:
        return existing, False
    assert create is not None
    if made:
        return create, True
    twin = tx.read(_BY_HASH, (create.device_id, create.sha256))
    if twin is None:  # deleted again at once: as create_on, an error rather than a guess
        raise Conflict("the upload changed meanwhile; try again", code="offset_mismatch")
    return _row(twin), False


class _Tx:
    """One request's statements on its psycopg connection, in the driver's autocommit mode: each
    statement is a transaction of its own, committed as it ends — no ``BEGIN`` or ``COMMIT`` to
    send, one round trip a statement. The ones that write are single statements (a CTE), so what
    must be written together is."""

    def __init__(self, raw: Any, info: dict, max_skew_s: int) -> None:
        self._raw = raw
        self._info = info
        self._max_skew_s = max_skew_s
        self._cursor = raw.cursor()

    def read(self, sql: str, params: tuple) -> Any:
        """One row (read only)."""
        return self._cursor.execute(sql, params, prepare=True).fetchone()

    def write(self, sql: str, params: tuple, now: float | None = None) -> Any:
        """One statement's row, committed durably before this returns (the session's
        ``synchronous_commit`` made ``on`` first when it is not known to be: as hall.db's hooks
        keep it, a round trip only when it was off). ``now``: sweep old nonces one time in
        ``SWEEP_ONE_IN`` (after, in its own statement, as nonce_book.record_one)."""
        if self._info.get(_SYNC_KEY) is not True:
            self._raw.execute(b"SET SESSION synchronous_commit TO ON")
            self._info[_SYNC_KEY] = True
        row = self._cursor.execute(sql, params, prepare=True).fetchone()
        if now is not None and random.random() * SWEEP_ONE_IN < 1:  # (no secret: which request sweeps)
            self._raw.execute(_SWEEP, (int(now) - self._max_skew_s - 1,), prepare=True)
        return row

    def move(self, _db: object, upload: uploads.UploadRow, new_offset: int, *, complete: bool,
             clock: Clock) -> None:
        """``uploads._move_offset`` in one statement: the compare and set, which also reads the
        offset when it lost; durable."""
        now = to_datetime(clock())
        moved, current = self.write(_MOVE, (new_offset, complete, complete, now, upload.id, upload.device_id,
                                            upload.offset, upload.id))
        if moved != 1:
            if current is None:
                raise NotFound("no such upload for this device", code="upload_not_found")
            raise Conflict(f"hall offset is {current}, chunk starts at {upload.offset}",
                           code="offset_mismatch")
        upload.offset, upload.complete, upload.verified = new_offset, complete, complete
        upload.updated_at = now
