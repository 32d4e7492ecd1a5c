"""The resident ID card readers: the SAM serial reader and its simulator, and their registry.

``ID_READERS`` lists them; ``hardware.factory.build_id_reader`` and the settings use it.
A new reader model: a module with a settings model, a build and a probe, and one line in
``ID_READERS``.
"""

from __future__ import annotations

import os

from pydantic import Field

from hardware.device_health import DEGRADED, ID_READER, MISSING, OK, DeviceHealth, device_health
from hardware.errors import HardwareError, ReaderFault, ReaderNotFound, ReaderTimeout
from hardware.interfaces import IdCard, IdCardReader
from hardware.registry import Driver, DriverRegistry, DriverSettings
from hardware.sam_reader import SamSerialReader
from hardware.sam_simulator import SamSimulator
from hardware.sample_cards import ELDERLY_VILLAGER

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

    def card_present(self) -> bool:
        return self.reader.card_present()

    def close(self) -> None:
        try:
            self.reader.close()
        finally:
            self.simulator.close()


class SamSimulatorSettings(DriverSettings):
    baud: int = Field(DEFAULT_BAUD, ge=1200)


class SamSerialSettings(SamSimulatorSettings):
    port: str = ""


def build_sam_serial(settings: SamSerialSettings, card: IdCard | None = None) -> IdCardReader:
    """The reader on ``settings.port``; ``card`` is for simulators only."""
    return SamSerialReader(settings.port, baud=settings.baud)


def build_sam_simulator(
    settings: SamSimulatorSettings, card: IdCard | None = ELDERLY_VILLAGER
) -> SimulatedIdReader:
    """A SAM simulator on a pseudo-terminal holding ``card``, and a real reader talking to it."""
    simulator = SamSimulator(card=card, auto_replace=True)
    try:
        reader = SamSerialReader(simulator.port, baud=settings.baud)
    except BaseException:
        simulator.close()
        raise
    return SimulatedIdReader(simulator, reader)


def probe_sam_serial(
    driver: Driver[IdCardReader], settings: SamSerialSettings | None, reader: IdCardReader | None
) -> DeviceHealth:
    """The port first (a missing one says more than a timeout), then one "SAM status" command."""
    if reader is None and settings is not None:
        if not settings.port:
            return device_health(ID_READER, driver.name, MISSING, "not_configured",
                                 "devices.id_reader.port is empty")
        if not os.path.exists(settings.port):
            return device_health(ID_READER, driver.name, MISSING, "port_missing",
                                 f"{settings.port} does not exist")
    return probe_sam(driver, settings, reader)


def probe_sam(
    driver: Driver[IdCardReader], settings: DriverSettings | None, reader: IdCardReader | None
) -> DeviceHealth:
    """One "SAM status" command (0.5 s) to the reader given, or to one opened for the probe."""
    name = driver.name
    own = reader is None
    try:
        if reader is None:
            reader = driver.build(settings, card=None)
    except ReaderNotFound as exc:
        return device_health(ID_READER, name, MISSING, "port_unopenable", str(exc))
    except (ValueError, HardwareError) as exc:
        return device_health(ID_READER, name, MISSING, "not_configured", str(exc))
    try:
        sam = reader.reader if isinstance(reader, SimulatedIdReader) else reader
        if not isinstance(sam, SamSerialReader):
            return device_health(ID_READER, name, OK, "", f"{type(sam).__name__}: not probed")
        saved = sam.timeout, sam.retries
        sam.timeout, sam.retries = 0.5, 1
        try:
            status = sam.sam_status()
        finally:
            sam.timeout, sam.retries = saved
        if status != 0x90:
            return device_health(ID_READER, name, DEGRADED, "sam_fault", f"SAM status {status:02X}")
        if isinstance(reader, SimulatedIdReader):
            return device_health(ID_READER, name, OK, "simulated", "SAM simulator on a pseudo-terminal")
        return device_health(ID_READER, name, OK, "", f"SAM answers on {sam.port}")
    except ReaderTimeout as exc:
        return device_health(ID_READER, name, DEGRADED, "no_answer", str(exc))
    except ReaderFault as exc:
        return device_health(ID_READER, name, DEGRADED, "sam_fault", str(exc))
    except ReaderNotFound as exc:
        return device_health(ID_READER, name, MISSING, "port_unopenable", str(exc))
    except HardwareError as exc:
        return device_health(ID_READER, name, DEGRADED, "no_answer", f"{type(exc).__name__}: {exc}")
    finally:
        if own:
            reader.close()


ID_READERS: DriverRegistry[IdCardReader] = DriverRegistry("ID reader", [
    Driver("sam_serial", SamSerialSettings, build_sam_serial, probe_sam_serial),
    Driver("sam_simulator", SamSimulatorSettings, build_sam_simulator, probe_sam),
])
