"""The service catalog: the standardized service items the kiosk can take applications for.

One TOML file per item in ``config/catalog/`` (see any of them for the layout). Each
item carries the standard data of a Guangdong service item: code, names, department,
service object, conditions, materials, time limits, fee, on-site visits still needed,
whether it can be handled fully online or on a phone, a plain-language guide, and the
short form the kiosk asks for; and, for the catalog screen, its ``category`` (one of
``config/categories.toml``, the groups a villager taps first) and its picture (``icon``,
a name from ``ICONS``: the screens draw each name as a symbol of a font on the kiosk).

``load_catalog`` checks every file strictly (missing, unknown or mistyped keys, unknown
field kinds or card sources, duplicate ids) and raises ``ConfigError`` naming the file
and the key. The shipped items are SAMPLE DATA, not an official catalog.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import ConfigError, UnknownService
from kiosk.fields import FIELD_KINDS as _KIND_REGISTRY

CATALOG_DIR = Path(__file__).resolve().parent.parent / "config" / "catalog"
CATEGORIES_FILE = CATALOG_DIR.parent / "categories.toml"

FIELD_KINDS = tuple(_KIND_REGISTRY)  # the registered kinds (kiosk/fields)
CARD_SOURCES = ("card.name", "card.id_number", "card.address", "card.birth_date", "card.sex")
MATERIAL_FORMS = ("original", "copy", "original_and_copy")
CARD_E_CERTIFICATE = "resident_id_card"  # a material of this type is covered by the card read
# The e-certificate (电子证照) types a material may name (``e_certificate``): the hall's
# certificate store (hall/services/certificates.py) keeps certificates of these types, and
# the kiosk asks it for them instead of a photo (kiosk/steps/certificates.py).
E_CERTIFICATE_NAMES: dict[str, tuple[str, str]] = {
    "resident_id_card": ("居民身份证", "Resident ID card"),
    "social_security_card": ("社会保障卡", "Social security card"),
    "household_register": ("户口簿", "Household register"),
    "marriage_certificate": ("结婚证", "Marriage certificate"),
    "birth_medical_certificate": ("出生医学证明", "Birth medical certificate"),
    "disability_certificate": ("残疾人证", "Disability certificate"),
    "land_contract_certificate": ("农村土地承包经营权证", "Rural land contract certificate"),
}
E_CERTIFICATE_TYPES = tuple(E_CERTIFICATE_NAMES)
# The pictures an item or a category may carry (screens.catalog_icons draws each one).
ICONS = ("umbrella", "star", "medical", "heart", "cross", "wheelchair", "lightning", "sun", "smile",
         "pencil", "flower", "hammer", "leaf", "house")


@dataclass(frozen=True)
class Text:
    """A string in both languages."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``lang``; Chinese when that language is missing."""
        return self.en if lang == "en" and self.en else self.zh

    def to_json(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class Category:
    """A group of items on the catalog screen: ``id`` (what items name), its words and picture."""

    id: str
    name: Text
    icon: str


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text


@dataclass(frozen=True)
class Material:
    """A material the applicant hands in; ``e_certificate`` names the e-certificate
    type the hall can fetch instead (e.g. ``resident_id_card``), None when there is none."""

    id: str
    name: Text
    required: bool
    form: str  # original | copy | original_and_copy
    count: int
    e_certificate: str | None = None

    @property
    def covered_by_card(self) -> bool:
        """True for the resident ID card itself: reading the card hands it in."""
        return self.e_certificate == CARD_E_CERTIFICATE


@dataclass(frozen=True)
class FormField:
    """One question of an item's form; ``source`` names the ID-card value that fills it."""

    id: str
    label: Text
    kind: str  # a name in kiosk.fields.FIELD_KINDS
    required: bool
    source: str | None = None
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None

    def choice_values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)


