"""How each device is: ``ok``, ``degraded`` or ``missing``, with a reason.

``check_devices(devices_cfg)`` asks every configured device (ID card reader, PC/SC reader,
camera, and the receipt printer when one is configured) and returns a ``HealthReport``,
a frozen dataclass whose ``to_json()`` is what ``kiosk devices --json`` prints and what the
hall heartbeat will carry. A running kiosk passes its own device objects
(``id_reader=…``, ``camera=…``) so nothing is opened twice.

``reason`` is a short stable code (``port_missing``, ``no_answer`` …); the words for people
are the translations ``devices.reason.<reason>`` and ``devices.advice.<reason>``. ``detail``
is for engineers. Neither ever holds personal data: no card is read by a probe.

Probes are bounded: a SAM reader gets one status command (0.5 s), a camera a few frames,
PC/SC one look at the readers.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

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


def _health(device: str, driver: str, state: str, reason: str = "", detail: str = "", required: bool = True):
    return DeviceHealth(device, driver, state, reason, detail, required, NEEDED_FOR.get(device, ()))


# -- the ID card reader ----------------------------------------------------------------


def probe_id_reader(cfg: Any, reader: Any | None = None) -> DeviceHealth:
    """The SAM reader: its port, then one "SAM status" command."""
    from hardware.errors import HardwareError, ReaderFault, ReaderNotFound, ReaderTimeout
    from hardware.factory import SimulatedIdReader
    from hardware.sam_reader import SamSerialReader

    driver = getattr(cfg, "driver", "") or "?"
    if cfg is None and reader is None:
        return _health(ID_READER, "none", MISSING, "not_configured")
    own = reader is None
    port = getattr(cfg, "port", "") or ""
    if own and driver == "sam_serial":
        if not port:
            return _health(ID_READER, driver, MISSING, "not_configured", "devices.id_reader.port is empty")
        if not os.path.exists(port):
            return _health(ID_READER, driver, MISSING, "port_missing", f"{port} does not exist")
    try:
        if own:
            from hardware.factory import build_id_reader

            reader = build_id_reader(cfg, card=None)
    except ReaderNotFound as exc:
        return _health(ID_READER, driver, MISSING, "port_unopenable", str(exc))
    except (ValueError, HardwareError) as exc:
        return _health(ID_READER, driver, MISSING, "not_configured", str(exc))
    try:
        sam = reader.reader if isinstance(reader, SimulatedIdReader) else reader
        if not isinstance(sam, SamSerialReader):
            return _health(ID_READER, driver, OK, "", f"{type(sam).__name__}: not probed")
        saved = sam.timeout, sam.retries
        sam.timeout, sam.retries = 0.5, 1
        try:
            status = sam.sam_status()
        finally:
            sam.timeout, sam.retries = saved
        if status != 0x90:
            return _health(ID_READER, driver, DEGRADED, "sam_fault", f"SAM status {status:02X}")
        if isinstance(reader, SimulatedIdReader):
            return _health(ID_READER, driver, OK, "simulated", "SAM simulator on a pseudo-terminal")
        return _health(ID_READER, driver, OK, "", f"SAM answers on {port}")
    except ReaderTimeout as exc:
        return _health(ID_READER, driver, DEGRADED, "no_answer", str(exc))
    except ReaderFault as exc:
        return _health(ID_READER, driver, DEGRADED, "sam_fault", str(exc))
    except ReaderNotFound as exc:
        return _health(ID_READER, driver, MISSING, "port_unopenable", str(exc))
    except HardwareError as exc:
        return _health(ID_READER, driver, DEGRADED, "no_answer", f"{type(exc).__name__}: {exc}")
    finally:
        if own and reader is not None:
            reader.close()


# -- the PC/SC reader -----------------------------------------------------------------


def probe_pcsc(cfg: Any) -> DeviceHealth:
    """``pcscd`` and the wanted reader (``cfg.reader``, or any). Optional unless configured."""
    from hardware.errors import SmartCardUnavailable
    from hardware.pcsc_monitor import reader_states

    wanted = getattr(cfg, "reader", "") or ""
    required = bool(getattr(cfg, "enabled", cfg is not None))
    driver = "pcsc"
    try:
        from smartcard import scard  # noqa: F401
    except ImportError:
        return _health(PCSC_READER, driver, MISSING, "no_pyscard", "pyscard is not installed", required)
    try:
        states = reader_states()
    except SmartCardUnavailable as exc:
        return _health(PCSC_READER, driver, MISSING, "no_service", str(exc), required)
    names = [n for n in states if not wanted or n == wanted or n.startswith(wanted)]
    if not names:
        detail = f"asked for {wanted!r}; " if wanted else ""
        detail += f"{len(states)} reader(s) seen"
        return _health(PCSC_READER, driver, MISSING, "no_reader", detail, required)
    virtual = all(n.startswith("Virtual PCD") for n in names)
    cards = sum(1 for n in names if states[n].card_present)
    detail = f"{names[0]}" + (f" (+{len(names) - 1})" if len(names) > 1 else "") + f"; cards: {cards}"
    return _health(PCSC_READER, driver, OK, "virtual" if virtual else "", detail, required)


# -- the camera -----------------------------------------------------------------------


def probe_camera(cfg: Any, camera: Any | None = None, frames: int = 5) -> DeviceHealth:
    """A few frames from the camera (built from ``cfg`` unless one is given)."""
    from hardware.errors import CameraError

    driver = getattr(cfg, "driver", "") or "?"
    if cfg is None and camera is None:
        return _health(CAMERA, "none", MISSING, "not_configured")
    own = camera is None
    try:
        if own:
            from hardware.factory import build_camera

            camera = build_camera(cfg)
    except CameraError as exc:
        return _health(CAMERA, driver, MISSING, "no_camera", str(exc))
    except ValueError as exc:
        return _health(CAMERA, driver, MISSING, "not_configured", str(exc))
    try:
        for _ in range(frames):
            try:
                frame = camera.read_frame()
            except CameraError as exc:
                return _health(CAMERA, driver, MISSING, "no_camera", str(exc))
            if frame is not None:
                h, w = frame.shape[:2]
                reason = "replay" if driver == "replay" else ""
                return _health(CAMERA, driver, OK, reason, f"{w}x{h} frames")
            time.sleep(0.1)
        return _health(CAMERA, driver, DEGRADED, "no_frames", f"no frame in {frames} tries")
    finally:
        if own and camera is not None:
            camera.close()


# -- the printer (when configured) -----------------------------------------------------


def probe_printer(cfg: Any, printer: Any | None = None) -> DeviceHealth:
    """Asks the factory for the printer; uses its own ``health()`` when it has one."""
    driver = getattr(cfg, "driver", "") or "?"
    own = printer is None
    try:
        if own:
            from hardware import factory

            build = getattr(factory, "build_printer", None)
            if build is None:
                return _health(PRINTER, driver, MISSING, "not_supported", "no printer driver in this build")
            printer = build(cfg)
        health = getattr(printer, "health", None)
        if callable(health):
            result = health()
            if isinstance(result, DeviceHealth):
                return result
        return _health(PRINTER, driver, OK, "", f"{type(printer).__name__} opened")
    except Exception as exc:  # the printer's own typed errors; never personal data in them
        return _health(PRINTER, driver, MISSING, "unavailable", type(exc).__name__)
    finally:
        close = getattr(printer, "close", None)
        if own and callable(close):
            try:
                close()
            except Exception:
                pass


# -- everything -----------------------------------------------------------------------


def check_devices(
    devices_cfg: Any,
    *,
    id_reader: Any | None = None,
    camera: Any | None = None,
    printer: Any | None = None,
    clock: Callable[[], float] = time.time,
) -> HealthReport:
    """Every device in ``devices_cfg`` (``settings.devices``): ID reader, PC/SC, camera, printer."""
    reports = [
        probe_id_reader(getattr(devices_cfg, "id_reader", None), id_reader),
        probe_pcsc(getattr(devices_cfg, "pcsc", None)),
        probe_camera(getattr(devices_cfg, "camera", None), camera),
    ]
    printer_cfg = getattr(devices_cfg, "printer", None)
    if printer_cfg is not None and getattr(printer_cfg, "driver", "none") not in ("", "none"):
        reports.append(probe_printer(printer_cfg, printer))
    for r in reports:
        if r.state != OK:
            log.log(logging.WARNING if r.required else logging.INFO,
                    "device %s is %s: %s", r.device, r.state, r.reason)
    stamp = datetime.fromtimestamp(clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return HealthReport(tuple(reports), stamp)
