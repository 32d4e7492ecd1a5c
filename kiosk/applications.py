"""From a session to a validated application, ready for the offline queue to seal.

* ``prefill_fields(item, card)`` fills the fields whose ``source`` names an ID-card value.
* ``validate_fields(item, values)`` returns field id → message key (empty when valid).
* ``build_application(session, …)`` checks everything and returns a frozen
  ``Application``, or raises ``ApplicationInvalid(errors)``.

Materials rule (first version): every *required* material needs at least one page,
except the resident ID card itself (``Material.covered_by_card``), which the card read
hands in. Optional materials may have pages or not. ``ServiceItem.capture_materials()``
lists the materials that need a page; the shipped catalog has exactly one, listed first,
so the kiosk flow photographs one page of the first required material. A page for a
material the item does not list is refused.

Each page becomes one ``PlainAttachment`` (``pages`` = 1), in the order taken. The
``document`` is the sealed application document of docs/protocol.md; its
``attachments`` list is index-aligned with ``Application.attachments`` and carries
``material``, ``pages`` and ``media_type``; the offline queue adds each ``sha256`` once
it has sealed the attachment, then seals the document. The villager's signature
(``Visit.signature``, a small PNG) is one more attachment, last: material ``signature``,
``image/png``, ``pages`` = 0; the consent they agreed to is ``document["consent"]``.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hardware.interfaces import CARD_RESIDENT, IdCard
from kiosk.catalog import FormField, ServiceItem, Text
from kiosk.certificates import covered_materials, references
from kiosk.errors import ApplicationInvalid
from kiosk.fields import (  # noqa: F401  (the message keys are part of this module's interface)
    CHOICE_INVALID,
    DATE_INVALID,
    FIELD_KINDS,
    ID_NUMBER_INVALID,
    NUMBER_INVALID,
    PHONE_INVALID,
    TOO_LONG,
)
from kiosk.privacy import applicant_tag
from kiosk.result_proof import result_proof
from kiosk.visit import FROM_TYPED_NUMBER, Visit

CHINA_TIME = timezone(timedelta(hours=8), "CST")  # provisional numbers use the local date

REQUIRED = "kiosk.field.required"
MATERIAL_MISSING = "kiosk.material.missing"
MATERIAL_UNKNOWN = "kiosk.material.unknown"
CARD_MISSING = "kiosk.card.missing"
SERVICE_MISMATCH = "kiosk.service.mismatch"

# A field without a catalog ``max_length`` still has one: a typed or pasted value must not
# grow the sealed document without bound (issue 9: a 10-million-character name was queued).
DEFAULT_MAX_LENGTH = 200
# The applicant's own texts in the sealed document (name, address, English name …): far more
# than any card holds, so a card read never meets it; a paper identity (`kiosk submit`) may.
IDENTITY_MAX_LENGTH = 200

_PHONE = FormField("phone", Text("联系电话", "Phone number"), "phone", required=False)


@dataclass(frozen=True, repr=False)
class PlainAttachment:
    """One page of a material, not yet sealed."""

    material: str
    data: bytes
    media_type: str
    pages: int = 1

    def __repr__(self) -> str:
        return f"PlainAttachment(material={self.material!r}, {len(self.data)} bytes, {self.media_type})"


@dataclass(frozen=True, repr=False)
class Application:
    """A validated application. ``document`` and ``attachments`` hold personal data."""

    id: str
    provisional_number: str
    service_code: str
    county: str
    created_at: str
    visits_needed: int
    applicant_tag: str
    document: dict[str, Any] = field(compare=False)
    attachments: tuple[PlainAttachment, ...] = field(compare=False)

    @property
    def page_count(self) -> int:
        return sum(a.pages for a in self.attachments)

    def __repr__(self) -> str:
        return (f"Application(id={self.id!r}, provisional_number={self.provisional_number!r}, "
                f"service_code={self.service_code!r}, pages={self.page_count})")


# --- fields ------------------------------------------------------------------------------


def _card_value(card: IdCard, source: str) -> str | None:
    if source == "card.name":
        return card.name
    if source == "card.id_number":
        return card.id_number
    if source == "card.address":
        return card.address
    if source == "card.birth_date":
        return card.birth_date.isoformat()
    if source == "card.sex":
        return card.sex if card.sex in ("male", "female") else None
    return None


def prefill_fields(item: ServiceItem, card: IdCard) -> dict[str, str]:
    """Values for the item's fields that the card fills (field id → text)."""
    values: dict[str, str] = {}
    for f in item.fields:
        if f.source is None:
            continue
        value = _card_value(card, f.source)
        if value is None or (f.kind == "choice" and value not in f.choice_values()):
            continue
        if f.max_length is not None:
            value = value[: f.max_length]
        values[f.id] = value
    return values


