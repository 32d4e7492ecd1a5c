"""Builds the devices the settings ask for.

``cfg`` is read by duck typing (any object with the attributes below, such as
``kiosk.settings`` sections); this package does not import the kiosk.

* ID reader — ``driver`` (``sam_serial`` | ``sam_simulator``), ``port``, ``baud``.
* Camera — ``driver`` (``replay`` | ``opencv``), ``source``, ``width``, ``height``.
* Receipt printer — ``driver`` (``none`` | ``file`` | ``serial`` | ``usb`` | ``network``),
  ``target`` (see ``hardware.printer_devices``).
* Barcode reader — optional ``passes``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hardware.camera import SAMPLES_DIR, OpenCVCamera, ReplayCamera
from hardware.interfaces import Camera, IdCard, IdCardReader
from hardware.pcsc_reader import PcscCardReader
from hardware.sam_reader import SamSerialReader
from hardware.sam_simulator import SamSimulator
from hardware.sample_cards import ELDERLY_VILLAGER

ID_READER_DRIVERS = ("sam_serial", "sam_simulator")
CAMERA_DRIVERS = ("replay", "opencv")
DEFAULT_BAUD = 115200


class SimulatedIdReader:
    """A real ``SamSerialReader`` talking to a ``SamSimulator`` it owns; closes both.

    ``.simulator`` lets a demo or a test present and remove cards.
    """

    def __init__(self, simulator: SamSimulator, reader: SamSerialReader) -> None:
        self.simulator = simulator
        self.reader = reader

    def read_card(self, timeout: float) -> IdCard | None:
        return self.reader.read_card(timeout)

    def close(self) -> None:
        try:
            self.reader.close()
        finally:
            self.simulator.close()


def build_id_reader(cfg: Any, card: IdCard | None = ELDERLY_VILLAGER) -> IdCardReader:
    """The ID card reader for ``cfg``; ``card`` is what the simulator starts with."""
    driver = getattr(cfg, "driver", None)
    baud = getattr(cfg, "baud", None) or DEFAULT_BAUD
    if driver == "sam_serial":
        return SamSerialReader(getattr(cfg, "port", "") or "", baud=baud)
    if driver == "sam_simulator":
        simulator = SamSimulator(card=card, auto_replace=True)
        try:
            reader = SamSerialReader(simulator.port, baud=baud)
        except BaseException:
            simulator.close()
            raise
        return SimulatedIdReader(simulator, reader)
    raise ValueError(f"unknown ID reader driver {driver!r}; one of {ID_READER_DRIVERS}")


def build_pcsc_reader(cfg: Any | None = None) -> PcscCardReader:
    """The PC/SC reader for staff and social security cards. Lazy: nothing opens until used."""
    return PcscCardReader(getattr(cfg, "reader", "") or None, pin=getattr(cfg, "pin", None) or None)


def build_camera(cfg: Any) -> Camera:
    """The camera for ``cfg``. Raises ``CameraUnavailable`` when a replay source is empty."""
    driver = getattr(cfg, "driver", None)
    source = getattr(cfg, "source", "") or ""
    if driver == "replay":
        return ReplayCamera(Path(source) if source else SAMPLES_DIR)
    if driver == "opencv":
        return OpenCVCamera(
            source or 0, width=getattr(cfg, "width", None), height=getattr(cfg, "height", None),
            focus=getattr(cfg, "focus", -1),
        )
    raise ValueError(f"unknown camera driver {driver!r}; one of {CAMERA_DRIVERS}")


def build_printer(cfg: Any) -> Any:
    """The receipt printer for ``cfg`` (``driver``: none | file | serial | usb | network, ``target``).

    Returns None for ``none``. Raises ``PrinterUnavailable`` when it cannot be opened, and
    ``ValueError`` for a bad driver or target (the settings refuse those earlier).
    """
    from hardware.printer_devices import PRINTER_DRIVERS, open_printer

    driver = getattr(cfg, "driver", "none") or "none"
    if driver not in PRINTER_DRIVERS:
        raise ValueError(f"unknown printer driver {driver!r}; one of {PRINTER_DRIVERS}")
    return open_printer(driver, getattr(cfg, "target", "") or "")


def build_barcode_reader(cfg: Any = None) -> Any:
    """The barcode decoder (libzbar with raw QR bytes and the measured preprocessing passes).

    ``cfg`` may carry ``passes`` (names from ``hardware.barcode_passes``) to override the order.
    """
    from hardware.barcode import BarcodeDecoder
    from hardware.barcode_passes import DEFAULT_PASSES

    return BarcodeDecoder(passes=tuple(getattr(cfg, "passes", None) or DEFAULT_PASSES))
