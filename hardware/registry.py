"""Driver registries: per device kind, driver name → its settings model, how to build it, how to probe it.

Each kind has one ``DriverRegistry`` holding one ``Driver`` line per driver:

* ID card readers — ``hardware.id_readers.ID_READERS``
* cameras — ``hardware.cameras.CAMERAS``
* receipt printers — ``hardware.printer_devices.PRINTERS``

A new reader or printer model is one new module that defines its ``Driver`` (a settings
model, a ``build`` and a ``probe``) plus one line in its kind's registry. The kiosk's
settings take the driver names from here and check each ``[devices.*]`` section with its
driver's settings model, so a bad option is refused at start-up, naming the dotted key,
not when the device is first opened.

A driver's settings model reads what it needs from the section by attribute (any object
with those attributes will do: the kiosk's section, or a ``SimpleNamespace`` in a test)
and ignores the rest, since one section serves every driver of its kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from hardware.device_health import DeviceHealth

DeviceT = TypeVar("DeviceT")


class DriverSettings(BaseModel):
    """The base of every driver's settings model: frozen, read from attributes, the rest ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", from_attributes=True, strict=True)


class DriverSettingsError(ValueError):
    """A section's value does not suit its driver; ``field`` names the key within the section."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Driver(Generic[DeviceT]):
    """One driver: ``build(settings, **options)`` opens the device; ``probe(driver, settings, device)``
    says how it is (``device`` is the running kiosk's own, or None to open one for the probe)."""

    name: str
    settings: type[DriverSettings]
    build: Callable[..., DeviceT]
    probe: Callable[[Driver[DeviceT], Any, DeviceT | None], DeviceHealth]  # Any: the driver's own model
    """``probe(driver, settings, device)``: one of ``settings`` and ``device`` may be None, not both."""


class DriverRegistry(Generic[DeviceT]):
    """The drivers of one device kind, by name, in the order they were listed."""

    def __init__(self, kind: str, drivers: Iterable[Driver[DeviceT]]) -> None:
        self.kind = kind
        self._drivers = {d.name: d for d in drivers}

    def names(self) -> tuple[str, ...]:
        return tuple(self._drivers)

    def get(self, name: str) -> Driver[DeviceT]:
        """The driver called ``name``; ``ValueError`` naming the known ones otherwise."""
        try:
            return self._drivers[name]
        except KeyError:
            raise ValueError(f"unknown {self.kind} driver {name!r}; one of {self.names()}") from None

    def settings_for(self, cfg: object) -> tuple[Driver[DeviceT], DriverSettings]:
        """The driver ``cfg.driver`` names and its settings read from ``cfg``.

        Raises ``ValueError`` for an unknown driver and ``DriverSettingsError`` for a value
        the driver refuses.
        """
        driver = self.get(getattr(cfg, "driver", None) or "")
        try:
            return driver, driver.settings.model_validate(cfg)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            field = ".".join(str(part) for part in error["loc"])
            cause = error.get("ctx", {}).get("error")
            raise DriverSettingsError(field, str(cause) if cause else error["msg"]) from None

    def build(self, cfg: object, **options: Any) -> DeviceT:
        driver, settings = self.settings_for(cfg)
        return driver.build(settings, **options)

    def probe(self, cfg: object, device: DeviceT | None = None) -> DeviceHealth:
        """How the device is. With the running kiosk's own ``device`` the settings are not needed
        (None goes to the probe when they do not read)."""
        if device is None:
            driver, settings = self.settings_for(cfg)
            return driver.probe(driver, settings, None)
        driver = self.get(getattr(cfg, "driver", None) or "")
        try:
            checked: DriverSettings | None = driver.settings.model_validate(cfg)
        except ValidationError:
            checked = None
        return driver.probe(driver, checked, device)
