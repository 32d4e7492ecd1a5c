"""Resumable uploads of sealed attachments (tus-like offsets).

Bytes go to ``<data-dir>/uploads/<upload_id>`` while partial (always the hall's local
disk); when the offset reaches the size the SHA-256 is checked and the file goes to the
blob store as ``attachments/<sha256>`` (hall/storage/: on local disk that is a rename to
``<data-dir>/attachments/<sha256>``; on object storage an upload, then the partial goes).

Bounds, so that one device (or a stolen key) cannot fill the hall's disk:

* a quota per device on uploads it has not yet used in an application (unfinished, or
  finished but unclaimed): ``device_upload_bytes`` of declared size and
  ``device_upload_count`` uploads; over it, ``429 upload_quota`` with ``Retry-After``;
* a free-disk check before an upload is created and before each chunk is written: the
  hall keeps ``disk_reserve_bytes`` free and answers ``507 insufficient_storage`` with
  ``Retry-After`` instead of eating into it;
* ``cleanup_abandoned``: unfinished uploads untouched for ``upload_max_age_s`` are
  deleted with their partial file (run by the server every ``cleanup_interval_s`` and by
  ``county-hall cleanup-uploads``).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, delete, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from hall.core.config import Settings
from hall.db import sqlite_begin
from hall.errors import Conflict, HallError, InvalidRequest, NotFound, TooLarge, Unprocessable
from hall.models import ApplicationAttachment, Device, Upload
from hall.storage import BlobNotFound, open_store
from hall.timeutil import Clock, system_clock, to_datetime

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# How an offset moves (``_move_offset``'s signature): ``(db, upload, new_offset, complete=, clock=)``.
Mover = Callable[..., None]
_U = TypeVar("_U", "Upload", "UploadRow")


class QuotaExceeded(HallError):
    """The device holds too many unused uploads: transient, they go when it posts them."""

    status = 429
    code = "upload_quota"
    retry_after = 60


class InsufficientStorage(HallError):
    """The hall's disk is down to its reserve: transient for the kiosk, an alarm for IT."""

    status = 507
    code = "insufficient_storage"
    retry_after = 300


def check_disk(settings: Settings, incoming: int) -> None:
    """Refuse ``incoming`` more bytes when they would leave less than the reserve free."""
    free = shutil.disk_usage(settings.uploads_dir).free
    if free - incoming < settings.disk_reserve_bytes:
        raise InsufficientStorage("the hall is short of disk space; try again later")


def _unclaimed(device_id: str):
    """Uploads of this device that no application uses yet."""
    claimed = exists().where(ApplicationAttachment.upload_id == Upload.id)
    return and_(Upload.device_id == device_id, ~claimed)


def check_quota(db: Session | Connection, settings: Settings, device: Device, size: int) -> None:
    count, total = db.execute(
        select(func.count(Upload.id), func.coalesce(func.sum(Upload.size), 0)).where(_unclaimed(device.id))
    ).one()
    check_quota_counts(settings, count, total, size)


def check_quota_counts(settings: Settings, count: int, total: int, size: int) -> None:
    if count + 1 > settings.device_upload_count or total + size > settings.device_upload_bytes:
        raise QuotaExceeded(
            f"this device holds {count} unused uploads ({total} bytes); "
            f"the limit is {settings.device_upload_count} uploads and {settings.device_upload_bytes} bytes")


def check_sha256(value: str) -> str:
    value = value.lower()
    if not _SHA256.match(value):
        raise InvalidRequest("sha256 must be 64 hex characters")
    return value


def upload_json(upload: Upload) -> dict:
    return {"upload_id": upload.id, "offset": upload.offset, "size": upload.size,
            "complete": upload.complete}


def create_upload(db: Session, settings: Settings, device: Device, sha256: str, size: int,
                  clock: Clock = system_clock) -> tuple[Upload, bool]:
    """The upload for this device and hash, and whether it was created just now."""
    sha256 = check_declared(settings, sha256, size)
    existing = _by_hash(db, device.id, sha256)
    if existing is not None:
        return existing, False
    check_quota(db, settings, device, size)
    check_disk(settings, size)
    now = to_datetime(clock())
    upload = Upload(id=f"up-{secrets.token_hex(12)}", device_id=device.id, sha256=sha256, size=size,
                    offset=0, complete=False, verified=False, created_at=now, updated_at=now)
    db.add(upload)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        existing = _by_hash(db, device.id, sha256)
        if existing is None:
            raise
        return existing, False
    return upload, True


