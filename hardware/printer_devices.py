"""Opening a receipt printer from ``driver`` and ``target`` (the ``[devices.printer]`` settings).

============  ==================================  ===============================
driver        target                              status (DLE EOT)
============  ==================================  ===============================
``none``      (ignored)                           no printer
``file``      a path: a file, ``/dev/usb/lp0``…   unknown (write-only)
``serial``    ``PORT`` or ``PORT@BAUD``           read back (default 9600 baud)
``usb``       ``VID:PID`` in hex (``0416:5011``)  read back (needs pyusb)
``network``   ``HOST`` or ``HOST:PORT``           read back (default port 9100)
============  ==================================  ===============================

Each driver is a settings model that checks and parses its ``target`` (the kiosk's
settings use it, so a bad target is refused at start-up) and an opener, listed in
``PRINTERS``: a new printer connection is one settings model and one opener, in a new
module, plus one line there. ``parse_target`` checks a target without opening anything;
``open_printer`` opens the connection and wraps it in an ``EscposPrinter``, raising
``PrinterUnavailable`` when it cannot be opened. Errors name the driver, not the target
(a file path can hold anything).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import field_validator

from hardware.device_health import MISSING, OK, PRINTER, DeviceHealth, device_health
from hardware.errors import PrinterUnavailable
from hardware.printer import EscposPrinter
from hardware.registry import Driver, DriverRegistry, DriverSettings

DEFAULT_SERIAL_BAUD = 9600
DEFAULT_NETWORK_PORT = 9100
BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)

ReadByte = Callable[[float], int | None]
if TYPE_CHECKING:  # staticmethod is generic only to the type checker
    from escpos.escpos import Escpos  # loads its printer capabilities on import (~1 s): not at start

    OpenerSlot = staticmethod[[dict[str, Any], float], tuple[Escpos, ReadByte | None]]
else:
    OpenerSlot = staticmethod


def _open_file(params: dict[str, Any], timeout: float) -> tuple[Escpos, ReadByte | None]:
    from escpos.printer import File

    device = File(devfile=params["path"])
    device.open()
    return device, None


def _open_serial(params: dict[str, Any], timeout: float) -> tuple[Escpos, ReadByte | None]:
    from escpos.printer import Serial

    device = Serial(devfile=params["port"], baudrate=params["baud"], timeout=timeout, dsrdtr=False)
    device.open()
    port = device.device

    def read_byte(wait: float) -> int | None:
        port.timeout = wait
        data = port.read(1)
        return data[0] if data else None

    port.reset_input_buffer()
    return device, read_byte


def _open_usb(params: dict[str, Any], timeout: float) -> tuple[Escpos, ReadByte | None]:
    try:
        import usb  # noqa: F401  (pyusb, which python-escpos' Usb printer needs)
    except ImportError as exc:
        raise PrinterUnavailable("usb printers need pyusb, which is not installed") from exc
    from escpos.printer import Usb

    device = Usb(idVendor=params["vendor"], idProduct=params["product"], timeout=int(timeout * 1000))
    device.open()

    def read_byte(wait: float) -> int | None:
        data = device._read()  # python-escpos has no public read for USB
        return data[0] if data else None

    return device, read_byte


def _open_network(params: dict[str, Any], timeout: float) -> tuple[Escpos, ReadByte | None]:
    from escpos.printer import Network

    device = Network(host=params["host"], port=params["port"], timeout=max(1.0, timeout * 4))
    device.open()
    sock = device.device

    def read_byte(wait: float) -> int | None:
        sock.settimeout(wait)
        try:
            data = sock.recv(1)
        except (TimeoutError, BlockingIOError):
            return None
        return data[0] if data else None

    return device, read_byte


class NoPrinterSettings(DriverSettings):
    """``none``: no printer; ``target`` is ignored."""

    def params(self) -> dict[str, Any]:
        return {}


class TargetSettings(DriverSettings):
    """A printer reached through ``target``, whose format ``parse`` checks."""

    driver: ClassVar[str] = ""
    # opens the connection from ``params()``: one of the ``_open_*`` functions above
    opener: ClassVar[OpenerSlot]
    target: str

    @field_validator("target")
    @classmethod
    def _target_parses(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError(f"must be set for the {cls.driver} driver")
        cls.parse(value)
        return value

    @classmethod
    def parse(cls, target: str) -> dict[str, Any]:
        """The connection parameters in ``target``; ``ValueError`` saying what is wrong."""
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        return self.parse(self.target)

    def open(self, timeout: float) -> tuple[Escpos, ReadByte | None]:
        """The python-escpos connection, opened, and how to read one status byte (None: cannot)."""
        return self.opener(self.params(), timeout)


class FilePrinterSettings(TargetSettings):
    driver = "file"
    opener = staticmethod(_open_file)

    @classmethod
    def parse(cls, target: str) -> dict[str, Any]:
        return {"path": target}


class SerialPrinterSettings(TargetSettings):
    driver = "serial"
    opener = staticmethod(_open_serial)

    @classmethod
    def parse(cls, target: str) -> dict[str, Any]:
        port, _, baud = target.rpartition("@") if "@" in target else (target, "", "")
        if baud and (not baud.isdigit() or int(baud) not in BAUDS):
            raise ValueError("serial target is PORT or PORT@BAUD, BAUD one of " + ", ".join(map(str, BAUDS)))
        return {"port": port, "baud": int(baud) if baud else DEFAULT_SERIAL_BAUD}


class UsbPrinterSettings(TargetSettings):
    driver = "usb"
    opener = staticmethod(_open_usb)

    @classmethod
    def parse(cls, target: str) -> dict[str, Any]:
        match = re.fullmatch(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})", target)
        if not match:
            raise ValueError("usb target is VID:PID in hex, e.g. 0416:5011")
        return {"vendor": int(match[1], 16), "product": int(match[2], 16)}


class NetworkPrinterSettings(TargetSettings):
    driver = "network"
    opener = staticmethod(_open_network)

    @classmethod
    def parse(cls, target: str) -> dict[str, Any]:
        match = re.fullmatch(r"([A-Za-z0-9.\-]+|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?", target)
        if not match or (match[2] and not 0 < int(match[2]) < 65536):
            raise ValueError("network target is HOST or HOST:PORT")
        return {"host": match[1].strip("[]"), "port": int(match[2]) if match[2] else DEFAULT_NETWORK_PORT}


def parse_target(driver: str, target: str) -> dict[str, Any]:
    """The connection parameters in ``target`` for ``driver``; ``ValueError`` saying what is wrong."""
    settings = PRINTERS.get(driver).settings
    if issubclass(settings, TargetSettings):
        target = target.strip()
        if not target:
            raise ValueError(f"must be set for the {driver} driver")
        return settings.parse(target)
    return {}


def open_printer(
    driver: str, target: str, *, columns: int = 32, timeout: float = 0.5
) -> EscposPrinter | None:
    """An open printer for ``driver``/``target``; None for ``none``. Raises ``PrinterUnavailable``,
    and ``ValueError`` for an unknown driver or a bad target."""
    _driver, settings = PRINTERS.settings_for(_Section(driver, target))
    return open_printer_from(settings, columns=columns, timeout=timeout)


class _Section:
    def __init__(self, driver: str, target: str) -> None:
        self.driver = driver
        self.target = target


def open_printer_from(
    settings: DriverSettings, *, columns: int = 32, timeout: float = 0.5
) -> EscposPrinter | None:
    """The printer ``settings`` describe, opened; None for ``none``. Raises ``PrinterUnavailable``."""
    if not isinstance(settings, TargetSettings):
        return None
    try:
        device, read_byte = settings.open(timeout)
    except PrinterUnavailable:
        raise
    except Exception as exc:  # DeviceNotFoundError, SerialException, OSError, USBNotFoundError …
        what = f"{settings.driver} printer cannot be opened ({type(exc).__name__})"
        raise PrinterUnavailable(what) from exc
    return EscposPrinter(device, read_byte=read_byte, columns=columns, status_timeout=timeout,
                         name=settings.driver)


def probe_printer_device(
    driver: Driver[EscposPrinter | None], settings: DriverSettings | None, printer: EscposPrinter | None
) -> DeviceHealth:
    """The printer's own ``health()`` (the printer given, or one opened for the probe)."""
    own = printer is None
    try:
        if own:
            printer = driver.build(settings)
        if printer is not None:
            return printer.health()
        return device_health(PRINTER, driver.name, OK, "", f"{type(printer).__name__} opened")
    except Exception as exc:  # the printer's own typed errors; never personal data in them
        return device_health(PRINTER, driver.name, MISSING, "unavailable", type(exc).__name__)
    finally:
        if own and printer is not None:
            try:
                printer.close()
            except Exception:
                pass



def _build(settings: DriverSettings) -> EscposPrinter | None:
    return open_printer_from(settings)


PRINTERS: DriverRegistry[EscposPrinter | None] = DriverRegistry("printer", [
    Driver("none", NoPrinterSettings, _build, probe_printer_device),
    Driver("file", FilePrinterSettings, _build, probe_printer_device),
    Driver("serial", SerialPrinterSettings, _build, probe_printer_device),
    Driver("usb", UsbPrinterSettings, _build, probe_printer_device),
    Driver("network", NetworkPrinterSettings, _build, probe_printer_device),
])
