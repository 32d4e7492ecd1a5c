"""A supplement (new pages answering a correction) sealed and queued on the kiosk, sent
exactly once by the same sync engine and upload path, joined to the same application on
the real hall (issue 12 part 3, docs/protocol.md 11.1)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest

from hall.db import make_engine, make_sessionmaker
from hall.models import Application as HallApplication
from hall.services.status import change_status
from offline_queue.store import CORRECTION_NEEDED, SEALED, SUBMITTED, SUPPLEMENT
from tests.offline_queue.conftest import Attachment
from tests.offline_queue.test_queue_sync import Kiosk
from tests.support.hall_process import HallProcess


@dataclass(frozen=True)
class Supplement:
    id: str
    created_at: str
    document: dict
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    with HallProcess(tmp_path_factory.mktemp("hall")) as process:
        yield process


def test_supplement_is_sealed_sent_once_and_joined(hall, tmp_path, make_app):
    kiosk = Kiosk(hall, tmp_path / "kiosk")
    engine = make_engine(hall.db_url)
    sessions = make_sessionmaker(engine)
    try:
        parent = kiosk.enqueue(make_app, service_code="GD-SAMPLE-001")
        assert kiosk.engine.run_once().sent == 1
        with sessions() as db:
            change_status(db, parent.id, "correction_needed", "户口簿照片看不清", actor="console:li",
                          materials=["M1"])
        assert kiosk.engine.run_once().status_updates == 1
        parent = kiosk.queue.get(parent.id)
        assert parent.state == CORRECTION_NEEDED

        page = b"NEW PAGE of the household register " * 40
        supplement = Supplement(id=str(uuid.uuid4()), created_at="2026-12-01T08:00:00Z",
                                document={"id": "", "application_id": parent.id},
                                attachments=(Attachment(material="M1", data=page, media_type="image/png"),))
        entry = kiosk.queue.enqueue_supplement(parent, supplement, kiosk.identity.hall_seal_public_key)
        assert (entry.kind, entry.parent_id, entry.state) == (SUPPLEMENT, parent.id, SEALED)
        for blob in (tmp_path / "kiosk" / "blobs").rglob("*"):
            assert not blob.is_file() or b"household register" not in blob.read_bytes()  # sealed on disk
        tag = make_app().applicant_tag
        assert [e.id for e in kiosk.queue.by_applicant(tag)] == [parent.id]  # never listed as an application

        report = kiosk.engine.run_once()
        assert (report.sent, report.errors) == (1, [])
        assert kiosk.queue.get(entry.id).state == SUBMITTED
        # The answer was lost on the way (or the kiosk crashed before recording it): sent again,
        # the hall answers the first result and joins nothing twice.
        with kiosk.queue._store.transaction() as db:
            db.execute("UPDATE entries SET state = ? WHERE id = ?", (SEALED, entry.id))
        assert kiosk.engine.run_once().sent == 1
        with sessions() as db:
            application = db.get(HallApplication, parent.id)
            joined = [a.supplement_id for a in application.attachments]
            assert joined.count(entry.id) == 1 and len(joined) == 3  # two first pages, one added
            assert application.status == "supplemented"
        kiosk.engine.run_once()
        assert kiosk.queue.get(parent.id).state == SUBMITTED  # "supplemented": the county has it again
    finally:
        kiosk.queue.close()
        engine.dispose()