def check_declared(settings: Settings, sha256: str, size: int) -> str:
    sha256 = check_sha256(sha256)
    if size < 1:
        raise InvalidRequest("size must be at least 1")
    if size > settings.max_upload_bytes:
        raise TooLarge(f"size {size} exceeds the limit of {settings.max_upload_bytes} bytes")
    return sha256


def _by_hash(db: Session, device_id: str, sha256: str) -> Upload | None:
    return db.scalar(select(Upload).where(Upload.device_id == device_id, Upload.sha256 == sha256))


def get_upload(db: Session, device: Device, upload_id: str, lock: bool = False) -> Upload:
    query = select(Upload).where(Upload.id == upload_id, Upload.device_id == device.id)
    if lock:
        query = query.with_for_update()
    upload = db.scalar(query)
    if upload is None:
        raise NotFound("no such upload for this device", code="upload_not_found")
    return upload


def append_chunk(db: Session, settings: Settings, device: Device, upload_id: str, offset: int,
                 chunk: bytes, clock: Clock = system_clock) -> Upload:
    """Write ``chunk`` at ``offset``; the last one is checked against the SHA-256 and stored.

    The slow part (the chunk written and fsynced, the hash, the blob stored: three trips to
    the disk, or the network for object storage) runs BEFORE the write transaction, which
    then only moves the offset on if nobody moved it meanwhile (compare and set) and commits.
    SQLite has one write lock for every hall process; held across those trips it was the
    uploads' stalls under the load mix with two workers (issue 9, "Load"). A duplicate of
    a chunk in flight writes the same bytes at the same place and then loses the compare
    and set (409, as before); bytes that are not the kiosk's fail the SHA-256 at the end.
    """
    with sqlite_begin("DEFERRED"):  # a read: no write lock while the disk works
        upload = get_upload(db, device, upload_id)
    db.expunge(upload)  # the answer's copy (before the rollback expires it); the row changes below
    db.rollback()
    return append_read(db, settings, upload, offset, chunk, clock)


def append_read(db: Any, settings: Settings, upload: _U, offset: int, chunk: bytes,
                 clock: Clock, move: Mover | None = None) -> _U:
    """``append_chunk`` once the upload is read (detached; no transaction open). ``move``: how the
    offset moves (default ``_move_offset`` on ``db``; the fast path's PostgreSQL statements)."""
    move = move or _move_offset
    if upload.complete:
        if offset == upload.size and not chunk:
            return upload
        raise Conflict(f"upload is complete at offset {upload.offset}", code="offset_mismatch")
    if offset != upload.offset:
        raise Conflict(f"hall offset is {upload.offset}, chunk starts at {offset}", code="offset_mismatch")
    if upload.offset + len(chunk) > upload.size:
        raise TooLarge("chunk goes past the declared size")
    new_offset, complete = _write_chunk(db, settings, upload, chunk, clock, move)
    move(db, upload, new_offset, complete=complete, clock=clock)
    return upload


def _write_chunk(db: Any, settings: Settings, upload: Upload | UploadRow,
                 chunk: bytes, clock: Clock, move: Mover | None = None) -> tuple[int, bool]:
    """The chunk written at the upload's offset and fsynced (the one fsync of a chunk that does
    not complete its upload); the last one's SHA-256 checked and the file handed to the blob
    store. No transaction is open meanwhile. The offset it reaches and whether it completes."""
    partial = _write_at(settings, upload, chunk)
    new_offset = upload.offset + len(chunk)
    complete = new_offset == upload.size
    if complete:
        # An upload in one chunk (the kiosk's usual attachment) is these bytes: hashed here, not
        # read back from the file just written.
        whole = hashlib.sha256(chunk).hexdigest() if upload.offset == 0 else _file_sha256(partial)
        if whole != upload.sha256:
            (move or _move_offset)(db, upload, 0, complete=False, clock=clock)  # start again, from nothing
            partial.unlink(missing_ok=True)
            raise _hash_mismatch()
        _store_whole(settings, upload.sha256, partial)
    return new_offset, complete


