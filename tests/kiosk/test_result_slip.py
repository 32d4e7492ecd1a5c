"""A completed application's result at the kiosk (issue 12 part 2): fetched off the UI thread
with the applicant's proof, printed as a slip on the (simulated, real-driver) printer, or
shown with where to get the paper; nothing of it outlives the visit."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from hardware.printer import encode_text
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
    """The hall's answers, as the real client returns them (the real one: test_result_download.py).

    ``pages`` page images of each of ``count`` results (a PDF rendered on the hall); with
    ``pages=0`` a hall that renders none, answering each result whole."""

    def __init__(self, media_type: str, data: bytes, count: int = 1, pages: int = 1) -> None:
        self.media_type, self.data, self.count, self.pages = media_type, data, count, pages
        self.asked: list[tuple[str, int, str, int | None]] = []

    def __call__(self, identity, timeout_s):
        return self

    def fetch_result(self, application_id, index, proof, page=None):
        self.asked.append((application_id, index, proof, page))
        if self.pages == 0 or page is None:
            return ResultFile(media_type=self.media_type, data=self.data, count=self.count, pages=self.pages)
        return ResultFile(media_type="image/png", data=_png(), count=self.count, pages=self.pages, page=page)


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


@pytest.mark.parametrize(("media_type", "pages", "key", "picture"),
                         [("image/png", 1, "result.no_printer", True),
                          ("application/pdf", 2, "result.no_printer", True),  # pages rendered on the hall
                          ("application/pdf", 0, "result.pdf", False)])  # a hall that renders none
def test_without_a_printer_the_result_is_shown_and_wiped_with_the_visit(tmp_path, media_type, pages, key,
                                                                        picture):
    service = _service(tmp_path)
    try:
        row = _completed_with_a_result(service)
        hall = FakeHall(media_type, _png() if media_type != "application/pdf" else b"%PDF-1.4 decision",
                        pages=pages)
        service.steps.status.results.client_factory = hall
        recorder = Recorder()
        service.bind(recorder)
        assert service.steps.status.fetch_result(row.entry_id)
        ready = recorder.wait("result_ready", timeout=10)
        assert ready == {"entry_id": row.entry_id, "printed": False, "picture": picture,
                         "message": service.t(key), "message_key": key}
        proof = result_proof(service.visit.applicant_tag, row.entry_id)
        assert hall.asked == [(row.entry_id, 0, proof, n) for n in range(max(1, pages))]
        assert len(service.steps.status.result_pictures()) == (pages if picture else 0)
        kept = list(service.visit.result_pages)
        service.finish()
        assert all(p.data == bytearray() for p in kept) and service.visit is None
        assert not any(p.name.startswith("result") for p in tmp_path.iterdir())
    finally:
        service.close()


def test_a_picture_result_prints_as_a_slip_and_a_receipt_qr_proves_no_applicant(tmp_path):
    with PrinterSimulator() as sim:
        service = _service(tmp_path, driver="serial", target=f"{sim.port}@115200")
        try:
            row = _completed_with_a_result(service)
            # two results, each a PDF of two pages rendered on the hall: four slips, each numbered
            service.steps.status.results.client_factory = FakeHall("application/pdf", b"%PDF-1.4", count=2,
                                                                   pages=2)
            recorder = Recorder()
            service.bind(recorder)
            service.steps.status.fetch_result(row.entry_id)
            ready = recorder.wait("result_ready", timeout=20)
            assert ready["printed"] is True and ready["message"] == "结果单已打印，请取走"
            deadline = time.monotonic() + 20
            while sim.received.count(CUT) < 4 and time.monotonic() < deadline:
                sim.wait_for(CUT, timeout=1)
            data = sim.received
            # a raster picture per slip; the cut's two bytes may also occur inside a picture's bits
            assert data.count(b"\x1dv0") == 4 and data.count(CUT) >= 4
            assert data.count(b"441423-000009") == 4  # the number on each
            for n in range(1, 5):
                assert encode_text(f"第 {n} 页，共 4 页") in data
            service.finish()

            service.steps.home.start_status_lookup()
            service.visit.lookup_number = "441423-000009"  # a receipt's QR: the number, not the person
            with pytest.raises(ActionFailed) as refused:
                service.steps.status.fetch_result(row.entry_id)
            assert refused.value.message_key == "result.card_needed"
        finally:
            service.close()
