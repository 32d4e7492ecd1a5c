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

``parse_target`` checks a target without opening anything (the settings use it);
``open_printer`` opens the connection and wraps it in an ``EscposPrinter``, raising
``PrinterUnavailable`` when it cannot be opened. Errors name the driver, not the target
(a file path can hold anything).
"""

from __future__ import annotations

import re
from typing import Any

from hardware.errors import PrinterUnavailable
from hardware.printer import EscposPrinter

PRINTER_DRIVERS = ("none", "file", "serial", "usb", "network")
DEFAULT_SERIAL_BAUD = 9600
DEFAULT_NETWORK_PORT = 9100
BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)


def parse_target(driver: str, target: str) -> dict[str, Any]:
    """The connection parameters in ``target`` for ``driver``; ``ValueError`` saying what is wrong."""
    target = target.strip()
    if driver == "none":
        return {}
    if driver not in PRINTER_DRIVERS:
        raise ValueError("driver must be one of " + ", ".join(PRINTER_DRIVERS))
    if not target:
        raise ValueError(f"must be set for the {driver} driver")
    if driver == "file":
        return {"path": target}
    if driver == "serial":
        port, _, baud = target.rpartition("@") if "@" in target else (target, "", "")
        if baud and (not baud.isdigit() or int(baud) not in BAUDS):
            raise ValueError("serial target is PORT or PORT@BAUD, BAUD one of " + ", ".join(map(str, BAUDS)))
        return {"port": port, "baud": int(baud) if baud else DEFAULT_SERIAL_BAUD}
    if driver == "usb":
        match = re.fullmatch(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})", target)
        if not match:
            raise ValueError("usb target is VID:PID in hex, e.g. 0416:5011")
        return {"vendor": int(match[1], 16), "product": int(match[2], 16)}
    match = re.fullmatch(r"([A-Za-z0-9.\-]+|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?", target)
    if not match or (match[2] and not 0 < int(match[2]) < 65536):
        raise ValueError("network target is HOST or HOST:PORT")
    return {"host": match[1].strip("[]"), "port": int(match[2]) if match[2] else DEFAULT_NETWORK_PORT}


def open_printer(
    driver: str, target: str, *, columns: int = 32, timeout: float = 0.5
) -> EscposPrinter | None:
    """An open printer for ``driver``/``target``; None for ``none``. Raises ``PrinterUnavailable``."""
    params = parse_target(driver, target)
    if driver == "none":
        return None
    try:
        device, read_byte = _OPENERS[driver](params, timeout)
    except PrinterUnavailable:
        raise
    except Exception as exc:  # DeviceNotFoundError, SerialException, OSError, USBNotFoundError …
        raise PrinterUnavailable(f"{driver} printer cannot be opened ({type(exc).__name__})") from exc
    return EscposPrinter(device, read_byte=read_byte, columns=columns, status_timeout=timeout, name=driver)


def _open_file(params: dict[str, Any], timeout: float):
    from escpos.printer import File

    device = File(devfile=params["path"])
    device.open()
    return device, None


def _open_serial(params: dict[str, Any], timeout: float):
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


def _open_usb(params: dict[str, Any], timeout: float):
    try:
        import usb  # noqa: F401  (pyusb, which python-escpos' Usb printer needs)
    except ImportError as exc:
        raise PrinterUnavailable("usb printers need pyusb, which is not installed") from exc
    from escpos.printer import Usb

    device = Usb(idVendor=params["vendor"], idProduct=params["product"], timeout=int(timeout * 1000))
    device.open()

    def read_byte(wait: float) -> int | None:
        data = device._read()
        return data[0] if data else None

    return device, read_byte


def _open_network(params: dict[str, Any], timeout: float):
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


_OPENERS = {"file": _open_file, "serial": _open_serial, "usb": _open_usb, "network": _open_network}
