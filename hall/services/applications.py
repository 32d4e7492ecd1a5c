"""Intake of applications, exactly once, and reading them back for the console and CLI."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from hall.core.config import Settings
from hall.errors import Conflict, InvalidRequest, NotFound, Unprocessable
from hall.models import Application, ApplicationAttachment, Device, StatusChange, Supplement, Upload
from hall.services import figures_summary
from hall.services.certificates import link_to_application
from hall.services.numbering import check_provisional
from hall.services.uploads import attachment_stored, check_sha256, read_attachment
from hall.timeutil import Clock, iso, parse_iso, system_clock, to_datetime
from offline_queue.sealing import SealError, open_box


@dataclass(frozen=True)
class Intake:
    status: int  # 201 first receipt, 200 repeat
    body: dict


def request_hash(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# -- what every exactly-once intake checks (applications here, supplements in supplements.py) --


def idempotency_key(header: str) -> str:
    key = header.strip()
    if not key or len(key) > 64:
        raise InvalidRequest("Idempotency-Key header is required")
    return key


def repeat_of(db: Session, model: type[Application] | type[Supplement], device: Device, key: str,
              digest: str) -> Intake | None:
    """The first answer when this kiosk sent this key before with the same body (None: a new one)."""
    existing = db.scalar(select(model).where(model.device_id == device.id, model.idempotency_key == key))
    if existing is None:
        return None
    if existing.request_hash != digest:
        raise Unprocessable("this Idempotency-Key was used with a different body",
                            code="idempotency_conflict")
    return Intake(200, json.loads(existing.response_json))


def check_own_id(record_id: str, key: str, what: str) -> None:
    """The id the kiosk chose is a UUID and the request's Idempotency-Key."""
    try:
        if str(uuid.UUID(record_id)) != record_id.lower():
            raise ValueError(record_id)
    except ValueError as exc:
        raise InvalidRequest("id must be a UUID") from exc
    if key.lower() != record_id.lower():
        raise InvalidRequest(f"Idempotency-Key must equal the {what} id")


def created_at_of(payload: dict) -> datetime:
    try:
        return parse_iso(payload["created_at"])
    except ValueError as exc:
        raise InvalidRequest("created_at is not an ISO 8601 time") from exc


def submit(db: Session, settings: Settings, seal_key: X25519PrivateKey, device: Device,
           idempotency_key_header: str, payload: dict, digest: str, clock: Clock = system_clock) -> Intake:
    """``payload`` is the validated body (api/schemas.py), ``digest`` ``request_hash`` of the raw one."""
    key = idempotency_key(idempotency_key_header)
    repeat = repeat_of(db, Application, device, key, digest)
    if repeat is not None:
        return repeat
    app_id = payload["id"]
    check_own_id(app_id, key, "application")
    check_provisional(payload["provisional_number"], device.id)  # its own, never an official one
    if db.get(Application, app_id) is not None:
        raise Unprocessable("application id already used by another device", code="idempotency_conflict")
    created_at = created_at_of(payload)

    uploads = verified_uploads(db, settings, device, payload["attachments"])
    sealed, document = open_sealed_document(payload["sealed_document"], seal_key, app_id)

    now = to_datetime(clock())
    # The hall confirms the kiosk's receipt number (checked above: this kiosk's own, and
    # unguessable); the official number comes when a clerk accepts it (services/status.py).
    response = {"id": app_id, "provisional_number": payload["provisional_number"], "status": "submitted"}
    application = Application(
        id=app_id, device_id=device.id, idempotency_key=key, request_hash=digest,
        provisional_number=payload["provisional_number"], official_number=None,
        service_code=payload["service_code"], county=device.county, created_at=created_at,
        received_at=now, page_count=payload["page_count"], visits_needed=payload["visits_needed"],
        status="submitted", reason="", sealed_document=sealed,
        response_json=json.dumps(response, sort_keys=True), updated_at=now,
    )
    db.add(application)
    link_to_application(db, settings, device, app_id, _applicant_id_number(document),
                        certificate_references(document))
    for item, upload in uploads:
        db.add(ApplicationAttachment(
            application_id=app_id, upload_id=upload.id, sha256=upload.sha256, size=upload.size,
            material=item.get("material") or "", pages=item.get("pages") or 1,
        ))
    try:
        figures_summary.count_received(db, application)  # flushes: a twin's IntegrityError lands here too
        db.commit()
    except IntegrityError:
        db.rollback()  # a concurrent twin won the race: answer as a repeat
        repeat = repeat_of(db, Application, device, key, digest)
        if repeat is None:
            raise
        return repeat
    return Intake(201, response)


