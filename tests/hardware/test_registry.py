"""Driver registries: a new device model is one module plus one registry line."""

from types import SimpleNamespace as NS

import pytest
from pydantic import Field

from hardware.cameras import CAMERAS
from hardware.device_health import CAMERA, OK, device_health
from hardware.id_readers import ID_READERS
from hardware.printer_devices import PRINTERS, FilePrinterSettings, SerialPrinterSettings
from hardware.registry import Driver, DriverRegistry, DriverSettings, DriverSettingsError


class FakeCamera:
    def __init__(self, index: int) -> None:
        self.index = index
        self.closed = False

    def read_frame(self):
        return None

    def close(self) -> None:
        self.closed = True


class FakeSettings(DriverSettings):
    source: str = "0"
    index: int = Field(0, ge=0)


def _build(settings: FakeSettings) -> FakeCamera:
    return FakeCamera(settings.index)


def _probe(driver, settings, camera):
    return device_health(CAMERA, driver.name, OK, "", f"index {settings.index if settings else '?'}")


def test_a_new_driver_is_one_line():
    registry = DriverRegistry("camera", [*(CAMERAS.get(n) for n in CAMERAS.names()),
                                         Driver("fake", FakeSettings, _build, _probe)])
    assert registry.names() == ("replay", "opencv", "fake")
    camera = registry.build(NS(driver="fake", source="", index=3, width=1))  # other keys are ignored
    assert isinstance(camera, FakeCamera) and camera.index == 3
    assert registry.probe(NS(driver="fake", index=2)).detail == "index 2"


def test_unknown_driver_and_refused_values():
    with pytest.raises(ValueError, match=r"unknown camera driver 'webcam'; one of \('replay', 'opencv'\)"):
        CAMERAS.build(NS(driver="webcam"))
    with pytest.raises(DriverSettingsError) as info:
        PRINTERS.settings_for(NS(driver="usb", target="0416"))
    assert info.value.field == "target" and "VID:PID" in info.value.reason
    with pytest.raises(DriverSettingsError) as info:
        ID_READERS.settings_for(NS(driver="sam_serial", port="/dev/ttyUSB0", baud=True))  # strict: not 1
    assert info.value.field == "baud"


def test_driver_settings_are_frozen_and_read_by_attribute():
    _driver, settings = PRINTERS.settings_for(NS(driver="serial", target=" /dev/ttyS0@19200 "))
    assert isinstance(settings, SerialPrinterSettings)
    assert settings.params() == {"port": "/dev/ttyS0", "baud": 19200}
    with pytest.raises(ValueError):
        settings.target = "x"
    assert isinstance(PRINTERS.settings_for(NS(driver="file", target="/tmp/r.bin"))[1], FilePrinterSettings)


def test_the_settings_offer_exactly_the_registered_drivers(tmp_path):
    from kiosk.errors import ConfigError
    from kiosk.settings import load_settings

    s = load_settings(data_dir=tmp_path, environ={})
    for key, registry in [("devices.camera.driver", CAMERAS), ("devices.id_reader.driver", ID_READERS),
                          ("devices.printer.driver", PRINTERS)]:
        with pytest.raises(ConfigError) as info:
            s.with_overrides({key: "nonesuch"})
        assert str(info.value).startswith(f"{key}: must be one of {', '.join(registry.names())}")
