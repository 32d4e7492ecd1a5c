"""Builds the devices the settings ask for, by looking the driver up in its kind's registry.

``cfg`` is read by attribute (the ``kiosk.settings`` sections, or any object with the
same attributes); this package does not import the kiosk. Which drivers exist, and what
each reads from ``cfg``, is in the registries (``hardware.registry``):

* ID reader — ``hardware.id_readers.ID_READERS`` (``sam_serial`` | ``sam_simulator``).
* Camera — ``hardware.cameras.CAMERAS`` (``replay`` | ``opencv``).
* Receipt printer — ``hardware.printer_devices.PRINTERS`` (``none`` | ``file`` | ``serial``
  | ``usb`` | ``network``).
* PC/SC reader and barcode decoder — one implementation each, built here.

An unknown driver or a value the driver refuses raises ``ValueError`` (the settings refuse
those at start-up already).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hardware.cameras import CAMERAS
from hardware.id_readers import ID_READERS, SimulatedIdReader
from hardware.interfaces import Camera, IdCard, IdCardReader
from hardware.pcsc_reader import PcscCardReader
from hardware.printer import EscposPrinter
from hardware.printer_devices import PRINTERS
from hardware.sample_cards import ELDERLY_VILLAGER

if TYPE_CHECKING:  # the code stack (OpenCV, zbar) is imported when a decoder is built, not with the factory
    from hardware.barcode import BarcodeDecoder

__all__ = [
    "SimulatedIdReader", "build_barcode_reader", "build_camera", "build_id_reader", "build_pcsc_reader",
    "build_printer",
]


def build_id_reader(cfg: object, card: IdCard | None = ELDERLY_VILLAGER) -> IdCardReader:
    """The ID card reader for ``cfg``; ``card`` is what a simulator starts with."""
    return ID_READERS.build(cfg, card=card)


def build_pcsc_reader(cfg: object | None = None) -> PcscCardReader:
    """The PC/SC reader for staff and social security cards. Lazy: nothing opens until used."""
    return PcscCardReader(getattr(cfg, "reader", "") or None, pin=getattr(cfg, "pin", None) or None)


def build_camera(cfg: object) -> Camera:
    """The camera for ``cfg``. Raises ``CameraUnavailable`` when a replay source is empty."""
    return CAMERAS.build(cfg)


def build_printer(cfg: object) -> EscposPrinter | None:
    """The receipt printer for ``cfg`` (``driver``, ``target``); None for ``none``.

    Raises ``PrinterUnavailable`` when it cannot be opened.
    """
    if not (getattr(cfg, "driver", None) or ""):
        return None
    return PRINTERS.build(cfg)


def build_barcode_reader(cfg: object | None = None) -> BarcodeDecoder:
    """The barcode decoder (libzbar with raw QR bytes and the measured preprocessing passes).

    ``cfg`` may carry ``passes`` (names from ``hardware.barcode_passes``) to override the order.
    """
    from hardware.barcode import BarcodeDecoder
    from hardware.barcode_passes import DEFAULT_PASSES

    return BarcodeDecoder(passes=tuple(getattr(cfg, "passes", None) or DEFAULT_PASSES))
