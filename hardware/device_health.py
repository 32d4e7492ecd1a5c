"""What a device probe finds: ``DeviceHealth`` per device and the ``HealthReport`` of them all.

Plain data with no device code, so drivers (``EscposPrinter.health()``), the probes
(``hardware.probes``) and the registries can all use it without importing each other.
``reason`` is a short stable code (``port_missing``, ``no_answer`` …); the words for people
are the translations ``devices.reason.<reason>`` and ``devices.advice.<reason>``. ``detail``
is for engineers. Neither ever holds personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OK = "ok"
DEGRADED = "degraded"
MISSING = "missing"
STATES = (OK, DEGRADED, MISSING)
_RANK = {OK: 0, DEGRADED: 1, MISSING: 2}

ID_READER = "id_reader"
PCSC_READER = "pcsc_reader"
CAMERA = "camera"
PRINTER = "printer"

# Which kiosk step needs which device.
NEEDED_FOR = {
    ID_READER: ("identify",),
    PCSC_READER: ("staff_login",),
    CAMERA: ("capture",),
    PRINTER: ("receipt",),
}


@dataclass(frozen=True)
class DeviceHealth:
    """One device's state. ``reason`` is a code; ``detail`` a technical note without personal data."""

    device: str
    driver: str
    state: str
    reason: str = ""
    detail: str = ""
    required: bool = True
    needed_for: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"state must be one of {STATES}")

    def to_json(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "driver": self.driver,
            "state": self.state,
            "reason": self.reason,
            "detail": self.detail,
            "required": self.required,
            "needed_for": list(self.needed_for),
        }


@dataclass(frozen=True)
class HealthReport:
    devices: tuple[DeviceHealth, ...]
    checked_at: str  # UTC, ISO 8601 with Z

    @property
    def state(self) -> str:
        """The worst state of a required device (optional ones do not count)."""
        worst = OK
        for d in self.devices:
            if d.required and _RANK[d.state] > _RANK[worst]:
                worst = d.state
        return worst

    def get(self, device: str) -> DeviceHealth | None:
        return next((d for d in self.devices if d.device == device), None)

    def missing_for(self, step: str) -> list[DeviceHealth]:
        """Devices a kiosk step needs that are missing."""
        return [d for d in self.devices if step in d.needed_for and d.state == MISSING]

    def to_json(self) -> dict[str, Any]:
        return {"checked_at": self.checked_at, "state": self.state,
                "devices": [d.to_json() for d in self.devices]}


def device_health(
    device: str, driver: str, state: str, reason: str = "", detail: str = "", required: bool = True
) -> DeviceHealth:
    """A ``DeviceHealth`` with the steps that need ``device``."""
    return DeviceHealth(device, driver, state, reason, detail, required, NEEDED_FOR.get(device, ()))
