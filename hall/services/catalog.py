"""The service catalog on the hall: the same files the kiosks load, their departments and
the working-day calendar that time limits count in.

One source: ``config/catalog/*.toml`` is read with the kiosk's own strict loader
(``kiosk.catalog``), so the hall and the kiosks cannot disagree about what an item is.
The catalog's **version** is the SHA-256 of its manifest (every file's name and SHA-256,
in name order): the hall serves the files with the manifest (``GET /api/v1/catalog``,
signed like every answer), and a kiosk that recomputes each file's hash and the version
knows it holds exactly the hall's catalog. Each item names its department
(``department_id``), which must be a key of ``config/departments.toml``.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from hall.services.deadlines import WorkCalendar, load_calendar
from kiosk.catalog import CATALOG_DIR, Catalog, ServiceItem, Text, load_catalog
from kiosk.errors import ConfigError

CONFIG_DIR = CATALOG_DIR.parent
DEPARTMENTS_FILE = CONFIG_DIR / "departments.toml"
HOLIDAYS_FILE = CONFIG_DIR / "holidays.toml"


@dataclass(frozen=True)
class Department:
    id: str
    name: Text


@dataclass(frozen=True)
class HallCatalog:
    """Everything the hall knows about service items, loaded once per process."""

    catalog: Catalog
    departments: dict[str, Department]
    calendar: WorkCalendar
    manifest: dict[str, str]  # file name -> SHA-256 of its bytes
    files: dict[str, str] = field(repr=False)  # file name -> text (served to kiosks)

    @property
    def version(self) -> str:
        return manifest_version(self.manifest)

    def item(self, code: str) -> ServiceItem | None:
        return self.catalog.get(code) if code in self.catalog else None

    def item_name(self, code: str) -> str:
        """"中文名 English name" for the console; an unknown code says so rather than hide."""
        item = self.item(code)
        if item is None:
            return f"未知事项 Unknown item ({code})"
        return f"{item.name.zh} {item.name.en}"

    def department_of(self, code: str) -> str:
        item = self.item(code)
        return item.department_id if item is not None else ""

    def codes_of(self, department_id: str) -> list[str]:
        """The item codes a department processes (a clerk's scope)."""
        return sorted(i.code for i in self.catalog.items() if i.department_id == department_id)

    def wire(self) -> dict:
        """The body of ``GET /api/v1/catalog``."""
        return {"version": self.version,
                "files": [{"name": name, "sha256": digest, "text": self.files[name]}
                          for name, digest in sorted(self.manifest.items())]}


def manifest_version(manifest: dict[str, str]) -> str:
    canonical = json.dumps(sorted(manifest.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def load_departments(path: Path = DEPARTMENTS_FILE) -> dict[str, Department]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(path.name, f"cannot be read: {exc}") from exc
    departments = {}
    for key, table in data.items():
        name = table.get("name") if isinstance(table, dict) else None
        if not (isinstance(name, dict) and all(isinstance(name.get(lang), str) for lang in ("zh", "en"))):
            raise ConfigError(f"{path.name}: {key}.name", "must be a table with zh and en")
        departments[key] = Department(id=key, name=Text(zh=name["zh"], en=name["en"]))
    return departments


def load_hall_catalog(catalog_dir: Path = CATALOG_DIR, departments_file: Path = DEPARTMENTS_FILE,
                      holidays_file: Path = HOLIDAYS_FILE) -> HallCatalog:
    """Load and cross-check; raises ``ConfigError`` naming the file and key."""
    catalog = load_catalog(catalog_dir)
    departments = load_departments(departments_file)
    for item in catalog.items():
        if item.department_id not in departments:
            raise ConfigError(f"{item.code}: department_id",
                              f"{item.department_id!r} is not in {departments_file.name}")
    files, manifest = {}, {}
    for path in sorted(Path(catalog_dir).glob("*.toml")):
        raw = path.read_bytes()
        files[path.name] = raw.decode("utf-8")
        manifest[path.name] = hashlib.sha256(raw).hexdigest()
    return HallCatalog(catalog=catalog, departments=departments, calendar=load_calendar(holidays_file),
                       manifest=manifest, files=files)