def field_error(f: FormField, value: str) -> str | None:
    """The message key of what is wrong with ``value`` (stripped, not empty) for ``f``; None when right."""
    problem = FIELD_KINDS[f.kind].check(value, f)
    # A field without a catalog limit still has one (DEFAULT_MAX_LENGTH, issue 9).
    limit = f.max_length if f.max_length is not None else DEFAULT_MAX_LENGTH
    if problem is None and len(value) > limit:
        problem = TOO_LONG
    return problem


def validate_fields(item: ServiceItem, values: Mapping[str, str]) -> dict[str, str]:
    """Field id → message key for every field that is wrong; empty when all are right.

    A blank optional field is fine; values for ids the item does not have are ignored.
    """
    errors: dict[str, str] = {}
    for f in item.fields:
        raw = values.get(f.id)
        value = raw.strip() if isinstance(raw, str) else ""
        if not value:
            if f.required:
                errors[f.id] = REQUIRED
            continue
        problem = field_error(f, value)
        if problem:
            errors[f.id] = problem
    return errors


def validate_identity(item: ServiceItem, card: IdCard, values: Mapping[str, str]) -> dict[str, str]:
    """Errors in what the sealed document's applicant block takes from the card, uncut.

    ``prefill_fields`` cuts a card value to its field's length for the form; the applicant
    block carries the card's own values, so they are checked here whole: a card-sourced
    field's limit applies to its card value, every other text to ``IDENTITY_MAX_LENGTH``, and
    a phone number given without a phone field is still checked as one.
    """
    errors: dict[str, str] = {}
    for f in item.fields:
        value = _card_value(card, f.source) if f.source else None
        if value is not None and len(value) > (f.max_length or DEFAULT_MAX_LENGTH):
            errors[f.id] = TOO_LONG
    for name in ("name", "address", "english_name", "ethnicity", "issuer", "permit_number", "nationality"):
        text = getattr(card, name, None)
        if isinstance(text, str) and len(text) > IDENTITY_MAX_LENGTH:
            errors.setdefault(f"applicant.{name}", TOO_LONG)
    phone = values.get("phone", "")
    if phone and not any(f.id == "phone" for f in item.fields):
        problem = TOO_LONG if len(phone) > DEFAULT_MAX_LENGTH else field_error(_PHONE, phone)
        if problem:
            errors["phone"] = problem
    return errors


# --- the application ---------------------------------------------------------------------


def device_short(device_id: str) -> str:
    """Four characters naming the kiosk in provisional numbers (``kiosk-3f9a1c2e`` → ``3F9A``)."""
    text = re.sub(r"[^0-9A-Za-z]", "", device_id)
    if text.lower().startswith("kiosk") and len(text) > 5:
        text = text[5:]
    return text[:4].upper().rjust(4, "0")


def provisional_number(device_id: str, sequence: int, now: float, random_digits: str | None = None) -> str:
    """``K<device>-<YYYYMMDD, China time>-<sequence, 4 digits or more>-<8 random digits>``.

    The receipt number: the hall's tracking page finds the application by it, so the
    random part keeps anyone from walking a kiosk's day by its sequence."""
    if sequence < 0:
        raise ValueError("sequence must not be negative")
    if random_digits is None:
        random_digits = "".join(str(secrets.randbelow(10)) for _ in range(8))
    if not (len(random_digits) == 8 and random_digits.isdigit()):
        raise ValueError("random_digits must be eight digits")
    day = datetime.fromtimestamp(now, CHINA_TIME).strftime("%Y%m%d")
    return f"K{device_short(device_id)}-{day}-{sequence:04d}-{random_digits}"


