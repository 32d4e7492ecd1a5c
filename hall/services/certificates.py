"""E-certificates (电子证照): the county's store, the kiosks' lookup, and their use in applications.

**The store.** One row per certificate (table ``e_certificates``): its type (one of
``kiosk.catalog.E_CERTIFICATE_TYPES``, the same words the catalog's materials use), issuer,
number, validity, trust level and the holder. The holder is never kept by ID number:
``holder_key`` is HMAC-SHA256 of the ID number under the hall's own secret
(``<data-dir>/keys/holder.key``), so the table, a log line or a backup does not give up
who holds what, and the ID numbers cannot be tried offline without that file. The
document itself (an image or a PDF) is sealed to the hall's X25519 key like a kiosk's
attachment (context ``ecert:<reference>``) and kept in the hall's blob store (hall/storage/:
the data dir or an S3 bucket, like attachments and results) as ``certificates/<SHA-256>``.

**The lookup** (``POST /api/v1/certificates/lookup``, signed by the kiosk): the ID number
read from the card → the metadata a villager needs to agree (type, issuer, number
masked, validity) and an opaque reference — never the document. A device of another
county, a revoked device and a person with no certificate all get the same empty
answer. Each device has ``LOOKUPS_PER_DEVICE`` lookups a window (``ratelimit``) and each
lookup is written to the audit log with the holder's key prefix only.

**Use.** A sealed application names the references it uses (protocol 7:
``certificates: [{"reference", "type", "material"}]``); intake checks that each belongs to
the applicant of the sealed document and of the kiosk's county, and links it
(``application_certificates``). The console shows them; opening one is logged.

Sample data (no real people): ``config/e_certificates.toml``, loaded by
``county-hall certs load``.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import secrets
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.console.attachments import safe_attachment
from hall.core.config import Settings
from hall.core.secrets_store import read_or_create
from hall.errors import HallError, InvalidRequest, NotFound
from hall.models import ApplicationCertificate, Device, ECertificate
from hall.services import audit, ratelimit
from hall.storage import open_store
from hall.storage.local import LocalDiskStore
from hall.timeutil import Clock, system_clock, to_datetime
from kiosk.catalog import E_CERTIFICATE_NAMES, E_CERTIFICATE_TYPES
from offline_queue.sealing import open_box, seal

SAMPLE_FILE = Path(__file__).resolve().parents[2] / "config" / "e_certificates.toml"
MAX_DOCUMENT_BYTES = 3 * 1024 * 1024
TRUST_LEVELS = (1, 2, 3)  # 3: issued and signed by the authority; 2: verified copy; 1: declared
# A kiosk serves one villager every few minutes; a device asking far more often is scraping.
LOOKUPS_PER_DEVICE = ratelimit.Limit("ecert-device", max_hits=30, window_s=15 * 60)
REFERENCE_BYTES = 16


class LookupsExhausted(HallError):
    """The device asked too often: transient, the kiosk falls back to photographs."""

    status = 429
    code = "rate_limited"
    retry_after = 60


# -- the holder ------------------------------------------------------------------------------

def holder_secret(settings: Settings) -> bytes:
    return read_or_create(settings.keys_dir / "holder.key", lambda: os.urandom(32))


def holder_key(secret: bytes, id_number: str) -> str:
    """The holder's key in the store: HMAC of the normalised ID number (never stored itself)."""
    normalised = id_number.strip().upper()
    return hmac.new(secret, normalised.encode("ascii", "replace"), hashlib.sha256).hexdigest()


def mask_number(number: str) -> str:
    """Enough for the villager to recognise it, too little to copy: ``J44…0123``."""
    if len(number) <= 6:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


# -- the documents ---------------------------------------------------------------------------

LEGACY_FOLDER = "certificates"  # <data-dir>/certificates/, where halls before the store kept them


def certificate_key(box_sha256: str) -> str:
    """The sealed document's key in the hall's blob store (hall/storage/): local disk or S3."""
    return f"certificates/{box_sha256}"


def _context(reference: str) -> bytes:
    return b"ecert:" + reference.encode("ascii")


def _keep_sealed(settings: Settings, seal_key: X25519PrivateKey, reference: str, data: bytes) -> str:
    box = seal(data, seal_key.public_key().public_bytes_raw(), _context(reference))
    digest = hashlib.sha256(box).hexdigest()
    open_store(settings).put(certificate_key(digest), box)  # whole or absent, on either store
    return digest


def open_document(settings: Settings, seal_key: X25519PrivateKey, certificate: ECertificate) -> bytes:
    """The document, opened (``BlobNotFound`` 404 when the store lacks it)."""
    box = open_store(settings).get(certificate_key(certificate.box_sha256))
    return open_box(box, seal_key, _context(certificate.id))


