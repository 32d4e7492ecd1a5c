"""Applications taken on paper during an outage, entered with `kiosk submit FILE.json`.

The file names the service item, the applicant, the form's values and the scanned
pages. It becomes a session exactly like one the screens build, so the same
validation and the same sealing apply; only the identity is typed in instead of read
from a card (``Session.identity_source = "paper"``).

    {"service": CODE, "applicant": {"name", "id_number", "phone", "address"?},
     "fields": {...}, "attachments": [{"material": ID, "path": FILE}, ...]}

Attachment paths are relative to the JSON file.
"""

from __future__ import annotations

import json
import mimetypes
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hardware.interfaces import CARD_HK_MACAU_TAIWAN, CARD_RESIDENT, IdCard
from kiosk.catalog import Catalog, ServiceItem
from kiosk.errors import ApplicationInvalid, KioskError
from kiosk.idnumber import validate_id_number
from kiosk.session import Page, Session


class PaperFileError(KioskError):
    """The paper application file cannot be read; ``str()`` names what is wrong (no personal data)."""

    message_key = "kiosk.paper_file_invalid"


@dataclass(frozen=True)
class _Attachment:
    material: str
    path: Path


def _require(obj: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise PaperFileError(f"{where}: missing '{key}'")
    value = obj[key]
    if not isinstance(value, kind):
        raise PaperFileError(f"{where}.{key}: must be {kind.__name__}")
    return value


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PaperFileError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PaperFileError(f"{path}: cannot be read") from exc
    except json.JSONDecodeError as exc:
        raise PaperFileError(f"{path}: not valid JSON (line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise PaperFileError(f"{path}: must hold a JSON object")
    return data


def _identity(applicant: dict[str, Any]) -> IdCard:
    name = _require(applicant, "name", str, "applicant").strip()
    id_number = _require(applicant, "id_number", str, "applicant").strip().upper()
    if not name:
        raise ApplicationInvalid({"name": "kiosk.field.required"})
    info = validate_id_number(id_number)  # InvalidIdNumber names no digits
    card_type = CARD_HK_MACAU_TAIWAN if info.kind == "hk_macau_taiwan" else CARD_RESIDENT
    return IdCard(
        card_type=card_type,
        name=name,
        sex=info.sex,
        ethnicity=None,
        birth_date=info.birth_date,
        address=str(applicant.get("address", "")).strip(),
        id_number=id_number,
        issuer="",
        valid_from=info.birth_date,  # unknown on paper; omitted from the sealed document
        valid_to=None,
    )


def _attachments(data: dict[str, Any], base: Path) -> list[_Attachment]:
    raw = data.get("attachments", [])
    if not isinstance(raw, list):
        raise PaperFileError("attachments: must be a list")
    result = []
    for i, entry in enumerate(raw):
        material = _require(entry, "material", str, f"attachments[{i}]")
        path = Path(_require(entry, "path", str, f"attachments[{i}]"))
        result.append(_Attachment(material, path if path.is_absolute() else base / path))
    return result


def read_paper_application(path: Path, catalog: Catalog, clock=time.time) -> tuple[Session, ServiceItem]:
    """A filled session and its service item; raises a ``KioskError`` the CLI explains."""
    data = _load(path)
    item = catalog.get(_require(data, "service", str, "file"))  # UnknownService
    applicant = _require(data, "applicant", dict, "file")
    fields = data.get("fields", {})
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise PaperFileError("fields: must map field ids to text")

    session = Session(id=f"paper-{int(clock())}", started_at=clock())
    try:
        session.identity_source = "paper"
        session.card = _identity(applicant)
        session.service_code = item.code
        session.fields = {str(k): v for k, v in fields.items()}
        if isinstance(applicant.get("phone"), str):
            session.fields.setdefault("phone", applicant["phone"])
        for attachment in _attachments(data, path.parent):
            try:
                blob = attachment.path.read_bytes()
            except OSError as exc:
                raise PaperFileError(f"attachment for {attachment.material}: cannot read the file") from exc
            media_type = mimetypes.guess_type(attachment.path.name)[0] or "application/octet-stream"
            session.add_page(Page(attachment.material, blob, media_type))
    except BaseException:
        session.wipe()
        raise
    return session, item
