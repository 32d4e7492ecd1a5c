"""E-certificates in the real app under Xvfb (marker ``gui``), with a real hall: one app start.

The sample villager's card is read, item 005 is chosen, the hall is asked while the form
is filled in, the certificates found are agreed to, only the material left is
photographed, and the receipt is printed. Then the kiosk's own sync engine sends the
sealed application to the hall, which links the certificates it names (issue 12's
end-to-end: an e-certificate used instead of a photo).
"""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from hall.models import ApplicationCertificate, ECertificate
from hall.services.certificates import SAMPLE_FILE
from kiosk.settings import load_settings
from offline_queue.identity import enroll
from offline_queue.outbox import OfflineQueue
from offline_queue.sync import SyncEngine
from offline_queue.transport import HallClient
from tests.support.hall_process import HallProcess
from tests.support.kivy_driver import ARTIFACTS, run_scenario

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]


def test_an_e_certificate_is_used_instead_of_a_photo_through_a_real_hall(tmp_path):
    data_dir = tmp_path / "data"
    with HallProcess(tmp_path / "hall") as hall:
        hall.cli("certs", "load", str(SAMPLE_FILE))
        identity = enroll(hall.url, hall.enrollment_code(), data_dir)
        result = run_scenario("tests.screens.scenarios_certificates:build_app",
                              "tests.screens.scenarios_certificates:use_certificates",
                              params={"data_dir": str(data_dir)}, timeout=240)
        # found, in big plain words; the number masked by the hall
        assert result["message"].startswith("县里已经有您的这些证件")
        assert [name for name, _number in result["found"]] == ["残疾人证", "户口簿"]
        assert all("*" in number for _name, number in result["found"])
        # capture asks only for the material no certificate covers
        assert result["capture_rows"] == ["M1"]
        assert result["review"]["电子证照"] == "户口簿、残疾人证"
        assert result["receipt_number"].startswith("K")
        # nothing of the certificates is left after the visit
        assert result["visit_after"] is False and result["offer_after"] == [0, False]
        for name in ("40-certificates-found", "41-capture-the-rest", "42-review-certificates", "43-receipt"):
            assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000

        # the kiosk's sync sends it; the hall links the two certificates, pages: the one photo + signature
        settings = load_settings(data_dir=data_dir, environ={})
        queue = OfflineQueue(data_dir, settings.queue.budget_bytes)
        report = SyncEngine.from_settings(queue, HallClient(identity, timeout_s=15), settings.sync).run_once()
        assert report.sent == 1, report
        [application] = hall.applications()
        assert application["provisional_number"] == result["receipt_number"]
        assert [a["material"] for a in application["attachments"]] == ["M1", "signature"]
        engine = create_engine(hall.db_url)
        try:
            with Session(engine) as db:
                linked = db.execute(
                    select(ApplicationCertificate.material, ECertificate.cert_type)
                    .join(ECertificate, ECertificate.id == ApplicationCertificate.certificate_id)
                    .where(ApplicationCertificate.application_id == application["id"])).all()
        finally:
            engine.dispose()
        assert sorted(linked) == [("M3", "household_register"), ("M4", "disability_certificate")]
        # the kiosk's data directory holds nothing of the certificates in the clear
        for path in data_dir.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert b"HK445122" not in data and "饶平县残疾人联合会".encode() not in data, path