def move_to_store(settings: Settings) -> tuple[int, int]:
    """``county-hall certs to-store``: put the documents an older hall kept in
    ``<data-dir>/certificates/`` into the configured store, each checked against its name
    (the SHA-256 of the box) and removed from the folder once the store holds it. On the
    local store they already are where its key points (the same path): nothing moves.
    Returns (moved, already in the store)."""
    store = open_store(settings)
    folder = settings.data_dir / LEGACY_FOLDER
    if isinstance(store, LocalDiskStore) and store.root.resolve() == settings.data_dir.resolve():
        return 0, sum(1 for _ in store.keys(LEGACY_FOLDER))
    moved = kept = 0
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not path.is_file() or len(path.name) != 64 or path.name.startswith("."):
            continue  # a temporary or foreign file: not a document
        box = path.read_bytes()
        if hashlib.sha256(box).hexdigest() != path.name:
            raise InvalidRequest(f"{path} does not match its name: left where it is")
        key = certificate_key(path.name)
        if store.exists(key):
            kept += 1
        else:
            store.put(key, box)
            moved += 1
        path.unlink()
    return moved, kept


# -- the store -------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewCertificate:
    id_number: str
    cert_type: str
    issuer: str
    number: str
    valid_from: date
    valid_to: date | None
    trust_level: int
    document: bytes


def add_certificate(db: Session, settings: Settings, seal_key: X25519PrivateKey, county: str,
                    new: NewCertificate, clock: Clock = system_clock) -> ECertificate:
    """Check, seal and store one certificate (the caller commits)."""
    if new.cert_type not in E_CERTIFICATE_TYPES:
        raise InvalidRequest(f"unknown certificate type {new.cert_type!r}")
    if new.trust_level not in TRUST_LEVELS:
        raise InvalidRequest("trust_level must be 1, 2 or 3")
    if not new.number.strip() or not new.issuer.strip():
        raise InvalidRequest("a certificate needs a number and an issuer")
    if new.valid_to is not None and new.valid_to < new.valid_from:
        raise InvalidRequest("valid_to is before valid_from")
    if not new.document or len(new.document) > MAX_DOCUMENT_BYTES:
        raise InvalidRequest("the document is empty or larger than 3 MiB")
    safe = safe_attachment(new.document)
    if safe.media_type == "application/octet-stream":
        raise InvalidRequest("the document must be a PDF or an image")
    reference = "ec-" + secrets.token_hex(REFERENCE_BYTES)
    digest = _keep_sealed(settings, seal_key, reference, safe.body)
    certificate = ECertificate(
        id=reference, holder_key=holder_key(holder_secret(settings), new.id_number), county=county,
        cert_type=new.cert_type, issuer=new.issuer.strip()[:200], number=new.number.strip()[:64],
        valid_from=new.valid_from, valid_to=new.valid_to, trust_level=new.trust_level,
        box_sha256=digest, size=len(safe.body), media_type=safe.media_type,
        created_at=to_datetime(clock()))
    db.add(certificate)
    return certificate


def sample_document(cert_type: str, number: str) -> bytes:
    """A plain picture standing in for a certificate's scan (sample data only)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 560), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((12, 12, 787, 547), outline=(160, 20, 20), width=8)
    lines = ("SAMPLE E-CERTIFICATE - NOT REAL", E_CERTIFICATE_NAMES[cert_type][1], f"No. {number}")
    for row, line in enumerate(lines):
        draw.text((60, 120 + row * 80), line, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _date(value: object, where: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise InvalidRequest(f"{where}: must be a date (YYYY-MM-DD)")


def load_file(db: Session, settings: Settings, seal_key: X25519PrivateKey, path: Path,
              clock: Clock = system_clock) -> int:
    """Load a certificates file (TOML, see config/e_certificates.toml); returns how many were added.

    Loading again adds nothing for a (holder, type, number) already in the store."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"{path.name}: not valid TOML ({exc})") from exc
    rows = data.get("certificates")
    if not isinstance(rows, list):
        raise InvalidRequest(f"{path.name}: needs [[certificates]] tables")
    secret = holder_secret(settings)
    added = 0
    for index, row in enumerate(rows):
        where = f"{path.name}: certificates[{index}]"
        try:
            new = NewCertificate(
                id_number=str(row["id_number"]), cert_type=str(row["type"]), issuer=str(row["issuer"]),
                number=str(row["number"]), valid_from=_date(row["valid_from"], where + ".valid_from"),
                valid_to=None if row.get("valid_to") is None else _date(row["valid_to"], where + ".valid_to"),
                trust_level=int(row.get("trust_level", 3)), document=b"")
        except KeyError as exc:
            raise InvalidRequest(f"{where}: missing {exc.args[0]}") from exc
        county = str(row.get("county") or settings.county)
        if db.scalar(select(ECertificate.id).where(
                ECertificate.holder_key == holder_key(secret, new.id_number),
                ECertificate.cert_type == new.cert_type, ECertificate.number == new.number)) is not None:
            continue
        document = (path.parent / row["document"]).read_bytes() if row.get("document") else \
            sample_document(new.cert_type, new.number)
        try:
            add_certificate(db, settings, seal_key, county, _with_document(new, document), clock)
        except InvalidRequest as exc:
            raise InvalidRequest(f"{where}: {exc.detail}") from exc
        added += 1
    db.commit()
    return added


