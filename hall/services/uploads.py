"""Resumable uploads of sealed attachments (tus-like offsets).

Bytes go to ``<data-dir>/uploads/<upload_id>`` while partial; when the offset reaches
the size the SHA-256 is checked and the file moves to ``<data-dir>/attachments/<sha256>``.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hall.core.config import Settings
from hall.errors import Conflict, InvalidRequest, NotFound, TooLarge, Unprocessable
from hall.models import Device, Upload
from hall.timeutil import Clock, system_clock, to_datetime
from offline_queue.blobs import fsync_dir

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


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
    sha256 = check_sha256(sha256)
    if size < 1:
        raise InvalidRequest("size must be at least 1")
    if size > settings.max_upload_bytes:
        raise TooLarge(f"size {size} exceeds the limit of {settings.max_upload_bytes} bytes")
    existing = _by_hash(db, device.id, sha256)
    if existing is not None:
        return existing, False
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
    upload = get_upload(db, device, upload_id, lock=True)
    if upload.complete:
        if offset == upload.size and not chunk:
            return upload
        raise Conflict(f"upload is complete at offset {upload.offset}", code="offset_mismatch")
    if offset != upload.offset:
        raise Conflict(f"hall offset is {upload.offset}, chunk starts at {offset}", code="offset_mismatch")
    if upload.offset + len(chunk) > upload.size:
        raise TooLarge("chunk goes past the declared size")
    partial = settings.uploads_dir / upload.id
    with open(partial, "r+b" if partial.exists() else "wb") as handle:
        handle.seek(upload.offset)
        handle.write(chunk)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())
    upload.offset += len(chunk)
    upload.updated_at = to_datetime(clock())
    if upload.offset == upload.size:
        if _file_sha256(partial) != upload.sha256:
            partial.unlink(missing_ok=True)
            upload.offset = 0
            db.commit()
            raise Unprocessable("SHA-256 of the received bytes does not match; start again",
                                code="hash_mismatch")
        final = attachment_path(settings, upload.sha256)
        if final.exists():
            partial.unlink()
        else:
            os.replace(partial, final)
            fsync_dir(final.parent)
        upload.complete = True
        upload.verified = True
    db.commit()
    return upload


def attachment_path(settings: Settings, sha256: str) -> Path:
    return settings.attachments_dir / check_sha256(sha256)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
