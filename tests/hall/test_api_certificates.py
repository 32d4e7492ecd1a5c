"""E-certificates (电子证照) against a real hall: the store, the kiosks' signed lookup, the audit.

The kiosk side is the kiosk's own client (``HallClient``, which verifies the hall's
signature with the pinned key) and parser (``kiosk.certificates``).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from hall.core.config import load_settings
from hall.core.keys import load_or_create_keys
from hall.db import make_engine, make_sessionmaker
from hall.models import AuditEntry, ECertificate
from hall.services.certificates import (
    LOOKUPS_PER_DEVICE,
    SAMPLE_FILE,
    certificate_key,
    load_file,
    open_document,
)
from hall.services.devices import revoke
from hall.services.enrolment import create_code
from hall.storage import open_store
from hardware.sample_cards import ELDERLY_VILLAGER, EXPIRED_CARD, MIDDLE_AGED_VILLAGER
from kiosk.catalog import E_CERTIFICATE_TYPES
from kiosk.certificates import find_certificates
from offline_queue.identity import enroll
from offline_queue.sealing import seal
from offline_queue.transport import HallClient

OTHER_COUNTY = "445200"
ASK_ALL = [t for t in E_CERTIFICATE_TYPES if t != "resident_id_card"]


@pytest.fixture(scope="module")
def store(hall) -> Iterator[tuple]:
    """The sample certificates loaded into the running hall's database (as `certs load` does)."""
    settings = load_settings(db=hall.db_url, data_dir=hall.data_dir, environ={})
    engine = make_engine(settings.db_url)
    sessions = make_sessionmaker(engine)
    keys = load_or_create_keys(settings.keys_dir)
    with sessions() as db:
        load_file(db, settings, keys.seal_private, SAMPLE_FILE)
    yield settings, sessions, keys
    engine.dispose()


def kiosk_client(hall, sessions, settings, tmp_path, county: str | None = None) -> HallClient:
    with sessions() as db:
        code = create_code(db, settings, county).code
    return HallClient(enroll(hall.url, code, tmp_path), timeout_s=15)


def test_store_keeps_no_id_number_and_seals_the_documents(hall, store):
    settings, sessions, keys = store
    with sessions() as db:
        rows = list(db.scalars(select(ECertificate)))
        assert len(rows) >= 6
        for row in rows:
            assert ELDERLY_VILLAGER.id_number not in (row.holder_key, row.number, row.issuer)
            assert len(row.holder_key) == 64
            box = open_store(settings).get(certificate_key(row.box_sha256))  # the hall's blob store
            assert b"SAMPLE" not in box and b"PNG" not in box[:64]  # sealed, not a picture
            assert open_document(settings, keys.seal_private, row).startswith(b"\x89PNG")
        # loading the same file again adds nothing
        assert load_file(db, settings, keys.seal_private, SAMPLE_FILE) == 0


def test_lookup_answers_the_holders_valid_certificates_masked_and_signed(hall, store, tmp_path):
    settings, sessions, _ = store
    client = kiosk_client(hall, sessions, settings, tmp_path)
    found = find_certificates(client, MIDDLE_AGED_VILLAGER.id_number, ASK_ALL)
    assert sorted(c.type for c in found) == ["household_register", "land_contract_certificate",
                                             "marriage_certificate"]
    marriage = next(c for c in found if c.type == "marriage_certificate")
    assert marriage.issuer == "连南瑶族自治县民政局" and marriage.valid_to == ""
    assert marriage.number_masked.startswith("J44") and marriage.number_masked.endswith("0412")
    assert "2005-000412" not in marriage.number_masked
    # only the types asked for
    only = find_certificates(client, MIDDLE_AGED_VILLAGER.id_number, ["marriage_certificate"])
    assert [c.reference for c in only] == [marriage.reference]
    # an expired certificate is not offered; the raw answer has no document in it
    assert find_certificates(client, EXPIRED_CARD.id_number, ASK_ALL) == []
    raw = client.lookup_certificates(ELDERLY_VILLAGER.id_number, ASK_ALL)
    assert {tuple(sorted(c)) for c in raw["certificates"]} == {
        ("issuer", "number_masked", "reference", "trust_level", "type", "valid_from", "valid_to")}
    # every lookup is in the audit log, with no ID number
    with sessions() as db:
        entries = list(db.scalars(select(AuditEntry).where(
            AuditEntry.action == "certificate_lookup", AuditEntry.device_id == client.identity.device_id)))
    assert len(entries) == 4
    for entry in entries:
        assert MIDDLE_AGED_VILLAGER.id_number not in entry.detail
        assert ELDERLY_VILLAGER.id_number not in entry.detail
    assert json.loads(entries[0].detail)["found"] == 3


def test_other_county_revoked_and_unknown_get_the_same_empty_answer(hall, store, tmp_path):
    settings, sessions, _ = store
    home = kiosk_client(hall, sessions, settings, tmp_path / "home")
    away = kiosk_client(hall, sessions, settings, tmp_path / "away", county=OTHER_COUNTY)
    revoked = kiosk_client(hall, sessions, settings, tmp_path / "revoked")
    with sessions() as db:
        revoke(db, revoked.identity.device_id)
    stranger = "110101199001010037"  # a well-formed number nobody in the store has
    answers = [home.lookup_certificates(stranger, ASK_ALL),
               away.lookup_certificates(MIDDLE_AGED_VILLAGER.id_number, ASK_ALL),
               revoked.lookup_certificates(MIDDLE_AGED_VILLAGER.id_number, ASK_ALL)]
    assert answers == [{"certificates": []}] * 3


