"""The kiosk's settings: built once by ``load_settings`` and passed in, never a global.

Each key is defined once, as a field of a section model below (its type and range);
``config/defaults.toml`` gives every key its value and the comment people read. The
models are pydantic dataclasses (frozen, ``extra="forbid"``, strict types), so a section
is checked the same way wherever its values come from, and ``dataclasses.replace`` on a
section checks the new values too.

Layers, later wins, key by key (``_layers``):

1. ``config/defaults.toml`` (every key, with its default),
2. ``<data_dir>/device.toml`` when present (what county staff set for this kiosk),
3. the ``config_file`` argument (``kiosk run --config FILE``).

A layer is a ``Layer``: dotted keys and the file they came from. A signed configuration
from the hall will be one more ``Layer`` between 1 and 2, checked by ``check_layer`` on
the hall before it is signed and by ``load_settings`` on the kiosk.

The data directory comes from, first found: the ``data_dir`` argument, the
``KIOSK_DATA_DIR`` environment variable, ``kiosk.data_dir`` in the config file or the
defaults, and finally ``~/.local/share/village-kiosk``. ``device.toml`` is read from that
directory, so it may not itself move ``kiosk.data_dir``.

An unknown key, a wrong type or a value out of range raises ``ConfigError`` naming the
dotted key (``devices.camera.driver: must be one of replay, opencv``) and the file it
came from; a file that is not valid TOML raises ``ConfigError`` naming the file and line.

``Settings`` is frozen. For a variant (the demo points ``hall.url`` at its own hall and
``kiosk.data_dir`` at a temporary folder) use ``settings.with_overrides({"hall.url": …})``,
which checks the values like the files, or ``dataclasses.replace`` on a section.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.dataclasses import dataclass
from pydantic_core import ErrorDetails

from hardware.cameras import CAMERAS
from hardware.id_readers import ID_READERS
from hardware.printer_devices import PRINTERS
from hardware.registry import DriverRegistry, DriverSettingsError
from kiosk.errors import ConfigError
from kiosk.i18n import LANGUAGES

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
DEFAULTS_FILE = CONFIG_DIR / "defaults.toml"
DEVICE_FILE_NAME = "device.toml"
DATA_DIR_ENV = "KIOSK_DATA_DIR"
DEFAULT_DATA_DIR = Path("~/.local/share/village-kiosk")


_SECTION = ConfigDict(extra="forbid")

# Strict scalars: a TOML string is not a number, 1 is not true, 1.5 is not a whole number.
Str = Annotated[str, Strict()]
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]  # a whole number is a number: 120 becomes 120.0
Bool = Annotated[bool, Strict()]


# --- value rules shared by several keys --------------------------------------------------


def _one_of(choices: Sequence[str]) -> AfterValidator:
    def check(value: str) -> str:
        if value not in choices:
            raise ValueError("must be one of " + ", ".join(choices))
        return value

    return AfterValidator(check)


def _pattern(regex: str, message: str) -> AfterValidator:
    def check(value: str) -> str:
        if not re.fullmatch(regex, value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


def _quiet_hours(value: str) -> str:
    if value == "":
        return value
    match = re.fullmatch(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})", value)
    if not match:
        raise ValueError('must be "" or "HH:MM-HH:MM", e.g. "08:00-09:30"')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError("hours must be 00-23 and minutes 00-59")
    if (h1, m1) == (h2, m2):
        raise ValueError("start and end must differ")
    return value


def _not_below(other: str, field: str) -> Any:
    """A field validator: ``field`` may not be below ``other`` of the same section (declared before it)."""

    def check(cls: type, value: float, info: ValidationInfo) -> float:
        if other in info.data and value < info.data[other]:
            raise ValueError(f"must not be below {other}")
        return value

    return field_validator(field)(check)


def _suits_driver(registry: DriverRegistry[Any]) -> Any:
    """A section validator: the section's values suit the driver it names (its registry line's
    settings model decides); a refused value is reported under its own dotted key."""

    def check(section: Any) -> Any:
        registry.settings_for(section)  # raises DriverSettingsError naming the field
        return section

    return model_validator(mode="after")(check)


Positive = Annotated[Float, Field(ge=0.01)]
Fraction = Annotated[Float, Field(gt=0, le=1)]
Pixels = Annotated[Int, Field(ge=1)]
# the reference hall takes chunks of up to 16 MiB (protocol.md, Uploads)
ChunkKb = Annotated[Int, Field(ge=1, le=16384)]


# --- the sections: one field per key ------------------------------------------------------


@dataclass(frozen=True, config=_SECTION)
class KioskSection:
    language: Annotated[Str, _one_of(LANGUAGES)]
    county: Annotated[Str, _pattern(r"\d{6}", "must be a 6-digit division code")]
    device_name: Str
    idle_timeout_s: Annotated[Float, Field(ge=5)]
    data_dir: Path
    # The last seconds of the idle timeout show a countdown warning (at most half the timeout).
    idle_warning_s: Annotated[Float, Field(ge=0)] = 20.0
    # When the hall's disruptive commands (restart, wipe, rotate_keys) may run: "HH:MM-HH:MM", "" = any time.
    maintenance_window: Annotated[Str, AfterValidator(_quiet_hours)] = "01:00-05:00"
    # A new software release must report healthy (one good heartbeat) within this time and
    # this many starts, or the launcher returns to the previous one (kiosk/updates/slots.py).
    release_health_timeout_s: Annotated[Float, Field(ge=30, le=86400)] = 600.0
    release_max_starts: Annotated[Int, Field(ge=1, le=20)] = 3


@dataclass(frozen=True, config=_SECTION)
class HallSection:
    url: Annotated[Str, _pattern(r"https?://[^\s/]+(/\S*)?", "must be an http:// or https:// URL")]
    timeout_s: Annotated[Float, Field(ge=0.1)]


@dataclass(frozen=True, config=_SECTION)
class IdReaderSection:
    driver: Annotated[Str, _one_of(ID_READERS.names())]
    port: Str
    baud: Annotated[Int, Field(ge=1200)]

    _driver = _suits_driver(ID_READERS)


@dataclass(frozen=True, config=_SECTION)
class CameraSection:
    driver: Annotated[Str, _one_of(CAMERAS.names())]
    source: Str
    width: Pixels
    height: Pixels
    focus: Annotated[Int, Field(ge=-1, le=255)] = -1  # -1: the camera focuses itself; 0–255: fixed focus

    _driver = _suits_driver(CAMERAS)


@dataclass(frozen=True, config=_SECTION)
class PrinterSection:
    """The receipt printer: ``driver`` none | file | serial | usb | network; ``target`` per driver."""

    driver: Annotated[Str, _one_of(PRINTERS.names())] = "none"
    target: Str = ""  # its format is the driver's (hardware/printer_devices.py)

    _driver = _suits_driver(PRINTERS)


@dataclass(frozen=True, config=_SECTION)
class PcscSection:
    """The PC/SC reader for staff and social security cards; ``reader`` "" = the first one."""

    enabled: Bool = False
    reader: Str = ""


@dataclass(frozen=True, config=_SECTION)
class DevicesSection:
    id_reader: IdReaderSection
    camera: CameraSection
    printer: PrinterSection = PrinterSection()
    pcsc: PcscSection = PcscSection()


@dataclass(frozen=True, config=_SECTION)
class QueueSection:
    budget_mb: Annotated[Int, Field(ge=1)]
    near_full_fraction: Fraction
    retention_days: Annotated[Int, Field(ge=0)]
    reserve_mb: Annotated[Int, Field(ge=1)]
    min_free_mb: Annotated[Int, Field(ge=0)]
    warn_unsent_hours: Positive
    stop_unsent_hours: Positive
    warn_offline_hours: Positive
    stop_offline_hours: Positive

    _stop_unsent = _not_below("warn_unsent_hours", "stop_unsent_hours")
    _stop_offline = _not_below("warn_offline_hours", "stop_offline_hours")

    @field_validator("reserve_mb")
    @classmethod
    def _reserve_fits_budget(cls, value: int, info: ValidationInfo) -> int:
        if "budget_mb" in info.data and value > info.data["budget_mb"]:
            raise ValueError("must not be above budget_mb")
        return value

    @property
    def budget_bytes(self) -> int:
        return self.budget_mb * 1024 * 1024


@dataclass(frozen=True, config=_SECTION)
class SyncSection:
    interval_s: Annotated[Float, Field(ge=1)]
    backoff_base_s: Positive
    backoff_max_s: Positive
    bandwidth_kbps: Annotated[Float, Field(ge=0)]
    quiet_hours: Annotated[Str, AfterValidator(_quiet_hours)]
    chunk_min_kb: ChunkKb
    chunk_max_kb: ChunkKb

    _backoff = _not_below("backoff_base_s", "backoff_max_s")
    _chunks = _not_below("chunk_min_kb", "chunk_max_kb")


@dataclass(frozen=True, config=_SECTION)
class ScanSection:
    """Document scanning (hardware/docscan): the quality gate, auto-capture and output."""

    mode: Literal["colour", "grey", "text"]
    format: Literal["auto", "jpeg", "webp"]
    target_kb: Annotated[Int, Field(ge=20, le=5000)]
    long_side: Annotated[Int, Field(ge=600, le=4000)]
    paper: Literal["", "a4", "a5", "b5", "cert_large", "cert_16k", "letter"]
    auto_capture: Bool
    hold_s: Annotated[Float, Field(ge=0.2, le=10)]
    min_sharpness: Annotated[Float, Field(ge=0)]
    max_glare: Fraction
    min_brightness: Annotated[Float, Field(ge=0, le=255)]
    max_brightness: Annotated[Float, Field(ge=0, le=255)]
    min_coverage: Fraction
    max_motion: Positive

    @field_validator("max_brightness")
    @classmethod
    def _above_min_brightness(cls, value: float, info: ValidationInfo) -> float:
        if "min_brightness" in info.data and value <= info.data["min_brightness"]:
            raise ValueError("must be above min_brightness")
        return value

    @property
    def formats(self) -> tuple[str, ...]:
        return ("jpeg", "webp") if self.format == "auto" else (self.format,)


def _pin_hash(value: str) -> str:
    if value and not re.fullmatch(r"pbkdf2_sha256\$\d+\$[0-9a-f]{32}\$[0-9a-f]{64}", value):
        raise ValueError('must be "" or "pbkdf2_sha256$<iterations>$<salt>$<hash>"')
    return value


@dataclass(frozen=True, config=_SECTION)
class MaintenanceSection:
    """The technician's way in: the PIN's hash (never the PIN), and the lockout after wrong PINs."""

    pin_hash: Annotated[Str, AfterValidator(_pin_hash)] = ""  # "" = maintenance cannot be opened by PIN
    max_tries: Annotated[Int, Field(ge=1, le=20)] = 5
    lockout_s: Annotated[Float, Field(ge=1)] = 300.0
    long_press_s: Annotated[Float, Field(gt=0, le=30)] = 3.0  # the hidden corner, held this long


@dataclass(frozen=True, config=_SECTION)
class DisplaySection:
    width: Pixels
    height: Pixels
    fullscreen: Bool


@dataclass(frozen=True, config=_SECTION)
class VoiceSection:
    """Spoken prompts (kiosk/voice/, docs/input-and-voice.md)."""

    enabled: Bool
    language: Literal["cmn", "yue", "hak"]  # the voice a visit starts with; villagers choose on home
    volume: Annotated[Float, Field(ge=0, le=1)]
    muted: Bool
    recordings_dir: Str  # "" = none; a relative path is inside the data dir
    speed_wpm: Annotated[Int, Field(ge=80, le=300)]

    def recordings_path(self, data_dir: Path) -> Path | None:
        if not self.recordings_dir:
            return None
        path = Path(self.recordings_dir).expanduser()
        return path if path.is_absolute() else data_dir / path


@dataclass(frozen=True, config=_SECTION)
class Settings:
    kiosk: KioskSection
    hall: HallSection
    devices: DevicesSection
    queue: QueueSection
    sync: SyncSection
    display: DisplaySection
    scan: ScanSection
    voice: VoiceSection
    maintenance: MaintenanceSection = MaintenanceSection()

    @property
    def data_dir(self) -> Path:
        return self.kiosk.data_dir

    def to_dict(self) -> dict[str, Any]:
        """Nested plain values (paths as strings), e.g. for ``kiosk config --json``."""
        result: dict[str, Any] = _ADAPTER.dump_python(self, mode="json")
        return result

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """A copy with dotted keys replaced (``{"hall.url": "http://…", "kiosk.data_dir": p}``).

        Values are checked like values from a file; raises ``ConfigError``.
        """
        flat = _flatten(self.to_dict())
        for key, value in overrides.items():
            if key not in _KEYS:
                raise ConfigError(key, "unknown setting")
            flat[key] = str(value) if isinstance(value, Path) else value
        data_dir = Path(str(flat.pop("kiosk.data_dir"))).expanduser().absolute()
        return _build(flat, data_dir, sources={k: "override" for k in overrides})


_ADAPTER: TypeAdapter[Settings] = TypeAdapter(Settings)


def _keys_of(model: type, prefix: str = "") -> Iterable[str]:
    for name, info in model.__pydantic_fields__.items():  # type: ignore[attr-defined]
        if isinstance(info.annotation, type) and dataclasses.is_dataclass(info.annotation):
            yield from _keys_of(info.annotation, f"{prefix}{name}.")
        else:
            yield prefix + name


_KEYS: tuple[str, ...] = tuple(_keys_of(Settings))
_TABLES = {key.rsplit(".", 1)[0] for key in _KEYS} | {"devices"}


def known_keys() -> tuple[str, ...]:
    """Every dotted settings key, in the order the models declare them."""
    return _KEYS


# --- layers ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Layer:
    """Dotted keys from one source (a file name, "override"); only known keys, not yet range-checked."""

    source: str
    values: Mapping[str, Any]


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
        elif key in _KEYS:
            flat[key] = value
        elif key in _TABLES:
            raise ConfigError(key, "must be a table" + where)
        else:
            raise ConfigError(key, "unknown setting" + where)
    return flat


def layer_from_tree(tree: Mapping[str, Any], source: str) -> Layer:
    """A layer from nested tables as TOML gives them; unknown keys raise ``ConfigError``."""
    return Layer(source, _flatten(tree, source=source))


def read_layer(path: Path) -> Layer:
    return layer_from_tree(_read_toml(path), str(path))


def check_layer(layer: Layer) -> None:
    """Checks a partial layer (e.g. configuration the hall will sign) over the defaults.

    Raises ``ConfigError`` naming the dotted key, like ``load_settings`` would on the kiosk.
    """
    defaults = read_layer(DEFAULTS_FILE)
    flat, sources = _merge([defaults, layer])
    flat.pop("kiosk.data_dir", None)
    _build(flat, DEFAULT_DATA_DIR.expanduser().absolute(), sources)


def _merge(layers: Sequence[Layer]) -> tuple[dict[str, Any], dict[str, str]]:
    """Later layers win, key by key; also says which source each key came from."""
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for layer in layers:
        merged.update(layer.values)
        sources.update(dict.fromkeys(layer.values, layer.source))
    return merged, sources


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
    defaults = read_layer(DEFAULTS_FILE)
    missing = set(_KEYS) - set(defaults.values)
    if missing:
        raise ConfigError(sorted(missing)[0], f"missing from {DEFAULTS_FILE}")
    user = read_layer(Path(config_file)) if config_file is not None else Layer("", {})

    # Where the data lives decides which device.toml is read.
    if data_dir is not None:
        chosen = Path(data_dir).expanduser().absolute()
    elif environ.get(DATA_DIR_ENV):
        chosen = _data_dir_from(environ[DATA_DIR_ENV], None)
    elif user.values.get("kiosk.data_dir") is not None:
        value = user.values["kiosk.data_dir"]
        if not isinstance(value, str):
            raise ConfigError("kiosk.data_dir", f"must be a string (in {user.source})")
        chosen = _data_dir_from(value, Path(user.source).parent) if value else _default_data_dir(defaults)
    else:
        chosen = _default_data_dir(defaults)

    layers = [defaults]
    device_file = chosen / DEVICE_FILE_NAME
    if device_file.is_file():
        device = read_layer(device_file)
        if "kiosk.data_dir" in device.values:
            raise ConfigError("kiosk.data_dir", f"cannot be set in {device_file} (it lives there)")
        layers.append(device)
    layers.append(user)
    merged, sources = _merge(layers)
    merged.pop("kiosk.data_dir")
    return _build(merged, chosen, sources)


def _default_data_dir(defaults: Layer) -> Path:
    value = defaults.values["kiosk.data_dir"]
    if value:
        return _data_dir_from(str(value), DEFAULTS_FILE.parent)
    return DEFAULT_DATA_DIR.expanduser().absolute()


# --- building and saying what is wrong -----------------------------------------------------


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in flat.items():
        *tables, name = key.split(".")
        node = tree
        for table in tables:
            node = node.setdefault(table, {})
        node[name] = value
    return tree


def _build(flat: Mapping[str, Any], data_dir: Path, sources: Mapping[str, str]) -> Settings:
    tree = _nest({k: v for k, v in flat.items() if k != "kiosk.data_dir"})
    tree.setdefault("kiosk", {})["data_dir"] = data_dir
    try:
        return _ADAPTER.validate_python(tree)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        key = ".".join(str(part) for part in error["loc"])
        reason = _plain_reason(error, key.rsplit(".", 1)[0])
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, DriverSettingsError) and cause.field:  # the driver's model refused a key
            key, reason = f"{key}.{cause.field}", cause.reason
        where = f" (in {sources[key]})" if sources.get(key) else ""
        raise ConfigError(key, reason + where) from None


def _plain_reason(error: ErrorDetails, section: str) -> str:
    """A pydantic error in the words the kiosk has always used."""
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "value_error":
        reason = str(ctx.get("error", error["msg"]))
        # cross-key rules name the other key of the same section: give it its dotted name
        return re.sub(r"(below|above) (\w+)$", lambda m: f"{m[1]} {section}.{m[2]}", reason)
    if kind == "literal_error":
        return "must be one of " + ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
    bounds = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le"),
              "greater_than": ("above", "gt"), "less_than": ("below", "lt")}
    if kind in bounds:
        words, name = bounds[kind]
        return f"must be {words} {ctx[name]:g}"
    return _TYPE_REASONS.get(kind, error["msg"])


_TYPE_REASONS = {
    "float_type": "must be a number",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "dataclass_type": "must be a table",
    "dataclass_exact_type": "must be a table",
    "dict_type": "must be a table",
    "missing": "missing",
    "unexpected_keyword_argument": "unknown setting",
    "extra_forbidden": "unknown setting",
}
