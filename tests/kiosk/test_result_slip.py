"""A completed application's result at the kiosk (issue 12 part 2): fetched off the UI thread
with the applicant's proof, printed as a slip on the (simulated, real-driver) printer, or
shown with where to get the paper; nothing of it outlives the visit."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from hardware.printer_simulator import PrinterSimulator
from hardware.sample_cards import ELDERLY_VILLAGER
from kiosk.catalog import load_catalog
from kiosk.i18n import Translator
from kiosk.presentation import ActionFailed
from kiosk.result_proof import result_proof
from kiosk.service import KioskService
from kiosk.settings import load_settings
from offline_queue.outbox import OfflineQueue
from offline_queue.transport import ResultFile, StatusChange
from tests.screens.scenarios import make_identity
from tests.screens.test_service import FakeCamera, FakeReader, Recorder, fill_in, read_card
from tests.support.clock import ManualClock

CUT = b"\x1dV"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 800), "white").save(buffer, "PNG")
    return buffer.getvalue()


class FakeHall:
    """The hall's answer, as the real client returns it (the real one: test_result_download.py)."""

    def __init__(self, media_type: str, data: bytes) -> None:
        self.file = ResultFile(media_type=media_type, data=data, count=1)
        self.asked: list[tuple[str, int, str]] = []

    def __call__(self, identity, timeout_s):
        return self

    def fetch_result(self, application_id, index, proof):
        self.asked.append((application_id, index, proof))
        return self.file


def _service(tmp_path, **printer):
    settings = load_settings(data_dir=tmp_path, environ={})
    if printer:
        settings = settings.with_overrides({f"devices.printer.{k}": v for k, v in printer.items()})
    clock = ManualClock()
    return KioskService(settings=settings, catalog=load_catalog(), translator=Translator.load(lang="zh"),
                        id_reader=FakeReader(*[ELDERLY_VILLAGER] * 3), camera=FakeCamera(),
                        queue=OfflineQueue(tmp_path, settings.queue.budget_bytes, clock=clock),
                        identity=make_identity(settings.kiosk.county, settings.hall.url), clock=clock)


def _completed_with_a_result(service):
    service.steps.home.start_application()
    read_card(service, Recorder())
    fill_in(service)
    number = service.steps.review.confirm().provisional_number
    service.finish()
    [entry] = service.queue.by_number(number)
    service.queue.mark_submitted(entry.id, "441423-000009")
    service.queue.apply_status(StatusChange(id=entry.id, status="completed", official_number="441423-000009",
                                            reason="", changed_at="", results=1))
    service.steps.home.start_status_lookup()
    read_card(service, Recorder())
    [row] = service.steps.status.my_applications()
    assert (row.state, row.results) == ("completed", 1)
    return row


@pytest.mark.parametrize(("media_type", "key", "picture"),
                         [("image/png", "result.no_printer", True), ("application/pdf", "result.pdf", False)])
def test_without_a_printer_the_result_is_shown_and_wiped_with_the_visit(tmp_path, media_type, key, picture):
    service = _service(tmp_path)
    try:
        row = _completed_with_a_result(service)
        hall = FakeHall(media_type, _png() if picture else b"%PDF-1.4 decision")
        service.steps.status.results.client_factory = hall
        recorder = Recorder()
        service.bind(recorder)
        assert service.steps.status.fetch_result(row.entry_id)
        ready = recorder.wait("result_ready", timeout=10)
        assert ready == {"entry_id": row.entry_id, "printed": False, "picture": picture,
                         "message": service.t(key), "message_key": key}
        tag = service.visit.applicant_tag
        assert hall.asked == [(row.entry_id, 0, result_proof(tag, row.entry_id))]
        shown = service.steps.status.result_picture()
        assert (shown is not None) is picture
        page = service.visit.result_page
        service.finish()
        assert page.data == bytearray() and service.visit is None
        assert not any(p.name.startswith("result") for p in tmp_path.iterdir())
    finally:
        service.close()


def test_a_picture_result_prints_as_a_slip_and_a_receipt_qr_proves_no_applicant(tmp_path):
    with PrinterSimulator() as sim:
        service = _service(tmp_path, driver="serial", target=f"{sim.port}@115200")
        try:
            row = _completed_with_a_result(service)
            service.steps.status.results.client_factory = FakeHall("image/png", _png())
            recorder = Recorder()
            service.bind(recorder)
            service.steps.status.fetch_result(row.entry_id)
            ready = recorder.wait("result_ready", timeout=20)
            assert ready["printed"] is True and ready["message"] == "结果单已打印，请取走"
            data = sim.wait_for(CUT, timeout=10)
            assert b"\x1dv0" in data and b"441423-000009" in data  # a raster picture, the number
            service.finish()

            service.steps.home.start_status_lookup()
            service.visit.lookup_number = "441423-000009"  # a receipt's QR: the number, not the person
            with pytest.raises(ActionFailed) as refused:
                service.steps.status.fetch_result(row.entry_id)
            assert refused.value.message_key == "result.card_needed"
        finally:
            service.close()
