"""How each device is: ``ok``, ``degraded`` or ``missing``, with a reason.

``check_devices(devices_cfg)`` asks every configured device (ID card reader, PC/SC reader,
camera, and the receipt printer when one is configured) and returns a ``HealthReport``,
a frozen dataclass whose ``to_json()`` is what ``kiosk devices --json`` prints and what the
hall heartbeat will carry. A running kiosk passes its own device objects
(``id_reader=…``, ``camera=…``) so nothing is opened twice.

``reason`` is a short stable code (``port_missing``, ``no_answer`` …); the words for people
are the translations ``devices.reason.<reason>`` and ``devices.advice.<reason>``. ``detail``
is for engineers. Neither ever holds personal data: no card is read by a probe.

The data (``DeviceHealth``, ``HealthReport``, the states) lives in
``hardware.device_health``; each driver's probe is in its registry line
(``hardware.registry``); this module asks them all. Probes are bounded: a SAM reader
gets one status command (0.5 s), a camera a few frames, PC/SC one look at the readers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from hardware.cameras import CAMERAS
from hardware.device_health import (
    CAMERA,
    DEGRADED,
    ID_READER,
    MISSING,
    NEEDED_FOR,
    OK,
    PCSC_READER,
    PRINTER,
    STATES,
    DeviceHealth,
    HealthReport,
    device_health,
)
from hardware.errors import SmartCardUnavailable
from hardware.id_readers import ID_READERS
from hardware.interfaces import Camera, IdCardReader
from hardware.pcsc_monitor import reader_states
from hardware.printer import EscposPrinter
from hardware.printer_devices import PRINTERS
from hardware.registry import DeviceT, DriverRegistry

__all__ = [
    "CAMERA", "DEGRADED", "ID_READER", "MISSING", "NEEDED_FOR", "OK", "PCSC_READER", "PRINTER", "STATES",
    "DeviceHealth", "HealthReport", "check_devices", "probe_camera", "probe_id_reader", "probe_pcsc",
    "probe_printer",
]

log = logging.getLogger(__name__)


def _probe(registry: DriverRegistry[DeviceT], device: str, cfg: object, own: DeviceT | None) -> DeviceHealth:
    """Asks the driver ``cfg`` names; a driver it does not know, or a value it refuses, is not_configured."""
    if cfg is None and own is None:
        return device_health(device, "none", MISSING, "not_configured")
    driver = getattr(cfg, "driver", "") or "?"
    try:
        return registry.probe(cfg, own)
    except ValueError as exc:
        return device_health(device, driver, MISSING, "not_configured", str(exc))


def probe_id_reader(cfg: object, reader: IdCardReader | None = None) -> DeviceHealth:
    """The SAM reader: its port, then one "SAM status" command."""
    return _probe(ID_READERS, ID_READER, cfg, reader)


def probe_camera(cfg: object, camera: Camera | None = None) -> DeviceHealth:
    """A few frames from the camera (built from ``cfg`` unless one is given)."""
    return _probe(CAMERAS, CAMERA, cfg, camera)


def probe_printer(cfg: object, printer: EscposPrinter | None = None) -> DeviceHealth:
    """The printer's own ``health()`` (built from ``cfg`` unless one is given)."""
    return _probe(PRINTERS, PRINTER, cfg, printer)


# -- the PC/SC reader -----------------------------------------------------------------


def probe_pcsc(cfg: object) -> DeviceHealth:
    """``pcscd`` and the wanted reader (``cfg.reader``, or any). Optional unless configured."""
    wanted = getattr(cfg, "reader", "") or ""
    required = bool(getattr(cfg, "enabled", cfg is not None))
    driver = "pcsc"
    try:
        from smartcard import scard  # noqa: F401
    except ImportError:
        return device_health(PCSC_READER, driver, MISSING, "no_pyscard", "pyscard is not installed", required)
    try:
        states = reader_states()
    except SmartCardUnavailable as exc:
        return device_health(PCSC_READER, driver, MISSING, "no_service", str(exc), required)
    names = [n for n in states if not wanted or n == wanted or n.startswith(wanted)]
    if not names:
        detail = f"asked for {wanted!r}; " if wanted else ""
        detail += f"{len(states)} reader(s) seen"
        return device_health(PCSC_READER, driver, MISSING, "no_reader", detail, required)
    virtual = all(n.startswith("Virtual PCD") for n in names)
    cards = sum(1 for n in names if states[n].card_present)
    detail = f"{names[0]}" + (f" (+{len(names) - 1})" if len(names) > 1 else "") + f"; cards: {cards}"
    return device_health(PCSC_READER, driver, OK, "virtual" if virtual else "", detail, required)


# -- everything -----------------------------------------------------------------------


def check_devices(
    devices_cfg: object,
    *,
    id_reader: IdCardReader | None = None,
    camera: Camera | None = None,
    printer: EscposPrinter | None = None,
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
