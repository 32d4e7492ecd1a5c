"""Device health: ok / degraded / missing with a reason, for every device."""

import dataclasses
import json
from types import SimpleNamespace as NS

import pytest

from hardware import sam_protocol as proto
from hardware.factory import build_pcsc_reader
from hardware.health import (
    DeviceHealth,
    check_devices,
    probe_camera,
    probe_id_reader,
    probe_pcsc,
    probe_printer,
)
from hardware.pcsc_reader import PcscCardReader
from hardware.sam_reader import SamSerialReader
from hardware.sam_simulator import SamSimulator
from tests.support.pcscd import VPCD_READER

SIM_READER = NS(driver="sam_simulator", port="", baud=115200)
REPLAY = NS(driver="replay", source="", width=1920, height=1080)


def test_report_is_frozen_and_serialisable():
    report = check_devices(NS(id_reader=SIM_READER, camera=REPLAY), clock=lambda: 0)
    assert report.checked_at == "1970-01-01T00:00:00Z"
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.devices[0].state = "ok"
    data = json.loads(json.dumps(report.to_json()))
    assert [d["device"] for d in data["devices"]] == ["id_reader", "pcsc_reader", "camera"]
    assert report.get("id_reader").state == "ok" and report.get("id_reader").reason == "simulated"
    assert report.get("camera").state == "ok"
    assert report.get("pcsc_reader").required is False  # not configured: optional
    assert report.state in ("ok", "degraded", "missing")
    with pytest.raises(ValueError):
        DeviceHealth("camera", "x", "broken")


def test_missing_serial_port(tmp_path):
    health = probe_id_reader(NS(driver="sam_serial", port=str(tmp_path / "ttyUSB0"), baud=115200))
    assert (health.state, health.reason) == ("missing", "port_missing")
    report = check_devices(NS(id_reader=NS(driver="sam_serial", port=str(tmp_path / "x"), baud=9600),
                              camera=REPLAY))
    assert report.state == "missing"
    assert [d.device for d in report.missing_for("identify")] == ["id_reader"]
    assert report.missing_for("capture") == []


def test_a_real_serial_reader_ok_mute_and_faulty():
    with SamSimulator(card=None) as sim:
        cfg = NS(driver="sam_serial", port=sim.port, baud=115200)
        assert probe_id_reader(cfg).state == "ok"
        sim.inject("mute", count=10)
        mute = probe_id_reader(cfg)
        assert (mute.state, mute.reason) == ("degraded", "no_answer")
        sim.clear_faults()
        sim.inject_status(proto.SAM_STATUS, proto.Status.SELF_TEST_FAILED)
        health = probe_id_reader(cfg)
        assert (health.state, health.reason) == ("degraded", "sam_fault")


def test_a_running_reader_is_asked_not_reopened():
    with SamSimulator(card=None) as sim, SamSerialReader(sim.port) as reader:
        health = probe_id_reader(NS(driver="sam_serial", port=sim.port, baud=115200), reader)
        assert health.state == "ok" and reader.stats["opens"] == 1
        assert reader.timeout == 2.0  # the probe's short timeout was put back


def test_cameras(tmp_path):
    assert probe_camera(REPLAY).state == "ok"
    empty = probe_camera(NS(driver="replay", source=str(tmp_path), width=1, height=1))
    assert (empty.state, empty.reason) == ("missing", "no_camera")
    assert probe_camera(None).reason == "not_configured"


def test_printer_asks_the_device():
    class Printer:
        def health(self):
            return DeviceHealth("printer", "file", "degraded", "paper_low")

    assert probe_printer(NS(driver="file"), Printer()).reason == "paper_low"

    class Broken:
        def health(self):
            raise OSError("gone")

    assert probe_printer(NS(driver="file"), Broken()).state == "missing"
    assert "printer" not in [d.device for d in check_devices(NS(id_reader=SIM_READER, camera=REPLAY,
                                                                 printer=NS(driver="none"))).devices]


@pytest.mark.pcsc
def test_pcsc_reader_health(pcscd):
    health = probe_pcsc(NS(reader=VPCD_READER, enabled=True))
    assert health.state == "ok" and health.reason == "virtual" and health.required
    absent = probe_pcsc(NS(reader="Gemalto PC Twin", enabled=True))
    assert (absent.state, absent.reason) == ("missing", "no_reader")
    assert isinstance(build_pcsc_reader(NS(reader=VPCD_READER)), PcscCardReader)
    assert build_pcsc_reader(None).reader is None
