"""A completed application's result handed to the kiosk that sent it, for the applicant whose
card is placed (issue 12 part 2; docs/protocol.md 11.3): a real hall, the kiosk's real client."""

from __future__ import annotations

import pytest

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

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF decision letter"


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
            store_result(db, load_settings(db=hall.db_url, data_dir=hall.data_dir, environ={}),
                         load_hall_keys(hall).seal_private, application, PDF, actor="console:li")
            change_status(db, app.id, "completed", actor="console:li", walk=True)

        result = kiosk.client.fetch_result(app.id, 0, proof)
        assert (result.media_type, result.count) == ("application/pdf", 1)
        assert result.data.startswith(b"%PDF") and PDF not in repr(result).encode()
        for who, index, given in ((kiosk, 0, result_proof("0" * 64, app.id)),  # another villager's card
                                  (kiosk, 1, proof),  # no second result
                                  (other, 0, proof)):  # another kiosk, even with the proof
            with pytest.raises(HallRejected) as refused:
                who.client.fetch_result(app.id, index, given)
            assert (refused.value.status, refused.value.code) == (404, "result_not_found")
        with sessions() as db:
            handed = db.query(AuditEntry).filter(AuditEntry.action == "result_handed_to_kiosk").count()
        assert handed == 1
    finally:
        kiosk.queue.close()
        other.queue.close()
        engine.dispose()
