"""The e-certificates step: asked in the background, shown, agreed or declined; capture skips what
they cover; the sealed application names them; the visit's wipe takes them all.

The hall here is a stand-in source (the real client against a real hall is in
tests/hall/test_api_certificates.py, and its answers go through the same parser).
"""

from __future__ import annotations

import threading

import pytest

from hardware.sample_cards import ELDERLY_VILLAGER, MIDDLE_AGED_VILLAGER
from kiosk.applications import build_application
from kiosk.certificates import FOUND, NONE_FOUND, UNAVAILABLE, parse_lookup
from kiosk.presentation import ActionFailed
from kiosk.steps.table import CAPTURE, CERTIFICATES, REVIEW
from offline_queue.errors import HallUnreachable
from tests.screens.test_service import FakeReader, Recorder, make_service, read_card
from tests.support.clock import ManualClock

PENSION, BIRTH = "GD-SAMPLE-001", "GD-SAMPLE-008"
REF_A, REF_B, REF_C = "ec-" + "a" * 32, "ec-" + "b" * 32, "ec-" + "c" * 32


def entry(reference: str, kind: str, **over) -> dict:
    return {"reference": reference, "type": kind, "issuer": "连南瑶族自治县公安局",
            "number_masked": "HK4***1877", "valid_from": "2019-08-01", "valid_to": "", "trust_level": 3,
            **over}


class StandInHall:
    """Answers like the hall's lookup; remembers what it was asked; may fail or hold the answer."""

    def __init__(self, answer=None, error: Exception | None = None, hold: threading.Event | None = None):
        self.answer = answer if answer is not None else {"certificates": []}
        self.error, self.hold = error, hold
        self.asked: list[tuple[str, list[str]]] = []

    def lookup_certificates(self, id_number, types):
        self.asked.append((id_number, list(types)))
        if self.hold is not None:
            self.hold.wait(5)
        if self.error is not None:
            raise self.error
        return self.answer


def start(tmp_path, card, code, hall: StandInHall):
    service = make_service(tmp_path, ManualClock(), reader=FakeReader(card))
    service.steps.certificates._source_factory = lambda: hall
    recorder = Recorder()
    service.steps.home.start_application()
    read_card(service, recorder)
    assert service.steps.catalog.choose(code)
    return service, recorder


def test_found_certificates_are_agreed_to_capture_skips_them_and_the_application_names_them(tmp_path):
    hall = StandInHall({"certificates": [entry(REF_A, "household_register"),
                                         entry(REF_B, "marriage_certificate", valid_to="2030-03-01")]})
    service, recorder = start(tmp_path, MIDDLE_AGED_VILLAGER, BIRTH, hall)
    try:
        steps = service.steps
        assert steps.form.next_step() == CAPTURE  # nothing asked yet
        steps.form.enter()  # the item has e-certificate materials and a card was read: the hall is asked
        assert recorder.wait("certificates_changed") == {"state": FOUND}
        assert steps.form.next_step() == CERTIFICATES
        # asked with the card's number, for the types the item's materials name (not the ID card's)
        assert hall.asked == [(MIDDLE_AGED_VILLAGER.id_number,
                               ["birth_medical_certificate", "household_register", "marriage_certificate"])]
        lines = steps.certificates.lines()
        assert [(line.name, line.number) for line in lines] == [("户口簿", "HK4***1877"),
                                                                ("结婚证", "HK4***1877")]
        assert lines[0].validity == "长期有效" and "2030-03-01" in lines[1].validity
        assert lines[1].materials == ("父母结婚证",)
        assert steps.certificates.message_key() == "certificates.found"
        # before agreeing, capture lists every material; after, only the one left (the baby's birth proof)
        assert [r.id for r in steps.capture.materials_to_capture()] == ["M1", "M3", "M4"]
        assert steps.certificates.agree()
        assert steps.certificates.next_step() == CAPTURE
        assert [r.id for r in steps.capture.materials_to_capture()] == ["M1"]
        # a second entry of the step does not ask again
        steps.certificates.enter()
        assert len(hall.asked) == 1
        # declining: photograph everything again
        steps.certificates.decline()
        assert [r.id for r in steps.capture.materials_to_capture()] == ["M1", "M3", "M4"]
        offer = service.keeper.current.certificates
        service.finish()
        assert offer.found == [] and not offer.agreed  # wiped with the visit, not only dropped
    finally:
        service.close()


