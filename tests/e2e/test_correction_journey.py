"""Issue 12's end-to-end, from the kiosk's side: an application that uses the villager's
e-certificates instead of photos (asked of the real hall while the form is filled, agreed to,
linked by the hall), a correction asked on the hall and shown at the kiosk (materials and
reason), answered by 补交材料 through the hostile proxy (answers dropped, resets, garbage,
5xx), joined once on the hall, then completed with a result that the villager's card
fetches at the kiosk (the real client, through the proxy)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from hall.core.config import load_settings as load_hall_settings
from hall.db import make_engine, make_sessionmaker
from hall.models import Application, ApplicationAttachment, ApplicationCertificate, ECertificate
from hall.services.certificates import SAMPLE_FILE
from hall.services.results import store_result
from hall.services.status import change_status
from hardware.sample_cards import ELDERLY_VILLAGER
from kiosk.catalog import load_catalog
from kiosk.i18n import Translator
from kiosk.service import KioskService
from kiosk.settings import load_settings
from offline_queue.outbox import OfflineQueue
from offline_queue.store import COMPLETED, CORRECTION_NEEDED, SUBMITTED
from offline_queue.sync import SyncEngine
from offline_queue.transport import HallClient
from tests.chaos.harness import enrolled_kiosk
from tests.chaos.proxy import FaultProxy, Faults
from tests.hall.test_county_work import load_hall_keys
from tests.screens.test_service import FakeCamera, FakeReader, Recorder, read_card
from tests.support.hall_process import HallProcess
from tests.support.result_pdfs import letter_pdf

REASON = "授权书缺少家庭成员签名，请全家签名后重新拍照"
ITEM = "GD-SAMPLE-005"  # 特困人员救助供养: household register and disability certificate are e-certificates


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    with HallProcess(tmp_path_factory.mktemp("hall")) as process:
        process.cli("certs", "load", str(SAMPLE_FILE))
        yield process


def _until(engine, done, passes=60):
    for _ in range(passes):
        engine.run_once()
        if done():
            return True
        time.sleep(0.05)
    return done()


def test_a_correction_travels_from_the_hall_to_the_villager_and_back_through_a_hostile_link(hall, tmp_path):
    data_dir = tmp_path / "kiosk"
    db_engine = make_engine(hall.db_url)
    sessions = make_sessionmaker(db_engine)
    with FaultProxy(hall.port) as proxy:
        identity = enrolled_kiosk(proxy.url, hall.enrollment_code(), data_dir)
        settings = load_settings(data_dir=data_dir, environ={})
        queue = OfflineQueue(data_dir, settings.queue.budget_bytes)
        service = KioskService(settings=settings, catalog=load_catalog(),
                               translator=Translator.load(lang="zh"),
                               id_reader=FakeReader(*[ELDERLY_VILLAGER] * 4), camera=FakeCamera(),
                               queue=queue, identity=identity)
        engine = SyncEngine(queue, HallClient(identity, timeout_s=3), backoff_base_s=0.01, backoff_max_s=0.05,
                            rng=lambda: 1.0)
        try:
            steps = service.steps
            steps.home.start_application()
            recorder = Recorder()
            read_card(service, recorder)
            assert steps.catalog.choose(ITEM)
            for name, value in (("phone", "13800138000"), ("care", "home"), ("self_care", "full")):
                steps.form.set_field(name, value)
            steps.form.enter()  # the hall is asked for the villager's certificates, through the proxy
            assert recorder.wait("certificates_changed", timeout=30) == {"state": "found"}
            assert sorted(line.name for line in steps.certificates.lines()) == ["户口簿", "残疾人证"]
            assert steps.certificates.agree()
            assert [r.id for r in steps.capture.materials_to_capture()] == ["M1"]  # only the consent form
            steps.capture.capture_page()
            number = steps.review.confirm().provisional_number
            service.finish()
            [parent] = queue.by_number(number)
            assert _until(engine, lambda: queue.get(parent.id).state == SUBMITTED)
            with sessions() as db:  # the hall linked both certificates instead of photos
                linked = db.execute(
                    select(ApplicationCertificate.material, ECertificate.cert_type)
                    .join(ECertificate, ECertificate.id == ApplicationCertificate.certificate_id)
                    .where(ApplicationCertificate.application_id == parent.id)).all()
            assert sorted(linked) == [("M3", "household_register"), ("M4", "disability_certificate")]

            with sessions() as db:  # the clerk asks for the consent form again
                change_status(db, parent.id, "correction_needed", REASON, actor="console:li",
                              materials=["M1"])
            assert _until(engine, lambda: queue.get(parent.id).state == CORRECTION_NEEDED)

            consent = "家庭经济状况核对授权书（全家成员签名）"
            service.steps.home.start_status_lookup()
            read_card(service, Recorder())
            [row] = service.steps.status.my_applications()
            assert (row.materials, row.reason, row.can_supplement) == ((consent,), REASON, True)
            assert service.steps.status.start_supplement(row.entry_id)
            service.steps.capture.capture_page()
            sent = service.steps.supplement.send()
            assert sent.materials == (consent,)
            service.finish()
            [supplement] = queue.supplements_of(parent.id)

            # the supplement's answers are lost at first (the hall did the work), then every fault
            path = f"/api/v1/applications/{parent.id}/supplements"
            proxy.faults = Faults(p_drop_answer=1.0, only_paths=(path,))
            for _ in range(3):
                engine.run_once()
            proxy.faults = Faults(latency_s=0.003, reset_every=60_000, p_reset=0.05, p_truncate=0.05,
                                  p_drop_answer=0.1, p_garbage=0.05, p_503=0.05, p_429=0.05, retry_after_s=0)
            _until(engine, lambda: queue.get(supplement.id).state == SUBMITTED, passes=200)
            proxy.faults = Faults()
            assert _until(engine, lambda: queue.get(supplement.id).state == SUBMITTED)

            with sessions() as db:
                joined = db.scalar(select(func.count()).select_from(ApplicationAttachment)
                                   .where(ApplicationAttachment.supplement_id == supplement.id))
                assert joined == 1  # exactly once, whatever the link did
                application = db.get(Application, parent.id)
                assert application.status == "supplemented"
                hall_settings = load_hall_settings(db=hall.db_url, data_dir=hall.data_dir, environ={})
                seal_key = load_hall_keys(hall).seal_private
                # the decision letter as a PDF of two pages: rendered to page images on the hall
                store_result(db, hall_settings, seal_key, application, letter_pdf(2), actor="console:li")
                change_status(db, parent.id, "completed", actor="console:li")
            assert _until(engine, lambda: queue.get(parent.id).state == COMPLETED)
            # completed straight from supplemented: accepted by that completion, so numbered then
            with sessions() as db:
                official = db.get(Application, parent.id).official_number
            assert official and queue.get(parent.id).official_number == official

            service.steps.home.start_status_lookup()
            recorder = Recorder()
            read_card(service, recorder)
            [row] = service.steps.status.my_applications()
            assert (row.state, row.results, row.can_supplement) == (COMPLETED, 1, False)
            service.steps.status.fetch_result(row.entry_id)  # the real client, through the proxy
            ready = recorder.wait("result_ready", timeout=30)
            assert (ready["printed"], ready["picture"]) == (False, True)
            assert ready["message_key"] == "result.no_printer"
            assert len(service.steps.status.result_pictures()) == 2  # every page, through the proxy
            service.finish()
            assert service.visit is None
        finally:
            service.close()
            queue.close()
            db_engine.dispose()
