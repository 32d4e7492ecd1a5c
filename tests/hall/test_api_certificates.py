"""E-certificates (电子证照) against a real hall: the store, the kiosks' signed lookup, the audit.

The kiosk side is the kiosk's own client (``HallClient``, which verifies the hall's
signature with the pinned key) and parser (``kiosk.certificates``).
"""

from __future__ import annotations

import json
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
    certificates_dir,
    load_file,
    open_document,
)
from hall.services.devices import revoke
from hall.services.enrolment import create_code
from hardware.sample_cards import ELDERLY_VILLAGER, EXPIRED_CARD, MIDDLE_AGED_VILLAGER
from kiosk.catalog import E_CERTIFICATE_TYPES
from kiosk.certificates import find_certificates
from offline_queue.identity import enroll
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
            box = (certificates_dir(settings) / row.box_sha256).read_bytes()
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