def _with_document(new: NewCertificate, document: bytes) -> NewCertificate:
    return NewCertificate(new.id_number, new.cert_type, new.issuer, new.number, new.valid_from, new.valid_to,
                          new.trust_level, document)


# -- the kiosks' lookup ------------------------------------------------------------------------

def certificate_summary(certificate: ECertificate) -> dict:
    """What a kiosk may show the villager: no document, the number masked."""
    return {"reference": certificate.id, "type": certificate.cert_type, "issuer": certificate.issuer,
            "number_masked": mask_number(certificate.number),
            "valid_from": certificate.valid_from.isoformat(),
            "valid_to": certificate.valid_to.isoformat() if certificate.valid_to else "",
            "trust_level": certificate.trust_level}


def lookup(db: Session, settings: Settings, device: Device | None, id_number: str, types: list[str],
           clock: Clock = system_clock) -> dict:
    """The certificates of the card's holder a kiosk may offer; ``device`` None: a revoked one.

    One answer shape for every miss (revoked or other-county device, unknown person,
    expired certificates) so that a caller learns nothing from which it was."""
    now = clock()
    if device is None:
        return {"certificates": []}
    verdict = ratelimit.hit(db, LOOKUPS_PER_DEVICE, device.id, now)
    if not verdict.allowed:
        exhausted = LookupsExhausted("too many certificate lookups from this kiosk; photograph instead")
        exhausted.retry_after = verdict.retry_after_s
        raise exhausted
    key = holder_key(holder_secret(settings), id_number)
    today = to_datetime(now).date()
    query = select(ECertificate).where(ECertificate.holder_key == key, ECertificate.county == device.county)
    if types:
        query = query.where(ECertificate.cert_type.in_(types))
    found = [c for c in db.scalars(query.order_by(ECertificate.cert_type, ECertificate.id))
             if c.valid_from <= today and (c.valid_to is None or c.valid_to >= today)]
    audit.record(db, device.id, "certificate_lookup", device_id=device.id,
                 detail={"holder": key[:12], "types": sorted(types), "found": len(found)}, clock=clock)
    db.commit()
    return {"certificates": [certificate_summary(c) for c in found]}


# -- use in an application ---------------------------------------------------------------------

def link_to_application(db: Session, settings: Settings, device: Device, application_id: str,
                        applicant_id_number: str, references: list[dict]) -> list[ApplicationCertificate]:
    """Check each reference is the applicant's and of the device's county; add the links (caller commits).

    A reference that is not the applicant's is ``422 invalid_request`` (the same words for
    one that does not exist): the application is refused, never linked to a stranger's."""
    if not references:
        return []
    key = holder_key(holder_secret(settings), applicant_id_number) if applicant_id_number else ""
    links = []
    seen: set[str] = set()
    for item in references:
        reference = item["reference"]
        certificate = db.get(ECertificate, reference)
        if (certificate is None or not key or not hmac.compare_digest(certificate.holder_key, key)
                or certificate.county != device.county or certificate.cert_type != item["type"]):
            raise InvalidRequest("a certificate reference is not the applicant's")
        if reference in seen:
            continue
        seen.add(reference)
        link = ApplicationCertificate(application_id=application_id, certificate_id=reference,
                                      cert_type=certificate.cert_type, material=item.get("material") or "")
        db.add(link)
        links.append(link)
    return links


def certificates_of(db: Session, application_id: str) -> list[tuple[ApplicationCertificate, ECertificate]]:
    rows = db.execute(select(ApplicationCertificate, ECertificate)
                      .join(ECertificate, ECertificate.id == ApplicationCertificate.certificate_id)
                      .where(ApplicationCertificate.application_id == application_id)
                      .order_by(ApplicationCertificate.id))
    return [(link, certificate) for link, certificate in rows]


def certificate_of_application(db: Session, application_id: str, reference: str) -> ECertificate:
    """A certificate the application used (the console opens only these)."""
    for link, certificate in certificates_of(db, application_id):
        if link.certificate_id == reference:
            return certificate
    raise NotFound("no such certificate on this application", code="certificate_not_found")