def _write_at(settings: Settings, upload: Upload | UploadRow, chunk: bytes) -> Path:
    """``chunk`` written at the upload's offset of its partial file and fsynced; the file."""
    check_disk(settings, len(chunk))
    partial = settings.uploads_dir / upload.id
    with open(partial, "r+b" if partial.exists() else "wb") as handle:
        handle.seek(upload.offset)
        handle.write(chunk)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())
    return partial


def _store_whole(settings: Settings, sha256: str, partial: Path) -> None:
    """A complete, hash-checked partial file handed to the blob store under its hash."""
    # Content-addressed: storing it before the row says complete is harmless should that
    # write lose or never come (the bytes under this key are these bytes whoever sent them).
    store, key = open_store(settings), attachment_key(sha256)
    if store.exists(key):
        partial.unlink()
    else:
        store.adopt(key, partial)  # StorageUnavailable: nothing committed, the kiosk sends it again


def _hash_mismatch() -> Unprocessable:
    return Unprocessable("SHA-256 of the received bytes does not match; start again", code="hash_mismatch")


def _move_offset(db: Session | Connection, upload: Upload | UploadRow, new_offset: int, *, complete: bool,
                 clock: Clock) -> None:
    """Move the upload from the offset read to ``new_offset`` in one short write transaction,
    or raise ``Conflict`` (409 offset_mismatch: another request moved it) or ``NotFound``
    (cleaned up meanwhile). Updates the detached ``upload`` for the answer."""
    now = to_datetime(clock())
    with sqlite_begin("IMMEDIATE"):
        moved = db.execute(_MOVE, {"upload_id": upload.id, "owner": upload.device_id,
                                   "from_offset": upload.offset, "to_offset": new_offset,
                                   "to_complete": complete, "at": now}).rowcount
        if moved != 1:
            current = db.scalar(_OFFSET_OF, {"upload_id": upload.id})
            db.commit()  # nothing written here; what the caller's transaction holds (a nonce) stays
            if current is None:
                raise NotFound("no such upload for this device", code="upload_not_found")
            raise Conflict(f"hall offset is {current}, chunk starts at {upload.offset}",
                           code="offset_mismatch")
        db.commit()
    upload.offset, upload.complete, upload.verified, upload.updated_at = new_offset, complete, complete, now


# -- the same on one connection, for the upload's fast path (hall/api/upload_fast_path.py) ------
# Core statements built once (building one per call cost more than running it), rows read into
# plain ``UploadRow``s: no session, no ORM loading or instrumented attributes.
_UPLOADS = Upload.__table__
_MOVE = (update(_UPLOADS)
         .where(_UPLOADS.c.id == bindparam("upload_id"), _UPLOADS.c.device_id == bindparam("owner"),
                _UPLOADS.c.received_bytes == bindparam("from_offset"), _UPLOADS.c.complete.is_(False))
         .values(received_bytes=bindparam("to_offset"), complete=bindparam("to_complete"),
                 verified=bindparam("to_complete"), updated_at=bindparam("at")))
_OFFSET_OF = select(_UPLOADS.c.received_bytes).where(_UPLOADS.c.id == bindparam("upload_id"))
_COLUMNS = (_UPLOADS.c.id, _UPLOADS.c.device_id, _UPLOADS.c.sha256, _UPLOADS.c.size,
            _UPLOADS.c.received_bytes, _UPLOADS.c.complete, _UPLOADS.c.verified, _UPLOADS.c.created_at,
            _UPLOADS.c.updated_at)
_BY_HASH = select(*_COLUMNS).where(_UPLOADS.c.device_id == bindparam("device_id"),
                                   _UPLOADS.c.sha256 == bindparam("sha256"))
_BY_ID = select(*_COLUMNS).where(_UPLOADS.c.id == bindparam("upload_id"),
                                 _UPLOADS.c.device_id == bindparam("device_id"))


def _insert_new(dialect: ModuleType) -> Insert:
    return (dialect.insert(_UPLOADS)
            .on_conflict_do_nothing(index_elements=[_UPLOADS.c.device_id, _UPLOADS.c.sha256])
            .returning(_UPLOADS.c.id))