def test_bad_bodies_are_refused_and_each_device_has_a_budget(hall, store, tmp_path):
    from offline_queue.errors import HallBusy, HallRejected

    settings, sessions, _ = store
    client = kiosk_client(hall, sessions, settings, tmp_path)
    for id_number, types in (("12345", ASK_ALL), (MIDDLE_AGED_VILLAGER.id_number, ["library_card"]),
                             ("<script>alert(1)</script>", [])):
        with pytest.raises(HallRejected) as refused:
            client.lookup_certificates(id_number, types)
        assert refused.value.code == "invalid_request"
    answered = 0
    with pytest.raises(HallBusy) as busy:
        for _ in range(LOOKUPS_PER_DEVICE.max_hits + 1):
            client.lookup_certificates(MIDDLE_AGED_VILLAGER.id_number, ASK_ALL)
            answered += 1
    assert answered == LOOKUPS_PER_DEVICE.max_hits  # refused bodies did not count
    assert 0 < (busy.value.retry_after or 0) <= LOOKUPS_PER_DEVICE.window_s


def application_using(kiosk, id_number: str, certificates: object) -> dict:
    """A sealed application (no pages) whose document names e-certificates, as the kiosk makes it."""
    app_id = str(uuid.uuid4())
    document = {"id": app_id, "service_code": "GD-SAMPLE-001",
                "applicant": {"name": "盘志强", "id_number": id_number}, "fields": {"phone": "13800138000"},
                "attachments": [], "certificates": certificates,
                "created_at": "2026-12-01T04:30:00Z", "kiosk": kiosk.device_id}
    sealed = seal(json.dumps(document, ensure_ascii=False).encode(), kiosk.hall_seal_key,
                  app_id.encode("ascii"))
    return {"id": app_id, "provisional_number": kiosk.next_provisional_number(),
            "service_code": "GD-SAMPLE-001", "county": kiosk.county,
            "created_at": "2026-12-01T04:30:00Z", "page_count": 0, "visits_needed": 0,
            "sealed_document": base64.b64encode(sealed).decode(), "attachments": []}


def test_intake_links_the_applicants_certificates_and_the_console_opens_them_audited(hall, store, kiosk):
    from hall.models import ApplicationCertificate
    from hall.services.users import create_user
    from tests.hall.test_county_work import PASSWORD, console

    settings, sessions, _ = store
    with sessions() as db:
        mine = {c.cert_type: c.id for c in db.scalars(select(ECertificate).where(
            ECertificate.number.in_(["HK441826-0031877", "J441826-2005-000412", "HK445122-0086231"])))}
        create_user(db, "ecert-admin", PASSWORD, role="county_admin", county=settings.county)
    own = [{"reference": mine["household_register"], "type": "household_register", "material": "M1"}]
    body = application_using(kiosk, MIDDLE_AGED_VILLAGER.id_number, own)
    answer = kiosk.post_application(body)
    assert answer.status_code == 201, answer.text
    with sessions() as db:
        links = list(db.scalars(select(ApplicationCertificate).where(
            ApplicationCertificate.application_id == body["id"])))
        assert [(link.certificate_id, link.material) for link in links] == \
            [(mine["household_register"], "M1")]
    # another person's certificate, a made-up reference, a wrong type, a malformed list: refused, nothing kept
    made_up = "ec-" + "0" * 32
    with sessions() as db:
        elderly = db.scalar(select(ECertificate.id).where(ECertificate.number == "HK445122-0086231"))
    for certificates in ([{"reference": elderly, "type": "household_register", "material": "M1"}],
                         [{"reference": made_up, "type": "household_register", "material": "M1"}],
                         [{"reference": mine["household_register"], "type": "marriage_certificate"}],
                         "all of them", [{"reference": 7}]):
        refused = kiosk.post_application(
            application_using(kiosk, MIDDLE_AGED_VILLAGER.id_number, certificates))
        assert refused.status_code == 422 and refused.json()["error"] == "invalid_request", certificates
    # the clerk's page lists it; opening the document is audited
    clerk = console(hall.url, "ecert-admin", "10.9.8.7")
    page = clerk.get(f"{hall.url}/console/applications/{body['id']}", timeout=10).text
    assert "电子证照 E-certificates" in page and "连南瑶族自治县公安局" in page
    base = f"{hall.url}/console/applications/{body['id']}/certificates"
    opened = clerk.get(f"{base}/{mine['household_register']}", timeout=10)
    assert opened.status_code == 200 and opened.content.startswith(b"\x89PNG")
    other = clerk.get(f"{base}/{elderly}", timeout=10)
    assert other.status_code == 404  # only the certificates this application used
    with sessions() as db:
        viewed = list(db.scalars(select(AuditEntry).where(AuditEntry.action == "certificate_viewed")))
    assert [json.loads(v.detail)["reference"] for v in viewed][-1:] == [mine["household_register"]]
    assert viewed[-1].actor == "console:ecert-admin"
