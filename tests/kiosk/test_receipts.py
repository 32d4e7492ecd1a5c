"""The receipt after confirming: printed on the configured printer, never at the application's cost."""

from __future__ import annotations

import time

import pytest

from hardware.printer_simulator import PrinterSimulator
from hardware.sample_cards import ELDERLY_VILLAGER
from kiosk.catalog import load_catalog
from kiosk.errors import ConfigError
from kiosk.i18n import Translator
from kiosk.service import KioskService
from kiosk.settings import load_settings
from offline_queue.outbox import OfflineQueue
from tests.screens.scenarios import make_identity
from tests.screens.test_service import Clock, FakeCamera, FakeReader, Recorder, fill_in, read_card

CUT = b"\x1dV\x00"


def make_service(tmp_path, **printer):
    settings = load_settings(data_dir=tmp_path, environ={})
    if printer:
        settings = settings.with_overrides({f"devices.printer.{k}": v for k, v in printer.items()})
    clock = Clock()
    queue = OfflineQueue(tmp_path, settings.queue.budget_bytes, clock=clock)
    return KioskService(settings=settings, catalog=load_catalog(), translator=Translator.load(lang="zh"),
                        id_reader=FakeReader(ELDERLY_VILLAGER), camera=FakeCamera(), queue=queue,
                        identity=make_identity(settings.kiosk.county, settings.hall.url), clock=clock)


def confirm_one(service):
    recorder = Recorder()
    service.steps.home.start_application()
    read_card(service, recorder)
    fill_in(service)
    return service.steps.review.confirm(), recorder


def test_the_slip_prints_with_no_personal_data(tmp_path):
    with PrinterSimulator() as sim:
        service = make_service(tmp_path, driver="serial", target=f"{sim.port}@115200")
        receipt, recorder = confirm_one(service)
        data = sim.wait_for(CUT, timeout=10)
        # The job asks the printer for its status after the cut: let it finish before closing.
        service.steps.receipt.last_print.result(timeout=10)
        service.finish()
        service.steps.receipt.printer.close()
    assert data.endswith(CUT)
    assert receipt.provisional_number.encode() in data and receipt.qr_text.encode() in data
    assert "办事回执".encode("gb18030") in data
    card = ELDERLY_VILLAGER
    for secret in (card.name, card.id_number, card.address, "13800138000"):
        for encoding in ("gb18030", "utf-8"):
            assert secret.encode(encoding) not in data
    assert all(event != "receipt_print_failed" for event, _ in recorder.events)


@pytest.mark.parametrize(
    ("target", "key"),
    [("paper_out", "hardware.printer_paper_out"), ("/dev/no-such-printer", "hardware.printer_unavailable")],
)
def test_a_printer_that_cannot_print_never_costs_the_application(tmp_path, target, key):
    with PrinterSimulator(paper="out") as sim:
        port = sim.port if target == "paper_out" else target
        service = make_service(tmp_path, driver="serial", target=port)
        receipt, recorder = confirm_one(service)
        service.bind(recorder)
        payload = recorder.wait("receipt_print_failed", timeout=10)
        assert sim.received == b""
        if service.steps.receipt.printer is not None:
            service.steps.receipt.printer.close()
    assert payload["message_key"] == key
    assert "受理号" in payload["notice"]
    assert service.steps.receipt.print_notice(receipt.provisional_number) == payload["notice"]
    assert service.queue.summary().counts["sealed"] == 1  # queued all the same
    service.finish()


def test_no_printer_configured_prints_nothing(tmp_path):
    service = make_service(tmp_path)
    receipt, recorder = confirm_one(service)
    time.sleep(0.2)
    receipts = service.steps.receipt
    assert receipts.printer is None and receipts.print_notice(receipt.provisional_number) == ""
    assert all(event != "receipt_print_failed" for event, _ in recorder.events)
    service.finish()


@pytest.mark.parametrize(
    ("values", "message"),
    [({"driver": "lpt"}, "devices.printer.driver: must be one of none, file, serial, usb, network"),
     ({"driver": "serial"}, "devices.printer.target: must be set for the serial driver"),
     ({"driver": "usb", "target": "printer"}, "devices.printer.target: usb target is VID:PID"),
     ({"driver": "network", "target": "10.0.0.5:99999"}, "devices.printer.target: network target"),
     ({"target": 5}, "devices.printer.target: must be a string")],
)
def test_printer_settings_are_checked_by_key(tmp_path, values, message):
    lines = ["[devices.printer]"] + [f"{k} = {v!r}".replace("'", '"') for k, v in values.items()]
    config = tmp_path / "kiosk.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file=config, data_dir=tmp_path, environ={})
    assert str(caught.value).startswith(message)


def test_printer_settings_default_to_none_and_accept_each_driver(tmp_path):
    assert load_settings(data_dir=tmp_path, environ={}).devices.printer.driver == "none"
    config = tmp_path / "kiosk.toml"
    for driver, target in [("file", "/dev/usb/lp0"), ("serial", "/dev/ttyS0@9600"), ("usb", "0416:5011"),
                           ("network", "192.168.1.50")]:
        config.write_text(f'[devices.printer]\ndriver = "{driver}"\ntarget = "{target}"\n', encoding="utf-8")
        printer = load_settings(config_file=config, data_dir=tmp_path, environ={}).devices.printer
        assert (printer.driver, printer.target) == (driver, target)


def test_a_grid_workers_application_says_so_on_the_slip():
    from kiosk.receipts import receipt_slip
    from kiosk.service import Receipt

    t = Translator.load(lang="zh")
    base = dict(provisional_number="KC1A5-20261128-0001", qr_text="http://hall/track/KC1A5-20261128-0001",
                service_name="城乡居民基本养老保险参保登记", created_at="2026-11-28 12:30", visits_needed=0)
    assert receipt_slip(Receipt(**base), t).agent_note == ""
    assert receipt_slip(Receipt(**base, agent="GW-441423-0007"), t).agent_note == "网格员 GW-441423-0007 代办"