_INSERT = {"postgresql": _insert_new(postgresql), "sqlite": _insert_new(sqlite)}
# The upload of this hash (if any) and the device's unused uploads (the quota), in one read.
_ATTACHMENTS = ApplicationAttachment.__table__
_UNUSED = (select(func.count(_UPLOADS.c.id).label("unused_count"),
                  func.coalesce(func.sum(_UPLOADS.c.size), 0).label("unused_bytes"))
           .where(_UPLOADS.c.device_id == bindparam("device_id"),
                  ~exists().where(_ATTACHMENTS.c.upload_id == _UPLOADS.c.id))
           .subquery("unused"))
_BY_HASH_AND_UNUSED = (select(*_COLUMNS, _UNUSED.c.unused_count, _UNUSED.c.unused_bytes)
                       .select_from(_UNUSED.outerjoin(_UPLOADS, and_(
                           _UPLOADS.c.device_id == bindparam("device_id"),
                           _UPLOADS.c.sha256 == bindparam("sha256")))))


@dataclass(slots=True)
class UploadRow:
    """An upload as read by the fast path: the ``Upload`` attributes its code reads."""

    id: str
    device_id: str
    sha256: str
    size: int
    offset: int
    complete: bool
    verified: bool
    created_at: datetime
    updated_at: datetime


def _detached(row) -> UploadRow:
    return UploadRow(row.id, row.device_id, row.sha256, row.size, row.received_bytes, row.complete,
                     row.verified, row.created_at, row.updated_at)


def create_on(connection: Connection, settings: Settings, device: Device, sha256: str, size: int,
              clock: Clock = system_clock) -> tuple[UploadRow, bool]:
    """``create_upload`` in the caller's transaction on ``connection`` (which commits it): the
    same checks and answers. A twin created meanwhile by another request is found, not an
    error (``ON CONFLICT DO NOTHING``, then read)."""
    sha256 = check_declared(settings, sha256, size)
    found = connection.execute(_BY_HASH_AND_UNUSED, {"device_id": device.id, "sha256": sha256}).one()
    if found.id is not None:
        return _detached(found), False
    check_quota_counts(settings, found.unused_count, found.unused_bytes, size)
    check_disk(settings, size)
    upload = new_upload_row(device.id, sha256, size, clock)
    row = insert_on(connection, upload)
    if row is None:  # deleted again at once: as the route, an error rather than a guess
        raise Conflict("the upload changed meanwhile; try again", code="offset_mismatch")
    return row, row is upload


def read_on(connection: Connection, device: Device, upload_id: str) -> UploadRow:
    """``get_upload`` on ``connection``, detached."""
    row = connection.execute(_BY_ID, {"upload_id": upload_id, "device_id": device.id}).first()
    if row is None:
        raise NotFound("no such upload for this device", code="upload_not_found")
    return _detached(row)


def chunk_on(connection: Connection, settings: Settings, upload: UploadRow, offset: int, chunk: bytes,
             clock: Clock = system_clock) -> UploadRow:
    """``append_chunk`` for an upload read by ``read_on`` in a transaction now ended: the disk
    work with no transaction open, then the compare and set in its own short one."""
    return append_read(connection, settings, upload, offset, chunk, clock)


def chunk_offset(settings: Settings, content_type: str, offset_text: str, size: int) -> int:
    """A chunk request's offset, or raise: the checks of its headers and size (after the
    signature's: a forged request learns nothing)."""
    if content_type.split(";")[0].strip().lower() != "application/offset+octet-stream":
        raise InvalidRequest("Content-Type must be application/offset+octet-stream")
    # ASCII digits only: str.isdigit() also takes "²" or "٣", which int() then refuses.
    if not (offset_text.isascii() and offset_text.isdigit()) or len(offset_text) > 18:
        raise InvalidRequest("Upload-Offset header must be a non-negative integer")
    if size > settings.max_chunk_bytes:
        raise TooLarge(f"chunk larger than {settings.max_chunk_bytes} bytes")
    return int(offset_text)

