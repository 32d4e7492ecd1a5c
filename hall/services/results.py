"""Results of completed applications (a decision letter as PDF, an image of a certificate).

The clerk's file is checked from its bytes (PDF or a raster image, which is re-encoded,
as the console does for kiosk attachments), sealed to the hall's own X25519 key with the
application id as context — so a copy of the data folder (or of the bucket) alone reads
nothing — and kept in the blob store as ``results/<SHA-256 of the box>`` (on local disk:
``<data-dir>/results/…``).

Beside it, the pages the kiosks print and show (issue 12 part 2): a PDF is rendered once,
here, to grey PNG pages (``result_pages.render_pdf``: bounded, in a child process; a file it
refuses is refused with the clerk's message and nothing is kept), each sealed the same way
and kept as ``results/<SHA-256 of the original's box>.p<N>``; an image is its own page 0.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.console.attachments import safe_attachment
from hall.core.config import Settings
from hall.errors import InvalidRequest, NotFound
from hall.models import Application, ApplicationResult
from hall.services.result_pages import render_pdf
from hall.storage import BlobNotFound, open_store
from hall.timeutil import Clock, system_clock, to_datetime
from offline_queue.sealing import open_box, seal

MAX_RESULT_BYTES = 3 * 1024 * 1024


def result_key(box_sha256: str) -> str:
    return f"results/{box_sha256}"


def page_key(box_sha256: str, page: int) -> str:
    return f"results/{box_sha256}.p{page}"


def _context(app_id: str) -> bytes:
    return b"result:" + app_id.encode("ascii")


def store_result(db: Session, settings: Settings, seal_key: X25519PrivateKey, application: Application,
                 data: bytes, actor: str, clock: Clock = system_clock) -> ApplicationResult:
    """Check, seal and keep a result (the caller commits with the status change)."""
    if not data:
        raise InvalidRequest("the result file is empty")
    if len(data) > MAX_RESULT_BYTES:
        raise InvalidRequest(f"the result file is larger than {MAX_RESULT_BYTES // (1024 * 1024)} MiB")
    safe = safe_attachment(data)
    if safe.media_type == "application/octet-stream":
        raise InvalidRequest("the result must be a PDF or an image")
    # Rendered before anything is kept: a PDF the renderer refuses leaves no blob behind.
    pages = render_pdf(safe.body) if safe.media_type == "application/pdf" else []
    public = seal_key.public_key().public_bytes_raw()
    box = seal(safe.body, public, _context(application.id))
    digest = hashlib.sha256(box).hexdigest()
    store = open_store(settings)
    store.put(result_key(digest), box)
    for number, png in enumerate(pages):
        store.put(page_key(digest, number), seal(png, public, _context(application.id)))
    result = ApplicationResult(application_id=application.id, box_sha256=digest, size=len(safe.body),
                               media_type=safe.media_type, created_at=to_datetime(clock()),
                               created_by=actor[:100], pages=len(pages) if pages else 1)
    db.add(result)
    return result


def results_of(db: Session, app_id: str) -> list[ApplicationResult]:
    return list(db.scalars(select(ApplicationResult).where(ApplicationResult.application_id == app_id)
                           .order_by(ApplicationResult.id)))


def open_result(db: Session, settings: Settings, seal_key: X25519PrivateKey, application: Application,
                result_id: int) -> tuple[ApplicationResult, bytes]:
    result = db.get(ApplicationResult, result_id)
    if result is None or result.application_id != application.id:
        raise NotFound("no such result on this application", code="result_not_found")
    try:
        box = open_store(settings).get(result_key(result.box_sha256))
    except BlobNotFound as exc:
        raise NotFound("the result's file is missing from the store", code="result_not_found") from exc
    return result, open_box(box, seal_key, _context(application.id))


def open_result_page(db: Session, settings: Settings, seal_key: X25519PrivateKey, application: Application,
                     result_id: int, page: int) -> tuple[ApplicationResult, str, bytes]:
    """Page ``page`` of a result as (result, media type, bytes): a PDF's rendered PNG page,
    or an image result itself as its page 0."""
    result = db.get(ApplicationResult, result_id)
    if result is None or result.application_id != application.id or not 0 <= page < result.pages:
        raise NotFound("no such page of this result", code="result_not_found")
    if result.media_type != "application/pdf":
        _, data = open_result(db, settings, seal_key, application, result_id)
        return result, result.media_type, data
    try:
        box = open_store(settings).get(page_key(result.box_sha256, page))
    except BlobNotFound as exc:
        raise NotFound("the result's page is missing from the store", code="result_not_found") from exc
    return result, "image/png", open_box(box, seal_key, _context(application.id))