def test_certificates_covering_every_photo_lead_to_the_review_and_into_the_sealed_document(tmp_path):
    hall = StandInHall({"certificates": [entry(REF_C, "household_register")]})
    service, recorder = start(tmp_path, ELDERLY_VILLAGER, PENSION, hall)
    try:
        steps = service.steps
        for name, value in (("phone", "13800138000"), ("grade", "360"), ("bank", "psbc")):
            steps.form.set_field(name, value)
        steps.certificates.enter()
        recorder.wait("certificates_changed")
        assert steps.certificates.agree()
        assert steps.certificates.next_step() == REVIEW  # nothing left to photograph
        assert steps.capture.materials_to_capture() == []
        labels = {line.label: line.value for line in steps.review.lines()}
        assert labels["电子证照"] == "户口簿"
        visit = service.keeper.current
        item = service.ctx.current_item
        app = build_application(visit, item, device_id="kiosk-7e57a001", county="441423", sequence=1,
                                tag_key_dir=tmp_path)
        assert app.document["certificates"] == [{"reference": REF_C, "type": "household_register",
                                                 "material": "M1"}]
        assert app.attachments == ()  # no photo, and no copy of the certificate
    finally:
        service.close()


@pytest.mark.parametrize(("hall", "state"), [
    (StandInHall(error=HallUnreachable("offline")), UNAVAILABLE),
    (StandInHall({"certificates": []}), NONE_FOUND),
    (StandInHall({"certificates": "lots"}), UNAVAILABLE),  # a garbled answer: photograph
])
def test_offline_empty_or_garbled_answers_fall_back_to_photographing(tmp_path, hall, state):
    service, recorder = start(tmp_path, ELDERLY_VILLAGER, PENSION, hall)
    try:
        service.steps.form.enter()
        assert recorder.wait("certificates_changed") == {"state": state}
        assert service.steps.form.next_step() == CAPTURE  # nothing to show: straight to the photographs
        assert service.steps.certificates.lines() == []
        assert service.steps.certificates.message_key() == f"certificates.{state}"
        with pytest.raises(ActionFailed):
            service.steps.certificates.agree()
        assert service.steps.certificates.next_step() == CAPTURE
        assert [r.id for r in service.steps.capture.materials_to_capture()] == ["M1"]
    finally:
        service.close()


def test_an_answer_after_the_visit_ended_is_dropped_and_a_typed_number_never_asks(tmp_path):
    hold = threading.Event()
    hall = StandInHall({"certificates": [entry(REF_A, "household_register")]}, hold=hold)
    service, recorder = start(tmp_path, ELDERLY_VILLAGER, PENSION, hall)
    try:
        service.steps.form.enter()
        assert service.steps.form.next_step() == CERTIFICATES  # still asking: the screen says so
        assert service.steps.certificates.message_key() == "certificates.looking"
        offer = service.keeper.current.certificates
        service.cancel()  # the villager walked away while the hall was asked
        hold.set()
        service.ctx.jobs.close(wait=True)
        assert offer.found == [] and offer.state == UNAVAILABLE
        assert not any(name == "certificates_changed" for name, _ in recorder.events)
        # a number typed on the keypad is no proof: the hall is not asked
        visit = service.keeper.start()
        visit.typed_id_number, visit.identity_source = ELDERLY_VILLAGER.id_number, "typed_id_number"
        visit.service_code = PENSION
        assert service.steps.form.next_step() == CAPTURE
    finally:
        service.close()


def test_the_halls_answer_is_hostile_input():
    asked = ["household_register", "marriage_certificate"]
    answer = {"certificates": [
        entry(REF_A, "household_register"),
        entry(REF_A, "household_register"),  # a repeat
        entry("ec-../../etc/passwd", "household_register"),
        entry(REF_B, "disability_certificate"),  # not asked for
        entry(REF_C, "marriage_certificate", issuer="民政局\u202e\u0007"),  # control characters
        entry("ec-" + "d" * 32, "marriage_certificate", valid_from="yesterday"),
        "not an object",
    ]}
    assert [c.reference for c in parse_lookup(answer, asked)] == [REF_A]
    with pytest.raises(ValueError):
        parse_lookup([], asked)
