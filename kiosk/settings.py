"""The kiosk's settings: built once by ``load_settings`` and passed in, never a global.

Layers, later wins, key by key:

1. ``config/defaults.toml`` (every key, with its default),
2. ``<data_dir>/device.toml`` when present (what county staff set for this kiosk),
3. the ``config_file`` argument (``kiosk run --config FILE``).

The data directory comes from, first found: the ``data_dir`` argument, the
``KIOSK_DATA_DIR`` environment variable, ``kiosk.data_dir`` in the config file or the
defaults, and finally ``~/.local/share/village-kiosk``. ``device.toml`` is read from that
directory, so it may not itself move ``kiosk.data_dir``.

Every key is checked: an unknown key, a wrong type or a value out of range raises
``ConfigError`` naming the dotted key (``devices.camera.driver: must be one of replay,
opencv``) and the file it came from; a file that is not valid TOML raises ``ConfigError``
naming the file and line.

``Settings`` is frozen. For a variant (the demo points ``hall.url`` at its own hall and
``kiosk.data_dir`` at a temporary folder) use ``settings.with_overrides({"hall.url": …})``,
which checks the values like the files, or ``dataclasses.replace`` on a section.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
DEFAULTS_FILE = CONFIG_DIR / "defaults.toml"
DEVICE_FILE_NAME = "device.toml"
DATA_DIR_ENV = "KIOSK_DATA_DIR"
DEFAULT_DATA_DIR = Path("~/.local/share/village-kiosk")

LANGUAGES = ("zh", "en")
ID_READER_DRIVERS = ("sam_serial", "sam_simulator")
CAMERA_DRIVERS = ("replay", "opencv")
PRINTER_DRIVERS = ("none", "file", "serial", "usb", "network")


@dataclass(frozen=True)
class KioskSection:
    language: str
    county: str
    device_name: str
    idle_timeout_s: float
    data_dir: Path


@dataclass(frozen=True)
class HallSection:
    url: str
    timeout_s: float


@dataclass(frozen=True)
class IdReaderSection:
    driver: str
    port: str
    baud: int


@dataclass(frozen=True)
class CameraSection:
    driver: str
    source: str
    width: int
    height: int
    focus: int = -1  # -1: the camera focuses itself; 0–255: fixed focus


@dataclass(frozen=True)
class PrinterSection:
    """The receipt printer: ``driver`` none | file | serial | usb | network; ``target`` per driver."""

    driver: str = "none"
    target: str = ""


@dataclass(frozen=True)
class PcscSection:
    """The PC/SC reader for staff and social security cards; ``reader`` "" = the first one."""

    enabled: bool = False
    reader: str = ""


@dataclass(frozen=True)
class DevicesSection:
    id_reader: IdReaderSection
    camera: CameraSection
    printer: PrinterSection = PrinterSection()
    pcsc: PcscSection = PcscSection()


@dataclass(frozen=True)
class QueueSection:
    budget_mb: int
    near_full_fraction: float
    retention_days: int
    reserve_mb: int
    min_free_mb: int
    warn_unsent_hours: float
    stop_unsent_hours: float
    warn_offline_hours: float
    stop_offline_hours: float

    @property
    def budget_bytes(self) -> int:
        return self.budget_mb * 1024 * 1024


@dataclass(frozen=True)
class SyncSection:
    interval_s: float
    backoff_base_s: float
    backoff_max_s: float
    bandwidth_kbps: float
    quiet_hours: str
    chunk_min_kb: int
    chunk_max_kb: int


@dataclass(frozen=True)
class ScanSection:
    """Document scanning (hardware/docscan): the quality gate, auto-capture and output."""

    mode: str
    format: str
    target_kb: int
    long_side: int
    paper: str
    auto_capture: bool
    hold_s: float
    min_sharpness: float
    max_glare: float
    min_brightness: float
    max_brightness: float
    min_coverage: float
    max_motion: float

    @property
    def formats(self) -> tuple[str, ...]:
        return ("jpeg", "webp") if self.format == "auto" else (self.format,)


@dataclass(frozen=True)
class DisplaySection:
    width: int
    height: int
    fullscreen: bool


@dataclass(frozen=True)
class Settings:
    kiosk: KioskSection
    hall: HallSection
    devices: DevicesSection
    queue: QueueSection
    sync: SyncSection
    display: DisplaySection
    scan: ScanSection

    @property
    def data_dir(self) -> Path:
        return self.kiosk.data_dir

    def to_dict(self) -> dict[str, Any]:
        """Nested plain values (paths as strings), e.g. for ``kiosk config --json``."""

        def plain(value: Any) -> Any:
            if dataclasses.is_dataclass(value):
                return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
            return str(value) if isinstance(value, Path) else value

        return plain(self)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """A copy with dotted keys replaced (``{"hall.url": "http://…", "kiosk.data_dir": p}``).

        Values are checked like values from a file; raises ``ConfigError``.
        """
        flat = _flatten(self.to_dict())
        for key, value in overrides.items():
            if key not in _SCHEMA:
                raise ConfigError(key, "unknown setting")
            flat[key] = str(value) if isinstance(value, Path) else value
        data_dir = Path(str(flat.pop("kiosk.data_dir"))).expanduser().absolute()
        return _build(flat, data_dir, sources={k: "override" for k in overrides})


# --- the schema: one row per dotted key -------------------------------------------------


def _kind_check(kind: type) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError("must be a number")
            return float(value)
        if kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError("must be a whole number")
            return value
        if kind is bool:
            if not isinstance(value, bool):
                raise ValueError("must be true or false")
            return value
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return value

    return check


def _one_of(*choices: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if value not in choices:
            raise ValueError("must be one of " + ", ".join(choices))

    return check


def _at_least(low: float) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if value < low:
            raise ValueError(f"must be at least {low:g}")

    return check


def _fraction(value: float) -> None:
    if not 0.0 < value <= 1.0:
        raise ValueError("must be above 0 and at most 1")


def _county(value: str) -> None:
    if not re.fullmatch(r"\d{6}", value):
        raise ValueError("must be a 6-digit division code")


def _url(value: str) -> None:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ValueError("must be an http:// or https:// URL")


def _quiet_hours(value: str) -> None:
    if value == "":
        return
    match = re.fullmatch(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})", value)
    if not match:
        raise ValueError('must be "" or "HH:MM-HH:MM", e.g. "08:00-09:30"')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError("hours must be 00-23 and minutes 00-59")
    if (h1, m1) == (h2, m2):
        raise ValueError("start and end must differ")


def _at_most(high: float) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if value > high:
            raise ValueError(f"must be at most {high:g}")

    return check


def _between(low: float, high: float) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        _at_least(low)(value)
        _at_most(high)(value)

    return check


def _nothing(value: Any) -> None:
    return None


@dataclass(frozen=True)
class _Spec:
    kind: type
    check: Callable[[Any], None] = _nothing


_SCHEMA: dict[str, _Spec] = {
    "kiosk.language": _Spec(str, _one_of(*LANGUAGES)),
    "kiosk.county": _Spec(str, _county),
    "kiosk.device_name": _Spec(str),
    "kiosk.idle_timeout_s": _Spec(float, _at_least(5)),
    "kiosk.data_dir": _Spec(str),
    "hall.url": _Spec(str, _url),
    "hall.timeout_s": _Spec(float, _at_least(0.1)),
    "devices.id_reader.driver": _Spec(str, _one_of(*ID_READER_DRIVERS)),
    "devices.id_reader.port": _Spec(str),
    "devices.id_reader.baud": _Spec(int, _at_least(1200)),
    "devices.camera.driver": _Spec(str, _one_of(*CAMERA_DRIVERS)),
    "devices.camera.source": _Spec(str),
    "devices.camera.width": _Spec(int, _at_least(1)),
    "devices.camera.height": _Spec(int, _at_least(1)),
    "devices.printer.driver": _Spec(str, _one_of(*PRINTER_DRIVERS)),
    "devices.printer.target": _Spec(str),
    "devices.pcsc.enabled": _Spec(bool),
    "devices.pcsc.reader": _Spec(str),
    "queue.budget_mb": _Spec(int, _at_least(1)),
    "queue.near_full_fraction": _Spec(float, _fraction),
    "queue.retention_days": _Spec(int, _at_least(0)),
    "queue.reserve_mb": _Spec(int, _at_least(1)),
    "queue.min_free_mb": _Spec(int, _at_least(0)),
    "queue.warn_unsent_hours": _Spec(float, _at_least(0.01)),
    "queue.stop_unsent_hours": _Spec(float, _at_least(0.01)),
    "queue.warn_offline_hours": _Spec(float, _at_least(0.01)),
    "queue.stop_offline_hours": _Spec(float, _at_least(0.01)),
    "sync.interval_s": _Spec(float, _at_least(1)),
    "sync.backoff_base_s": _Spec(float, _at_least(0.01)),
    "sync.backoff_max_s": _Spec(float, _at_least(0.01)),
    "sync.bandwidth_kbps": _Spec(float, _at_least(0)),
    "sync.quiet_hours": _Spec(str, _quiet_hours),
    # the reference hall takes chunks of up to 16 MiB (protocol.md, Uploads)
    "sync.chunk_min_kb": _Spec(int, _between(1, 16384)),
    "sync.chunk_max_kb": _Spec(int, _between(1, 16384)),
    "display.width": _Spec(int, _at_least(1)),
    "display.height": _Spec(int, _at_least(1)),
    "display.fullscreen": _Spec(bool),
    "devices.camera.focus": _Spec(int, _between(-1, 255)),
    "scan.mode": _Spec(str, _one_of("colour", "grey", "text")),
    "scan.format": _Spec(str, _one_of("auto", "jpeg", "webp")),
    "scan.target_kb": _Spec(int, _between(20, 5000)),
    "scan.long_side": _Spec(int, _between(600, 4000)),
    "scan.paper": _Spec(str, _one_of("", "a4", "a5", "b5", "cert_large", "cert_16k", "letter")),
    "scan.auto_capture": _Spec(bool),
    "scan.hold_s": _Spec(float, _between(0.2, 10)),
    "scan.min_sharpness": _Spec(float, _at_least(0)),
    "scan.max_glare": _Spec(float, _fraction),
    "scan.min_brightness": _Spec(float, _between(0, 255)),
    "scan.max_brightness": _Spec(float, _between(0, 255)),
    "scan.min_coverage": _Spec(float, _fraction),
    "scan.max_motion": _Spec(float, _at_least(0.01)),
}
_TABLES = {key.rsplit(".", 1)[0] for key in _SCHEMA} | {"devices"}


def known_keys() -> tuple[str, ...]:
    """Every dotted settings key, in schema order."""
    return tuple(_SCHEMA)


# --- reading files -----------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(str(path), "file not found") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(str(path), f"cannot be read: {exc.strerror}") from exc


def _flatten(tree: Mapping[str, Any], prefix: str = "", source: str = "") -> dict[str, Any]:
    """Nested tables to dotted keys; unknown keys and misplaced tables raise ConfigError."""
    flat: dict[str, Any] = {}
    where = f" (in {source})" if source else ""
    for name, value in tree.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            if key not in _TABLES:
                raise ConfigError(key, "unknown setting" + where)
            flat.update(_flatten(value, key + ".", source))
        elif key in _SCHEMA:
            flat[key] = value
        elif key in _TABLES:
            raise ConfigError(key, "must be a table" + where)
        else:
            raise ConfigError(key, "unknown setting" + where)
    return flat


def _data_dir_from(value: str, base: Path | None) -> Path:
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return path.absolute()


def load_settings(
    config_file: Path | None = None,
    data_dir: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Settings:
    """Build the settings from the layers described in the module docstring.

    Raises ``ConfigError`` for a missing or corrupt file, an unknown key, a wrong type or
    a value out of range.
    """
    sources: dict[str, str] = {}
    merged = _flatten(_read_toml(DEFAULTS_FILE), source=str(DEFAULTS_FILE))
    sources.update(dict.fromkeys(merged, str(DEFAULTS_FILE)))
    missing = set(_SCHEMA) - set(merged)
    if missing:
        raise ConfigError(sorted(missing)[0], f"missing from {DEFAULTS_FILE}")

    user: dict[str, Any] = {}
    if config_file is not None:
        config_file = Path(config_file)
        user = _flatten(_read_toml(config_file), source=str(config_file))

    # Where the data lives decides which device.toml is read.
    if data_dir is not None:
        chosen = Path(data_dir).expanduser().absolute()
    elif environ.get(DATA_DIR_ENV):
        chosen = _data_dir_from(environ[DATA_DIR_ENV], None)
    elif user.get("kiosk.data_dir"):
        _check("kiosk.data_dir", user["kiosk.data_dir"], str(config_file))
        chosen = _data_dir_from(user["kiosk.data_dir"], config_file.parent if config_file else None)
    elif merged["kiosk.data_dir"]:
        chosen = _data_dir_from(merged["kiosk.data_dir"], DEFAULTS_FILE.parent)
    else:
        chosen = DEFAULT_DATA_DIR.expanduser().absolute()

    device_file = chosen / DEVICE_FILE_NAME
    if device_file.is_file():
        device = _flatten(_read_toml(device_file), source=str(device_file))
        if "kiosk.data_dir" in device:
            raise ConfigError("kiosk.data_dir", f"cannot be set in {device_file} (it lives there)")
        merged.update(device)
        sources.update(dict.fromkeys(device, str(device_file)))
    merged.update(user)
    sources.update(dict.fromkeys(user, str(config_file)))
    merged.pop("kiosk.data_dir")
    return _build(merged, chosen, sources)


def _check(key: str, value: Any, source: str) -> Any:
    spec = _SCHEMA[key]
    try:
        value = _kind_check(spec.kind)(value)
        spec.check(value)
    except ValueError as exc:
        raise ConfigError(key, f"{exc} (in {source})") from None
    return value


def _check_printer_target(driver: str, target: str) -> None:
    from hardware.printer_devices import parse_target  # the one place the formats are written

    try:
        parse_target(driver, target)
    except ValueError as exc:
        raise ConfigError("devices.printer.target", str(exc)) from None


def _build(flat: dict[str, Any], data_dir: Path, sources: Mapping[str, str]) -> Settings:
    v = {
        key: _check(key, value, sources.get(key, "settings"))
        for key, value in flat.items()
        if key != "kiosk.data_dir"
    }
    if v["scan.max_brightness"] <= v["scan.min_brightness"]:
        raise ConfigError("scan.max_brightness", "must be above scan.min_brightness")
    _check_printer_target(v["devices.printer.driver"], v["devices.printer.target"])
    if v["sync.backoff_max_s"] < v["sync.backoff_base_s"]:
        raise ConfigError("sync.backoff_max_s", "must not be below sync.backoff_base_s")
    if v["sync.chunk_max_kb"] < v["sync.chunk_min_kb"]:
        raise ConfigError("sync.chunk_max_kb", "must not be below sync.chunk_min_kb")
    for what in ("unsent", "offline"):
        if v[f"queue.stop_{what}_hours"] < v[f"queue.warn_{what}_hours"]:
            raise ConfigError(f"queue.stop_{what}_hours", f"must not be below queue.warn_{what}_hours")
    if v["queue.reserve_mb"] > v["queue.budget_mb"]:
        raise ConfigError("queue.reserve_mb", "must not be above queue.budget_mb")

    def section(cls: type, prefix: str, **extra: Any) -> Any:
        names = [f.name for f in dataclasses.fields(cls) if f.name not in extra]
        return cls(**{name: v[f"{prefix}.{name}"] for name in names}, **extra)

    return Settings(
        kiosk=section(KioskSection, "kiosk", data_dir=data_dir),
        hall=section(HallSection, "hall"),
        devices=DevicesSection(
            id_reader=section(IdReaderSection, "devices.id_reader"),
            camera=section(CameraSection, "devices.camera"),
            printer=section(PrinterSection, "devices.printer"),
            pcsc=section(PcscSection, "devices.pcsc"),
        ),
        queue=section(QueueSection, "queue"),
        sync=section(SyncSection, "sync"),
        display=section(DisplaySection, "display"),
        scan=section(ScanSection, "scan"),
    )
