"""Applications taken on paper during an outage, entered with `kiosk submit FILE.json`.

The file names the service item, the applicant, the form's values and the scanned
pages. It becomes a session exactly like one the screens build, so the same
validation and the same sealing apply (``kiosk.intake.enqueue_session``, which the
confirm button uses too); only the identity is typed in instead of read from a card
(``Visit.identity_source = "paper"``).

    {"service": CODE, "applicant": {"name", "id_number", "phone"?, "address"?},
     "fields": {...}, "attachments": [{"material": ID, "path": FILE}, ...]}

The file is hostile until proven otherwise (issue 9, finding 10: it read
``../../etc/shadow``, grew ``/dev/zero`` to 17 GB and queued a 10-million-character
name). So, before anything is sealed:

* the file itself: a regular file, at most ``MAX_FILE_BYTES``, read with a bounded read;
  strict UTF-8 JSON with no duplicate keys, no NaN/Infinity, integers of at most 20
  digits, nesting at most ``MAX_DEPTH``, text without control characters or unpaired
  surrogates; only the keys above;
* attachment paths: relative, inside the JSON file's folder once every symlink is
  resolved (no ``..``, no absolute path, no link pointing out), a regular file of at
  most ``MAX_PAGE_BYTES``, at most ``MAX_PAGES`` of them;
* each page a JPEG, PNG or WebP picture that decodes whole within ``hardware.images``'
  pixel limit (the header is read first); its media type comes from its content, never
  from its name, so a ``.html`` or ``.svg`` cannot pass as a page.

Every refusal is a ``PaperFileError`` whose message names what is wrong and never the
applicant's data (the CLI prints it on one line and exits 2).
"""

from __future__ import annotations

import json
import math
import os
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from hardware import images
from hardware.errors import ImageUnreadable
from hardware.interfaces import CARD_HK_MACAU_TAIWAN, CARD_RESIDENT, IdCard
from kiosk.catalog import Catalog, ServiceItem
from kiosk.errors import ApplicationInvalid, KioskError
from kiosk.idnumber import validate_id_number
from kiosk.visit import Page, Visit

MAX_FILE_BYTES = 1024 * 1024  # text only: pages are files beside it
MAX_DEPTH = 6  # the format needs 3 (file → attachments → entry)
MAX_INT_DIGITS = 20
MAX_PAGES = 50
MAX_PAGE_BYTES = 16 * 1024 * 1024  # a camera page is a few hundred KB
PAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp")  # what the kiosk's own pages are

_TOP_KEYS = frozenset({"service", "applicant", "fields", "attachments"})
_APPLICANT_KEYS = frozenset({"name", "id_number", "phone", "address"})
_ATTACHMENT_KEYS = frozenset({"material", "path"})


class PaperFileError(KioskError):
    """The paper application file cannot be used; ``str()`` names what is wrong (no personal data)."""

    message_key = "kiosk.paper_file_invalid"


@dataclass(frozen=True)
class _Attachment:
    material: str
    path: str  # as written in the file, relative to its folder


