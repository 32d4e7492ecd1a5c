"""Diagnostics a kiosk uploads (the ``upload_diagnostics`` command): stored as the sealed box
it arrived in, opened with the hall's seal key only when county staff look at one. The box
goes to the blob store (hall/storage/) as ``diagnostics/<device id>/<sha256>``, not into the
database: 512 KiB × 10 per kiosk × tens of thousands of kiosks is no load for a database.
Rows from before that (migration 0007) still hold their box in the ``box`` column.

The box is sealed on the kiosk to the hall's X25519 key with the context
``diagnostics:<device id>`` (``DIAGNOSTICS_CONTEXT``), so a box cannot be passed off as
another kiosk's. What is inside was masked on the kiosk (``kiosk.agent.diagnostics``); the
hall keeps only the newest ``Settings.diagnostics_kept`` per kiosk.
"""

from __future__ import annotations

import hashlib
import json
import zlib

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hall.core.config import Settings
from hall.errors import InvalidRequest, NotFound, TooLarge
from hall.models import Device, DiagnosticsUpload
from hall.storage import BlobNotFound, open_store
from hall.timeutil import Clock, iso, system_clock, to_datetime
from kiosk.agent.documents import diagnostics_context
from offline_queue.sealing import MAGIC, SealError, open_box

MAX_OPENED_BYTES = 16 * 1024 * 1024


def store(db: Session, settings: Settings, device: Device, box: bytes, command_id: str = "",
          clock: Clock = system_clock) -> DiagnosticsUpload:
    if len(box) > settings.max_diagnostics_bytes:
        raise TooLarge(f"diagnostics larger than {settings.max_diagnostics_bytes} bytes")
    if not box.startswith(MAGIC):
        raise InvalidRequest("diagnostics are not a sealed box", code="not_sealed")
    digest = hashlib.sha256(box).hexdigest()
    store = open_store(settings)
    store.put(_key(device.id, digest), box)  # before the row: a row never names a missing blob
    row = DiagnosticsUpload(device_id=device.id, command_id=command_id[:36], received_at=to_datetime(clock()),
                            size=len(box), sha256=digest, box=None)
    db.add(row)
    db.flush()
    cutoff = db.scalar(select(DiagnosticsUpload.id).where(DiagnosticsUpload.device_id == device.id)
                       .order_by(DiagnosticsUpload.id.desc()).offset(settings.diagnostics_kept).limit(1))
    dropped: set[str] = set()
    if cutoff is not None:
        old = DiagnosticsUpload.device_id == device.id, DiagnosticsUpload.id <= cutoff
        dropped = set(db.scalars(select(DiagnosticsUpload.sha256).where(*old)))
        db.execute(delete(DiagnosticsUpload).where(*old))
    db.commit()
    kept = set(db.scalars(select(DiagnosticsUpload.sha256).where(DiagnosticsUpload.device_id == device.id)))
    db.rollback()
    for sha256 in dropped - kept:  # the same box sent twice is one blob: keep it while a row names it
        store.delete(_key(device.id, sha256))
    return row


def _key(device_id: str, sha256: str) -> str:
    return f"diagnostics/{device_id}/{sha256}"


def list_for(db: Session, device_id: str) -> list[DiagnosticsUpload]:
    return list(db.scalars(select(DiagnosticsUpload).where(DiagnosticsUpload.device_id == device_id)
                           .order_by(DiagnosticsUpload.id.desc())))


def summary_json(row: DiagnosticsUpload) -> dict:
    return {"id": row.id, "device_id": row.device_id, "command_id": row.command_id,
            "received_at": iso(row.received_at), "size": row.size, "sha256": row.sha256}


def open_upload(db: Session, settings: Settings, seal_key: X25519PrivateKey, device_id: str,
                upload_id: int) -> dict:
    """The diagnostics inside one box (raises NotFound for another kiosk's id or a box that does not open)."""
    row = db.get(DiagnosticsUpload, upload_id)
    if row is None or row.device_id != device_id:
        raise NotFound(f"no diagnostics {upload_id} for {device_id}", code="diagnostics_not_found")
    try:
        box = row.box if row.box is not None else open_store(settings).get(_key(device_id, row.sha256))
    except BlobNotFound as exc:
        raise NotFound("these diagnostics are missing from the store", code="diagnostics_unreadable") from exc
    try:
        return dict(json.loads(_gunzip(open_box(box, seal_key, diagnostics_context(device_id)))))
    except (SealError, ValueError, TypeError, zlib.error) as exc:
        raise NotFound("these diagnostics do not open with the hall's key",
                       code="diagnostics_unreadable") from exc


def _gunzip(data: bytes) -> bytes:
    """Bounded: what a kiosk sends is hostile, and a small box may inflate to gigabytes."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = inflater.decompress(data, MAX_OPENED_BYTES)
    if inflater.unconsumed_tail:
        raise ValueError("diagnostics inflate past the bound")
    return out