# -- a create that carries the first bytes (tus "creation with upload"; docs/protocol.md 6.1) ---
# ``POST /uploads`` with this Content-Type: the create's fields in headers, the body the box's
# first bytes. The hash header is not tus's ``Upload-Checksum`` (that one is the checksum of the
# request's own body, in base64, checked per request); this is the whole box's SHA-256 in hex, the
# upload's identity, as the JSON create's ``sha256``.
FIRST_BYTES_TYPE = "application/offset+octet-stream"
HEADER_UPLOAD_LENGTH = "Upload-Length"
HEADER_UPLOAD_SHA256 = "Upload-Sha256"


@dataclass(frozen=True, slots=True)
class FirstBytes:
    """A create with its first bytes, its headers checked."""

    sha256: str
    size: int
    body: bytes

    @property
    def whole(self) -> bool:
        return len(self.body) == self.size


def carries_first_bytes(content_type: str) -> bool:
    """Whether a ``POST /uploads`` of this Content-Type is a create with its first bytes."""
    return content_type.split(";")[0].strip().lower() == FIRST_BYTES_TYPE


def first_bytes(settings: Settings, sha256_text: str, length_text: str, body: bytes) -> FirstBytes:
    """The create's checks (hash format, size limits) and the chunk's (size) on a create with its
    first bytes, or raise as the JSON create and the chunk raise for the same faults. After the
    signature's: a forged request learns nothing."""
    if not (length_text.isascii() and length_text.isdigit()) or len(length_text) > 18:
        raise InvalidRequest("Upload-Length header must be a non-negative integer")
    size = int(length_text)
    sha256 = check_declared(settings, sha256_text, size)
    if not body:
        raise InvalidRequest("the body must carry the upload's first bytes (at least one)")
    if len(body) > settings.max_chunk_bytes:
        raise TooLarge(f"chunk larger than {settings.max_chunk_bytes} bytes")
    if len(body) > size:
        raise TooLarge("chunk goes past the declared size")
    return FirstBytes(sha256, size, body)


def new_upload_row(device_id: str, sha256: str, size: int, clock: Clock) -> UploadRow:
    """A new upload's row before its insert: a fresh id, offset 0 (a create with its first bytes
    moves it in ``write_first``)."""
    now = to_datetime(clock())
    return UploadRow(f"up-{secrets.token_hex(12)}", device_id, sha256, size, 0, False, False, now, now)


def write_first(settings: Settings, upload: UploadRow, first: FirstBytes) -> None:
    """The first bytes of a new upload made durable BEFORE its row exists, with no transaction
    open: written at offset 0 of its partial file and fsynced; the whole box hash-checked (before
    anything is written: a mismatch leaves nothing) and handed to the blob store. ``upload`` is
    moved to the offset reached, for the row's insert. A crash before the insert leaves a partial
    file no row names, which ``cleanup_abandoned`` removes as a stray, or a content-addressed
    attachment (as a chunk's store before its compare and set); never a row without its bytes."""
    if first.whole and hashlib.sha256(first.body).hexdigest() != first.sha256:
        raise _hash_mismatch()
    partial = _write_at(settings, upload, first.body)
    if first.whole:
        _store_whole(settings, first.sha256, partial)
    upload.offset = len(first.body)
    upload.complete = upload.verified = first.whole


def forget_first(settings: Settings, upload: UploadRow) -> None:
    """The partial file of a create whose row was not inserted (a twin won, a replay): no row
    will ever name it. (A whole box went to the store, content-addressed: it stays.)"""
    if not upload.complete:
        (settings.uploads_dir / upload.id).unlink(missing_ok=True)


def create_with_first(db: Session, settings: Settings, device: Device, first: FirstBytes,
                      clock: Clock = system_clock) -> tuple[Upload | UploadRow, bool]:
    """``create_upload`` with the first bytes (the route's; the fast path has its own statements):
    an upload of this hash that exists is answered as it stands (the bytes ignored); otherwise
    the quota, the disk, the bytes made durable with no transaction open, then the row with its
    offset in one durable commit. A twin created meanwhile is found, not an error."""
    device_id = device.id  # (read before the rollback expires the session's objects)
    existing = _by_hash(db, device_id, first.sha256)
    if existing is not None:
        return existing, False
    check_quota(db, settings, device, first.size)
    check_disk(settings, first.size)
    db.rollback()  # the reads end: SQLite's write lock is not held across the disk work
    upload = new_upload_row(device_id, first.sha256, first.size, clock)
    write_first(settings, upload, first)
    db.add(Upload(id=upload.id, device_id=device_id, sha256=upload.sha256, size=upload.size,
                  offset=upload.offset, complete=upload.complete, verified=upload.verified,
                  created_at=upload.created_at, updated_at=upload.updated_at))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        forget_first(settings, upload)
        existing = _by_hash(db, device_id, first.sha256)
        if existing is None:
            raise
        return existing, False
    return upload, True