# --- the JSON file ------------------------------------------------------------------------


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise PaperFileError(f"a number with more than {MAX_INT_DIGITS} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise PaperFileError("a number out of range")
    return value


def _constant(name: str) -> Any:
    raise PaperFileError(f"{name} is not a JSON value")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise PaperFileError(f"the key '{_shown(key)}' appears twice")
        result[key] = value
    return result


def _shown(key: str) -> str:
    """A key (never a value) as it may appear in a message: short and printable."""
    text = "".join(c if c.isprintable() else "?" for c in key[:40])
    return text + ("…" if len(key) > 40 else "")


def _check_tree(value: Any, where: str = "file", depth: int = 0) -> None:
    """Depth, and text that can be sealed: no unpaired surrogate, no control character."""
    if depth > MAX_DEPTH:
        raise PaperFileError(f"{where}: nested too deeply")
    if isinstance(value, str):
        _check_text(value, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where)
            _check_tree(item, f"{where}.{_shown(key)}", depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_tree(item, f"{where}[{i}]", depth + 1)


def _check_text(text: str, where: str) -> None:
    for char in text:
        if char in "\t\n":
            continue
        category = unicodedata.category(char)
        if category == "Cs":
            raise PaperFileError(f"{where}: text with a broken character (unpaired surrogate)")
        if category == "Cc":
            raise PaperFileError(f"{where}: text with a control character")


def _load(path: Path) -> dict[str, Any]:
    try:
        raw = images.read_bounded(path, MAX_FILE_BYTES)
    except ImageUnreadable as exc:  # the bounded reader's refusals are not about pictures here
        raise PaperFileError(f"the file: {exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PaperFileError("the file: not UTF-8 text") from exc
    try:
        data = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant,
                          object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise PaperFileError(f"the file: not valid JSON (line {exc.lineno})") from exc
    except RecursionError as exc:
        raise PaperFileError("the file: nested too deeply") from exc
    except ValueError as exc:  # e.g. a number Python will not convert
        raise PaperFileError(f"the file: not valid JSON ({type(exc).__name__})") from exc
    if not isinstance(data, dict):
        raise PaperFileError("the file: must hold a JSON object")
    _check_tree(data)
    return data


def _require(obj: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise PaperFileError(f"{where}: missing '{key}'")
    value = obj[key]
    if not isinstance(value, kind):
        raise PaperFileError(f"{where}.{key}: must be {_KIND_NAMES.get(kind, kind.__name__)}")
    return value


_KIND_NAMES: dict[type, str] = {str: "text", dict: "an object", list: "a list"}


def _only(obj: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        allowed_keys = ", ".join(sorted(allowed))
        raise PaperFileError(f"{where}: unknown key '{_shown(unknown[0])}' (allowed: {allowed_keys})")


# --- the parts ----------------------------------------------------------------------------


def _identity(applicant: dict[str, Any]) -> IdCard:
    _only(applicant, _APPLICANT_KEYS, "applicant")
    name = _require(applicant, "name", str, "applicant").strip()
    id_number = _require(applicant, "id_number", str, "applicant").strip().upper()
    address = _require(applicant, "address", str, "applicant").strip() if "address" in applicant else ""
    if not name:
        raise ApplicationInvalid({"name": "kiosk.field.required"})
    if len(id_number) > 18:  # before the checker sees it; the message names no digits
        raise ApplicationInvalid({"id_number": "kiosk.field.id_number_invalid"})
    info = validate_id_number(id_number)  # InvalidIdNumber names no digits
    card_type = CARD_HK_MACAU_TAIWAN if info.kind == "hk_macau_taiwan" else CARD_RESIDENT
    return IdCard(
        card_type=card_type,
        name=name,
        sex=info.sex,
        ethnicity=None,
        birth_date=info.birth_date,
        address=address,
        id_number=id_number,
        issuer="",
        valid_from=info.birth_date,  # unknown on paper; omitted from the sealed document
        valid_to=None,
    )


def _attachments(data: dict[str, Any]) -> list[_Attachment]:
    raw = data.get("attachments", [])
    if not isinstance(raw, list):
        raise PaperFileError("attachments: must be a list")
    if len(raw) > MAX_PAGES:
        raise PaperFileError(f"attachments: {len(raw)} pages, at most {MAX_PAGES}")
    result = []
    for i, entry in enumerate(raw):
        where = f"attachments[{i}]"
        if not isinstance(entry, dict):
            raise PaperFileError(f"{where}: must be an object with 'material' and 'path'")
        _only(entry, _ATTACHMENT_KEYS, where)
        material, written = _require(entry, "material", str, where), _require(entry, "path", str, where)
        result.append(_Attachment(material, written))
    return result


def confined_path(folder: Path, written: str, where: str) -> Path:
    """``written`` as a real path inside ``folder``, or ``PaperFileError``.

    Refused: empty, absolute (POSIX or Windows style), any ``..`` part, a NUL, and any
    path that leaves ``folder`` once symlinks are resolved. The file must exist.
    """
    if not written or "\0" in written:
        raise PaperFileError(f"{where}: an empty or malformed path")
    for flavour in (PurePosixPath(written), PureWindowsPath(written)):
        if flavour.is_absolute() or flavour.anchor or ".." in flavour.parts:
            raise PaperFileError(f"{where}: the path must be relative to the file's folder, without '..'")
    root = folder.resolve()
    try:
        real = (root / written).resolve(strict=True)
    except FileNotFoundError as exc:
        raise PaperFileError(f"{where}: no such file beside the application file") from exc
    except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long …
        raise PaperFileError(f"{where}: the path cannot be followed") from exc
    if not real.is_relative_to(root):
        raise PaperFileError(f"{where}: the path leads out of the file's folder (a symlink?)")
    return real


def read_page(path: Path, material: str, where: str) -> Page:
    """One page: a bounded read of a regular file, then a whole decode within the pixel limit."""
    try:
        data = images.read_bounded(path, MAX_PAGE_BYTES)
        info = images.probe(data)
        if info.media_type not in PAGE_MEDIA_TYPES:
            raise ImageUnreadable(f"{info.format} pages are not accepted (JPEG, PNG or WebP)")
        images.decode(data)  # broken pictures are refused here, not on the hall's screen
    except ImageUnreadable as exc:
        raise PaperFileError(f"{where}: {exc}") from exc
    return Page(material, data, info.media_type, width=info.width, height=info.height)


# --- the session --------------------------------------------------------------------------


def read_paper_application(path: Path, catalog: Catalog,
                           clock: Callable[[], float] = time.time) -> tuple[Visit, ServiceItem]:
    """A filled session and its service item; raises a ``KioskError`` the CLI explains.

    Field values and the identity are validated when the session is enqueued, by the same
    ``build_application`` the confirm button goes through; this function refuses what
    cannot even be a session (see the module docstring).
    """
    path = Path(path)
    data = _load(path)
    _only(data, _TOP_KEYS, "file")
    code = _require(data, "service", str, "file")
    if len(code) > 64:
        raise PaperFileError("file.service: not a service item code")
    item = catalog.get(code)  # UnknownService
    applicant = _require(data, "applicant", dict, "file")
    fields = data.get("fields", {})
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise PaperFileError("fields: must map field ids to text")
    phone = applicant.get("phone")
    if phone is not None and not isinstance(phone, str):
        raise PaperFileError("applicant.phone: must be text")
    attachments = _attachments(data)
    folder = path.parent if path.parent != Path("") else Path(os.curdir)

    session = Visit(id=f"paper-{int(clock())}", started_at=clock())
    try:
        session.identity_source = "paper"
        session.card = _identity(applicant)
        session.service_code = item.code
        session.fields = {str(k): v for k, v in fields.items()}
        if phone:
            session.fields.setdefault("phone", phone)
        for i, attachment in enumerate(attachments):
            where = f"attachments[{i}]"
            real = confined_path(folder, attachment.path, where)
            session.add_page(read_page(real, attachment.material, where))
    except BaseException:
        session.wipe()
        raise
    return session, item
