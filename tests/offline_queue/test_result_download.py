"""A completed application's result handed to the kiosk that sent it, for the applicant whose
card is placed (issue 12 part 2; docs/protocol.md 11.3): a real hall, the kiosk's real client.
Every result, and a PDF's pages rendered once on the hall, fetched page by page."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from hall.core.config import load_settings
from hall.db import make_engine, make_sessionmaker
from hall.models import Application, AuditEntry
from hall.services.results import store_result
from hall.services.status import change_status
from kiosk.result_proof import result_proof
from offline_queue.errors import HallRejected
from tests.hall.test_county_work import load_hall_keys
from tests.offline_queue.test_queue_sync import Kiosk
from tests.support.hall_process import HallProcess
from tests.support.result_pdfs import letter_pdf

PDF = letter_pdf(2)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 400), "white").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    with HallProcess(tmp_path_factory.mktemp("hall")) as process:
        yield process


def test_the_result_goes_only_to_the_applicant_at_the_kiosk_that_sent_it(hall, tmp_path, make_app):
    kiosk, other = Kiosk(hall, tmp_path / "kiosk"), Kiosk(hall, tmp_path / "other")
    engine = make_engine(hall.db_url)
    sessions = make_sessionmaker(engine)
    try:
        app = make_app(county=kiosk.identity.county, device_id=kiosk.identity.device_id)
        proof = result_proof(app.applicant_tag, app.id)
        app.document["result_proof"] = proof  # as kiosk.applications seals it
        kiosk.queue.enqueue(app, kiosk.identity.hall_seal_public_key)
        assert kiosk.engine.run_once().sent == 1

        with pytest.raises(HallRejected) as early:
            kiosk.client.fetch_result(app.id, 0, proof)
        assert (early.value.status, early.value.code) == (409, "not_completed")
        with sessions() as db:
            application = db.get(Application, app.id)
            settings = load_settings(db=hall.db_url, data_dir=hall.data_dir, environ={})
            seal_key = load_hall_keys(hall).seal_private
            store_result(db, settings, seal_key, application, PDF, actor="console:li")
            store_result(db, settings, seal_key, application, _png(), actor="console:li")
            change_status(db, app.id, "completed", actor="console:li", walk=True)

        result = kiosk.client.fetch_result(app.id, 0, proof)  # as attached: the PDF itself
        assert (result.media_type, result.count, result.pages, result.page) == ("application/pdf", 2, 2, None)
        assert result.data.startswith(b"%PDF") and PDF not in repr(result).encode()
        # The hall rendered the letter's pages once: the kiosk fetches each as a grey PNG.
        pages = [kiosk.client.fetch_result(app.id, 0, proof, page=n) for n in range(2)]
        assert [(p.media_type, p.page, p.pages) for p in pages] == [("image/png", 0, 2), ("image/png", 1, 2)]
        with Image.open(io.BytesIO(pages[1].data)) as drawn:
            assert (drawn.mode, drawn.width) == ("L", 1240) and drawn.getextrema()[0] < 50  # black text
        picture = kiosk.client.fetch_result(app.id, 1, proof, page=0)  # an image is its own page 0
        assert (picture.media_type, picture.pages, picture.page) == ("image/png", 1, 0)
        for who, index, given, page in ((kiosk, 0, result_proof("0" * 64, app.id), None),  # another card
                                        (kiosk, 2, proof, None),  # no third result
                                        (kiosk, 0, proof, 2),  # no third page
                                        (other, 0, proof, 0)):  # another kiosk, even with the proof
            with pytest.raises(HallRejected) as refused:
                who.client.fetch_result(app.id, index, given, page=page)
            assert (refused.value.status, refused.value.code) == (404, "result_not_found")
        with sessions() as db:
            handed = db.query(AuditEntry).filter(AuditEntry.action == "result_handed_to_kiosk").count()
        assert handed == 4
    finally:
        kiosk.queue.close()
        other.queue.close()
        engine.dispose()