def certificate_references(document: dict) -> list[dict]:
    """The e-certificates the sealed document names (``certificates``: reference, type, material)."""
    items = document.get("certificates") or []

    def well_formed(item: object) -> bool:
        return (isinstance(item, dict) and bool(item.get("reference"))
                and all(isinstance(item.get(k, ""), str) for k in ("reference", "type", "material")))

    if not isinstance(items, list) or len(items) > 20 or not all(well_formed(i) for i in items):
        raise InvalidRequest("the sealed document's certificates are malformed")
    return items


def _applicant_id_number(document: dict) -> str:
    applicant = document.get("applicant")
    number = applicant.get("id_number") if isinstance(applicant, dict) else None
    return number if isinstance(number, str) else ""


def verified_uploads(db: Session, settings: Settings, device: Device, items: list[dict],
                     materials: list[str] | None = None) -> list[tuple[dict, Upload]]:
    """Each attachment item with its upload: complete, verified, on disk and of the stated size,
    from this device; with ``materials``, only items of those materials (a supplement's)."""
    uploads: list[tuple[dict, Upload]] = []
    for item in items:
        if materials and item.get("material") not in materials:
            raise InvalidRequest(f"material {item.get('material')!r} was not asked for")
        sha256 = check_sha256(item["sha256"])
        upload = db.scalar(select(Upload).where(Upload.device_id == device.id, Upload.sha256 == sha256))
        if (upload is None or not upload.complete or not upload.verified
                or not attachment_stored(settings, sha256)):
            raise Conflict(sha256, code="missing_attachment")
        if upload.size != item["size"]:
            raise InvalidRequest(f"attachment {sha256} size {item['size']} differs from upload {upload.size}")
        uploads.append((item, upload))
    return uploads


def open_sealed_document(sealed_b64: str, seal_key: X25519PrivateKey, context: str) -> tuple[bytes, dict]:
    """The sealed box and the JSON object in it (``context``: the application's or supplement's id)."""
    try:
        sealed = base64.b64decode(sealed_b64, validate=True)
        document = json.loads(open_box(sealed, seal_key, context.encode("ascii")))
        if not isinstance(document, dict):
            raise ValueError("document is not a JSON object")
    except (binascii.Error, ValueError, SealError) as exc:
        raise Unprocessable("the sealed document does not open with the hall's key",
                            code="unreadable_document") from exc
    return sealed, document


def list_applications(db: Session, limit: int | None = None) -> list[Application]:
    query = (select(Application).options(selectinload(Application.attachments)
                                         .selectinload(ApplicationAttachment.upload))
             .order_by(Application.received_at.desc(), Application.id))
    if limit:
        query = query.limit(limit)
    return list(db.scalars(query))


def get_application(db: Session, app_id: str) -> Application:
    application = db.get(Application, app_id)
    if application is None:
        raise NotFound(f"no application {app_id}", code="application_not_found")
    return application


def application_json(application: Application) -> dict:
    return {
        "id": application.id, "idempotency_key": application.idempotency_key,
        "provisional_number": application.provisional_number,
        "official_number": application.official_number, "service_code": application.service_code,
        "status": application.status, "reason": application.reason,
        "device_id": application.device_id, "county": application.county,
        "created_at": iso(application.created_at), "received_at": iso(application.received_at),
        "page_count": application.page_count, "visits_needed": application.visits_needed,
        "attachments": [
            {"sha256": a.sha256, "size": a.size, "verified": bool(a.upload and a.upload.verified),
             "material": a.material, "pages": a.pages}
            for a in application.attachments
        ],
    }


def open_document(application: Application, seal_key: X25519PrivateKey) -> dict:
    """Decrypt the sealed document on demand (console only; never logged)."""
    return json.loads(open_box(application.sealed_document, seal_key, application.id.encode("ascii")))


def open_attachment(settings: Settings, application: Application, sha256: str,
                    seal_key: X25519PrivateKey) -> bytes:
    if not any(a.sha256 == sha256 for a in application.attachments):
        raise NotFound("no such attachment on this application", code="attachment_not_found")
    box = read_attachment(settings, sha256)
    return open_box(box, seal_key, application.id.encode("ascii"))


def history(db: Session, app_id: str) -> list[StatusChange]:
    return list(db.scalars(select(StatusChange).where(StatusChange.application_id == app_id)
                           .order_by(StatusChange.id)))