@dataclass(frozen=True)
class ServiceItem:
    code: str
    name: Text
    department: Text
    service_object: Text
    conditions: tuple[Text, ...]
    materials: tuple[Material, ...]
    statutory_days: int
    promised_days: int
    fee: Text
    visits_needed: int
    fully_online: bool
    mobile_capable: bool
    fields: tuple[FormField, ...]
    guide: Text
    category: str = ""
    icon: str = ""

    @property
    def needs_photo(self) -> bool:
        """Whether the kiosk must photograph a page for it (it cannot be done without a camera)."""
        return bool(self.capture_materials())
    # The county department that processes it (a key of config/departments.toml); the hall
    # routes the application to that department's clerks.
    department_id: str = ""

    def required_materials(self) -> tuple[Material, ...]:
        return tuple(m for m in self.materials if m.required)

    def capture_materials(self) -> tuple[Material, ...]:
        """Required materials the kiosk must photograph (≥ 1 page each): every required
        material except the ID card, which the card read covers. The shipped catalog lists
        the one such material first."""
        return tuple(m for m in self.materials if m.required and not m.covered_by_card)

    def material(self, material_id: str) -> Material:
        for material in self.materials:
            if material.id == material_id:
                return material
        raise KeyError(material_id)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (for ``kiosk catalog --json``)."""
        return {
            "code": self.code,
            "category": self.category,
            "icon": self.icon,
            "name": self.name.to_json(),
            "department": self.department.to_json(),
            "department_id": self.department_id,
            "service_object": self.service_object.to_json(),
            "conditions": [c.to_json() for c in self.conditions],
            "materials": [
                {
                    "id": m.id,
                    "name": m.name.to_json(),
                    "required": m.required,
                    "form": m.form,
                    "count": m.count,
                    "e_certificate": m.e_certificate,
                }
                for m in self.materials
            ],
            "statutory_days": self.statutory_days,
            "promised_days": self.promised_days,
            "fee": self.fee.to_json(),
            "visits_needed": self.visits_needed,
            "fully_online": self.fully_online,
            "mobile_capable": self.mobile_capable,
            "fields": [
                {
                    "id": f.id,
                    "label": f.label.to_json(),
                    "kind": f.kind,
                    "required": f.required,
                    "source": f.source,
                    "choices": [{"value": c.value, "label": c.label.to_json()} for c in f.choices],
                    "max_length": f.max_length,
                }
                for f in self.fields
            ],
            "guide": self.guide.to_json(),
        }


class Catalog:
    """The loaded items, in code order, and their categories in the order shown."""

    def __init__(self, items: tuple[ServiceItem, ...], categories: tuple[Category, ...] = ()) -> None:
        self._items = tuple(sorted(items, key=lambda item: item.code))
        self._by_code = {item.code: item for item in self._items}
        self._categories = categories

    def items(self) -> tuple[ServiceItem, ...]:
        return self._items

    def categories(self) -> tuple[Category, ...]:
        """The categories that hold at least one item, in the order of the categories file."""
        used = {item.category for item in self._items}
        return tuple(c for c in self._categories if c.id in used)

    def in_category(self, category_id: str) -> tuple[ServiceItem, ...]:
        return tuple(item for item in self._items if item.category == category_id)

    def get(self, code: str) -> ServiceItem:
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownService(code) from None

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[ServiceItem]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


# --- loading -----------------------------------------------------------------------------


_KIND_NAMES = {str: "a string", int: "a whole number", bool: "true or false", dict: "a table", list: "a list"}


class _Table:
    """Reads one TOML table strictly; every error names the file and the dotted key."""

    def __init__(self, data: Mapping[str, Any], where: str, prefix: str = "") -> None:
        self.data = data
        self.where = where
        self.prefix = prefix
        self.used: set[str] = set()

    def error(self, key: str, reason: str) -> ConfigError:
        return ConfigError(f"{self.where}: {self.prefix}{key}", reason)

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise self.error(key, "missing")
            return default
        value = self.data[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            raise self.error(key, "must be " + _KIND_NAMES.get(kind, kind.__name__))
        if kind is str and not value.strip():
            raise self.error(key, "must not be empty")
        return value

    def choice(self, key: str, allowed: Sequence[str], default: Any = ...) -> Any:
        """A text that must be one of ``allowed`` (``default`` when missing, if given)."""
        value = self.get(key, str, default)
        if key in self.data and value not in allowed:
            raise self.error(key, "must be one of " + ", ".join(allowed))
        return value

    def at_least_one(self, key: str, default: Any = ...) -> Any:
        """A whole number of at least 1 (``default`` when missing, if given)."""
        value = self.get(key, int, default)
        if key in self.data and value < 1:
            raise self.error(key, "must be at least 1")
        return value

    def text(self, key: str) -> Text:
        return _text(self.get(key, dict), self.where, f"{self.prefix}{key}")

    def tables(self, key: str) -> list[_Table]:
        rows = self.get(key, list, [])
        out = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise self.error(f"{key}[{i}]", "must be a table")
            out.append(_Table(row, self.where, f"{self.prefix}{key}[{i}]."))
        return out

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.error(unknown[0], "unknown key")


def _text(data: Mapping[str, Any], where: str, key: str) -> Text:
    table = _Table(data, where, key + ".")
    text = Text(zh=table.get("zh", str), en=table.get("en", str))
    table.done()
    return text


def _material(table: _Table) -> Material:
    form = table.choice("form", MATERIAL_FORMS)
    count = table.at_least_one("count", 1)
    material = Material(
        id=table.get("id", str),
        name=table.text("name"),
        required=table.get("required", bool),
        form=form,
        count=count,
        e_certificate=table.choice("e_certificate", E_CERTIFICATE_TYPES, None),
    )
    table.done()
    return material


def _field(table: _Table) -> FormField:
    kind = table.choice("kind", FIELD_KINDS)
    source = table.choice("source", CARD_SOURCES, None)
    choices = []
    for row in table.tables("choices"):
        choices.append(Choice(value=row.get("value", str), label=row.text("label")))
        row.done()
    takes_choices = _KIND_REGISTRY[kind].takes_choices
    if takes_choices and not choices:
        raise table.error("choices", f"a {kind} field needs choices")
    if not takes_choices and choices:
        raise table.error("choices", "only a field of a kind with choices has choices")
    if len({c.value for c in choices}) != len(choices):
        raise table.error("choices", "duplicate value")
    max_length = table.at_least_one("max_length", None)
    field = FormField(
        id=table.get("id", str),
        label=table.text("label"),
        kind=kind,
        required=table.get("required", bool),
        source=source,
        choices=tuple(choices),
        max_length=max_length,
    )
    table.done()
    return field


def load_item(path: Path) -> ServiceItem:
    """Read and check one item file; raises ``ConfigError`` naming the file and key."""
    where = path.name
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(where, f"not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(where, f"cannot be read: {exc.strerror}") from exc
    top = _Table(data, where)
    materials = tuple(_material(t) for t in top.tables("materials"))
    fields = tuple(_field(t) for t in top.tables("fields"))
    conditions = tuple(_text(t.data, where, t.prefix.rstrip(".")) for t in top.tables("conditions"))
    item = ServiceItem(
        code=top.get("code", str),
        name=top.text("name"),
        department=top.text("department"),
        department_id=top.get("department_id", str),
        service_object=top.text("service_object"),
        conditions=conditions,
        materials=materials,
        statutory_days=top.get("statutory_days", int),
        promised_days=top.get("promised_days", int),
        fee=top.text("fee"),
        visits_needed=top.get("visits_needed", int),
        fully_online=top.get("fully_online", bool),
        mobile_capable=top.get("mobile_capable", bool),
        fields=fields,
        guide=top.text("guide"),
        category=top.get("category", str),
        icon=top.choice("icon", ICONS),
    )
    top.done()
    _check_item(item, top)
    return item


def _check_item(item: ServiceItem, top: _Table) -> None:
    if not 0 <= item.promised_days <= item.statutory_days:
        raise top.error("promised_days", "must be between 0 and statutory_days")
    if item.visits_needed not in (0, 1, 2):
        raise top.error("visits_needed", "must be 0, 1 or 2")
    if item.fully_online and item.visits_needed != 0:
        raise top.error("fully_online", "a fully online item needs no visit (visits_needed = 0)")
    if not item.fields:
        raise top.error("fields", "an item needs at least one form field")
    for key, ids in (("materials", [m.id for m in item.materials]), ("fields", [f.id for f in item.fields])):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise top.error(key, f"duplicate id {duplicates[0]!r}")


def load_categories(path: Path = CATEGORIES_FILE) -> tuple[Category, ...]:
    """The categories file, checked as strictly as the items (``ConfigError`` naming file and key)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path.name, f"not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(path.name, f"cannot be read: {exc.strerror}") from exc
    top = _Table(data, path.name)
    out: list[Category] = []
    for row in top.tables("categories"):
        out.append(Category(id=row.get("id", str), name=row.text("name"), icon=row.choice("icon", ICONS)))
        row.done()
    top.done()
    ids = [c.id for c in out]
    if not out or len(set(ids)) != len(ids):
        raise top.error("categories", "needs at least one category, each id once")
    return tuple(out)


def load_catalog(folder: Path = CATALOG_DIR, categories_file: Path = CATEGORIES_FILE) -> Catalog:
    """Load every ``*.toml`` in ``folder``; raises ``ConfigError`` on the first bad file."""
    categories = load_categories(categories_file)
    known = {c.id for c in categories}
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(str(folder), "catalog folder not found")
    items: dict[str, ServiceItem] = {}
    for path in sorted(folder.glob("*.toml")):
        item = load_item(path)
        if item.code in items:
            raise ConfigError(f"{path.name}: code", f"duplicate item code {item.code!r}")
        if item.category not in known:
            raise ConfigError(f"{path.name}: category", "must be one of " + ", ".join(sorted(known)))
        items[item.code] = item
    if not items:
        raise ConfigError(str(folder), "no service items")
    return Catalog(tuple(items.values()), categories)