def first_read_on(connection: Connection, settings: Settings, device: Device,
                  first: FirstBytes) -> UploadRow | None:
    """The fast path's ``create_with_first`` before the disk work, on ``connection`` in the
    caller's transaction: the upload of this hash (answered as it stands), or None once the quota
    and the disk allow a new one."""
    found = connection.execute(_BY_HASH_AND_UNUSED, {"device_id": device.id, "sha256": first.sha256}).one()
    if found.id is not None:
        return _detached(found)
    check_quota_counts(settings, found.unused_count, found.unused_bytes, first.size)
    check_disk(settings, first.size)
    return None


def insert_on(connection: Connection, upload: UploadRow) -> UploadRow | None:
    """The new row as ``upload`` holds it, or — a twin of that hash created meanwhile by another
    request (``ON CONFLICT DO NOTHING``) — the twin; None when that went again at once."""
    inserted = connection.execute(_INSERT[connection.dialect.name], {
        "id": upload.id, "device_id": upload.device_id, "sha256": upload.sha256, "size": upload.size,
        "received_bytes": upload.offset, "complete": upload.complete, "verified": upload.verified,
        "created_at": upload.created_at, "updated_at": upload.updated_at}).first()
    if inserted is not None:
        return upload
    existing = connection.execute(_BY_HASH, {"device_id": upload.device_id, "sha256": upload.sha256}).first()
    return None if existing is None else _detached(existing)


def attachment_key(sha256: str) -> str:
    return f"attachments/{check_sha256(sha256)}"


def attachment_stored(settings: Settings, sha256: str) -> bool:
    return open_store(settings).exists(attachment_key(sha256))


def read_attachment(settings: Settings, sha256: str) -> bytes:
    """The sealed attachment's bytes (NotFound when the store has lost it)."""
    try:
        return open_store(settings).get(attachment_key(sha256))
    except BlobNotFound as exc:
        raise NotFound("the attachment's file is missing from the store",
                       code="attachment_not_found") from exc


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Cleanup:
    uploads: int  # unfinished uploads deleted (row and partial file)
    stray_files: int  # files in uploads/ with no upload row, older than the age limit
    bytes_freed: int


def cleanup_abandoned(db: Session, settings: Settings, clock: Clock = system_clock) -> Cleanup:
    """Delete unfinished uploads untouched for ``settings.upload_max_age_s``.

    Each row is deleted on its own, re-checking age and state in the DELETE, so a chunk
    that lands meanwhile (it updates ``updated_at`` under the row's lock) keeps its upload.
    """
    now = clock()
    cutoff = to_datetime(now) - timedelta(seconds=settings.upload_max_age_s)
    stale = list(db.scalars(select(Upload.id).where(Upload.complete.is_(False), Upload.updated_at < cutoff)))
    db.rollback()
    deleted = freed = 0
    for upload_id in stale:
        result = db.execute(delete(Upload).where(
            Upload.id == upload_id, Upload.complete.is_(False), Upload.updated_at < cutoff))
        db.commit()
        if result.rowcount != 1:
            continue
        deleted += 1
        freed += _unlink(settings.uploads_dir / upload_id)
    stray = 0
    known = set(db.scalars(select(Upload.id).where(Upload.complete.is_(False))))
    db.rollback()
    for path in settings.uploads_dir.iterdir():
        if path.name in known or not path.is_file():
            continue
        if path.stat().st_mtime < time.time() - settings.upload_max_age_s:
            stray += 1
            freed += _unlink(path)
    return Cleanup(uploads=deleted, stray_files=stray, bytes_freed=freed)


def _unlink(path: Path) -> int:
    try:
        size = path.stat().st_size
        path.unlink()
    except FileNotFoundError:
        return 0
    return size
