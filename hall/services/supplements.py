"""Supplements: the kiosk's answer to a correction, joined to the same application.

A supplement carries new pages for the materials the correction named, sealed like an
application (the document with the supplement's id as context, the pages with the
application's id, so the console opens them as it opens the first pages), and is posted
with ``Idempotency-Key`` = its id: a repeat returns the first answer, and never joins
twice. Only the device that sent the application may supplement it (another gets 404,
as if the application did not exist), only while it is ``correction_needed``, and only
with materials the correction named. On success the application becomes
``supplemented`` (recorded in its history as done by the kiosk) and the clerk's page
marks the pages that came with it.
"""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hall.core.config import Settings
from hall.errors import Conflict, InvalidRequest, NotFound, Unprocessable
from hall.models import Application, ApplicationAttachment, Device, StatusChange, Supplement
from hall.services.applications import (
    Intake,
    check_own_id,
    created_at_of,
    idempotency_key,
    open_sealed_document,
    repeat_of,
    verified_uploads,
)
from hall.services.status import change_materials, change_status
from hall.timeutil import Clock, iso, system_clock, to_datetime


def named_materials(db: Session, app_id: str) -> list[str]:
    """The materials the latest correction named ([] when it named none: any then)."""
    change = db.scalar(select(StatusChange).where(StatusChange.application_id == app_id,
                                                  StatusChange.status == "correction_needed")
                       .order_by(StatusChange.id.desc()).limit(1))
    return change_materials(change) if change is not None else []


def submit_supplement(db: Session, settings: Settings, seal_key: X25519PrivateKey, device: Device,
                      app_id: str, idempotency_key_header: str, payload: dict, digest: str,
                      clock: Clock = system_clock) -> Intake:
    key = idempotency_key(idempotency_key_header)
    application = db.get(Application, app_id)
    if application is None or application.device_id != device.id:
        raise NotFound(f"no application {app_id}", code="application_not_found")
    repeat = repeat_of(db, Supplement, device, key, digest)
    if repeat is not None:
        return repeat
    supplement_id = payload["id"]
    check_own_id(supplement_id, key, "supplement")
    if db.get(Supplement, supplement_id) is not None or db.get(Application, supplement_id) is not None:
        raise Unprocessable("supplement id already used", code="idempotency_conflict")
    if application.status != "correction_needed":
        raise Conflict(f"the application is {application.status}, not waiting for a correction",
                       code="not_correction_needed")
    created_at = created_at_of(payload)
    named = named_materials(db, app_id)
    if not payload["attachments"]:
        raise InvalidRequest("a supplement brings at least one page")
    uploads = verified_uploads(db, settings, device, payload["attachments"], materials=named)
    sealed, _document = open_sealed_document(payload["sealed_document"], seal_key, supplement_id)

    now = to_datetime(clock())
    response = {"id": supplement_id, "application_id": app_id,
                "official_number": application.official_number, "status": "supplemented"}
    db.add(Supplement(id=supplement_id, application_id=app_id, device_id=device.id, idempotency_key=key,
                      request_hash=digest, sealed_document=sealed, created_at=created_at, received_at=now,
                      response_json=json.dumps(response, sort_keys=True)))
    db.flush()
    for item, upload in uploads:
        db.add(ApplicationAttachment(application_id=app_id, upload_id=upload.id, sha256=upload.sha256,
                                     size=upload.size, material=item.get("material") or "",
                                     pages=item.get("pages") or 1, supplement_id=supplement_id))
    application.page_count += sum(int(item.get("pages") or 1) for item, _ in uploads)
    try:
        change_status(db, app_id, "supplemented", actor=f"kiosk:{device.id}", clock=clock, by_clerk=False)
    except IntegrityError:
        db.rollback()  # a concurrent twin won the race: answer as a repeat
        repeat = repeat_of(db, Supplement, device, key, digest)
        if repeat is None:
            raise
        return repeat
    return Intake(201, response)


def supplements_of(db: Session, app_id: str) -> list[Supplement]:
    return list(db.scalars(select(Supplement).where(Supplement.application_id == app_id)
                           .order_by(Supplement.received_at)))


def supplement_json(supplement: Supplement) -> dict:
    return {"id": supplement.id, "application_id": supplement.application_id,
            "received_at": iso(supplement.received_at)}