def iso_utc(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _applicant(card: IdCard, values: Mapping[str, str], source: str) -> dict[str, Any]:
    applicant = {
        "name": card.name,
        "id_number": card.id_number.upper(),
        "sex": card.sex,
        "birth_date": card.birth_date.isoformat(),
        "address": card.address,
        "phone": values.get("phone", ""),
        "ethnicity": card.ethnicity,
        "card_type": card.card_type,
        "issuer": card.issuer,
        "valid_from": card.valid_from.isoformat(),
        "valid_to": card.valid_to.isoformat() if card.valid_to else None,
        "permit_number": card.permit_number,
        "english_name": card.english_name,
        "nationality": card.nationality,
        "photo": base64.b64encode(card.photo).decode("ascii") if card.photo else None,
        "identity_source": source,
    }
    if source != "card":  # nothing was read from a card: its issuer and validity are unknown
        for key in ("issuer", "valid_from", "valid_to"):
            applicant[key] = None
    return applicant


def typed_identity(item: ServiceItem, id_number: str, fields: Mapping[str, str]) -> IdCard:
    """The applicant of a visit whose card would not read: the ID number typed on the identify
    screen (already checked there), the name and address written on the form's card fields,
    sex and birth date from the number. Issuer and validity are unknown (``_applicant`` leaves
    them out for any source but the card)."""
    from kiosk.idnumber import validate_id_number

    def written(source: str) -> str:
        return next((str(fields.get(f.id, "")).strip() for f in item.fields if f.source == source), "")

    info = validate_id_number(id_number)
    return IdCard(card_type=CARD_RESIDENT, name=written("card.name"), sex=info.sex, ethnicity=None,
                  birth_date=info.birth_date, address=written("card.address"), id_number=id_number,
                  issuer="", valid_from=info.birth_date, valid_to=None)


def build_application(
    session: Visit,
    item: ServiceItem,
    *,
    device_id: str,
    county: str,
    sequence: int,
    tag_key_dir: Path,
    clock: Callable[[], float] = time.time,
) -> Application:
    """The validated application for ``session`` and ``item``; raises ``ApplicationInvalid``.

    ``tag_key_dir`` is the data directory holding ``tag.key`` (see ``privacy.applicant_tag``).
    Form values are ``session.fields`` with the card-sourced fields taken from the card.
    """
    errors: dict[str, str] = {}
    card, source = session.card, session.identity_source
    if card is None and session.typed_id_number:
        card, source = typed_identity(item, session.typed_id_number, session.fields), FROM_TYPED_NUMBER
    if card is None:
        raise ApplicationInvalid({"card": CARD_MISSING})
    if session.service_code is not None and session.service_code != item.code:
        raise ApplicationInvalid({"service_code": SERVICE_MISMATCH})

    values = {k: v.strip() for k, v in session.fields.items() if isinstance(v, str)}
    values.update(prefill_fields(item, card))
    errors.update(validate_fields(item, values))
    errors.update(validate_identity(item, card, values))

    known = {m.id for m in item.materials}
    for page in session.pages:
        if page.material_id not in known:
            errors[page.material_id] = MATERIAL_UNKNOWN
    covered = covered_materials(item, session.certificates)
    for material in item.capture_materials():
        if material.id not in covered and not session.pages_for(material.id):
            errors[material.id] = MATERIAL_MISSING
    if errors:
        raise ApplicationInvalid(errors)

    now = clock()
    app_id = str(uuid.uuid4())
    number = provisional_number(device_id, sequence, now)
    created_at = iso_utc(now)
    attachments = tuple(
        PlainAttachment(material=p.material_id, data=bytes(p.data), media_type=p.media_type, pages=1)
        for p in session.pages
    )
    signature = session.signature
    if signature is not None:  # sealed like a page; not a page of a material (pages = 0)
        attachments += (PlainAttachment(material=signature.material_id, data=bytes(signature.data),
                                        media_type=signature.media_type, pages=0),)
    document = {
        "id": app_id,
        "provisional_number": number,
        "service_code": item.code,
        "county": county,
        "applicant": _applicant(card, values, source),
        "fields": {f.id: values[f.id] for f in item.fields if values.get(f.id)},
        "attachments": [
            {"material": a.material, "pages": a.pages, "media_type": a.media_type} for a in attachments
        ],
        "visits_needed": item.visits_needed,
        "created_at": created_at,
        "kiosk": device_id,
    }
    used = references(item, session.certificates)
    if used:  # e-certificates the villager agreed to use: references only, the hall holds the documents
        document["certificates"] = used
    if session.consent_text:  # the words the villager agreed to before signing
        document["consent"] = {"agreed": True, "text": session.consent_text}
    tag = applicant_tag(card.id_number, tag_key_dir)
    document["result_proof"] = result_proof(tag, app_id)  # the villager at a kiosk asks for the result
    agent = session.agent
    if agent:  # a grid worker applied on the villager's behalf (代办)
        document["agent"] = {"worker_id": str(agent["worker_id"]), "county": str(agent["county"])}
    return Application(
        id=app_id,
        provisional_number=number,
        service_code=item.code,
        county=county,
        created_at=created_at,
        visits_needed=item.visits_needed,
        applicant_tag=tag,
        document=document,
        attachments=attachments,
    )
