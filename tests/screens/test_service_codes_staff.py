"""Codes held up to the camera, staff cards (代办) and social security cards: the presenter,
without a window (fake camera frames with real rendered codes, a fake PC/SC desk)."""

from __future__ import annotations

import json
import threading
import time
from datetime import date

import cv2
import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hardware.barcode import Barcode
from hardware.barcode_samples import code_modules
from hardware.errors import PinBlocked, UnsupportedCard, WrongPin
from hardware.pcsc_cards import SocialSecurityCard, StaffCardReading
from hardware.sample_cards import ELDERLY_VILLAGER, MIDDLE_AGED_VILLAGER
from kiosk.catalog import load_catalog
from kiosk.code_lookup import ID_NUMBER, OTHER, RECEIPT, CodeMeaning, classify
from kiosk.i18n import Translator
from kiosk.service import ActionFailed, KioskService
from kiosk.settings import load_settings
from offline_queue.outbox import OfflineQueue
from offline_queue.sealing import open_box
from tests.screens.scenarios import SERVICE, make_identity
from tests.screens.test_service import FakeReader, Recorder, fill_in, read_card
from tests.support.clock import ManualClock
from tests.support.open_services import opened


def code_picture(symbology: str, text: str) -> np.ndarray:
    """A printed code, as a camera would see it held up close (BGR, 1280×720)."""
    modules = code_modules(symbology, text.encode("utf-8"))
    scale = 8 if symbology == "QRCODE" else 3
    code = cv2.resize(
        ((1 - modules) * 255).astype(np.uint8), None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST
    )
    frame = np.full((720, 1280), 235, np.uint8)
    h, w = code.shape
    y, x = (720 - h) // 2, (1280 - w) // 2
    frame[y : y + h, x : x + w] = code
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


class PictureCamera:
    def __init__(self, frame=None):
        self.frame = frame
        self.reads = 0

    def read_frame(self):
        self.reads += 1
        time.sleep(0.01)
        return self.frame

    def close(self):
        pass


class FakeDesk:
    """The PC/SC desk: hands the presenter cards on demand; PIN answers from a list."""

    def __init__(self, *pin_answers):
        self.pin_answers = list(pin_answers)
        self.on_card = self.on_error = None
        self.closed = False

    def watch(self, on_card, on_error):
        self.on_card, self.on_error = on_card, on_error

    def check_pin(self, pin):
        answer = self.pin_answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def take_verified(self):
        return None  # these cards have no key pair (the card's key: tests/kiosk/test_worklist_reasons.py)

    def close(self):
        self.closed = True


STAFF = StaffCardReading(worker_id="GW-441423-0007", county="441423")
STAFF_VERIFIED = StaffCardReading(worker_id="GW-441423-0007", county="441423", role="grid_worker")


def social_card(**overrides):
    values = dict(
        card_id="441826D15600000A",
        card_number="D10000037",
        id_number=MIDDLE_AGED_VILLAGER.id_number,
        name=MIDDLE_AGED_VILLAGER.name,
        sex="male",
        ethnicity="汉",
        birth_date=MIDDLE_AGED_VILLAGER.birth_date,
        issued=date(2019, 9, 1),
        expires=date(2029, 9, 1),
    )
    values.update(overrides)
    return SocialSecurityCard(**values)


@pytest.fixture
def clock():
    return ManualClock()


def make(tmp_path, clock, *, camera=None, reader=None, hall_key=None):
    settings = load_settings(data_dir=tmp_path, environ={})
    queue = OfflineQueue(tmp_path, settings.queue.budget_bytes, clock=clock)
    identity = make_identity(settings.kiosk.county, settings.hall.url, hall_key)
    return opened(KioskService(
        settings=settings,
        catalog=load_catalog(),
        translator=Translator.load(lang="zh"),
        id_reader=reader or FakeReader(ELDERLY_VILLAGER),
        camera=camera or PictureCamera(),
        queue=queue,
        identity=identity,
        clock=clock,
    ))


def queue_one(service):
    """One confirmed application of ELDERLY_VILLAGER; its receipt."""
    camera = service.camera
    service.camera = PictureCamera(np.full((720, 1280, 3), 200, np.uint8))
    service.steps.home.start_application()
    read_card(service, Recorder())
    fill_in(service)
    receipt = service.steps.review.confirm()
    service.finish()
    service.camera = camera
    return receipt


# -- what a code means ------------------------------------------------------------------------


def test_codes_are_sorted_into_receipts_id_numbers_and_the_rest():
    assert classify("http://127.0.0.1:8400/track/K7E57-20251128-0001") == CodeMeaning(
        RECEIPT, "K7E57-20251128-0001"
    )
    assert classify("https://hall.example/a/track/441423-20251128-0123-4567-8901/") == CodeMeaning(
        RECEIPT, "441423-20251128-0123-4567-8901"
    )
    assert classify(" k7e57-20251128-0001 ") == CodeMeaning(RECEIPT, "K7E57-20251128-0001")
    assert classify(ELDERLY_VILLAGER.id_number) == CodeMeaning(ID_NUMBER, ELDERLY_VILLAGER.id_number)
    bad_check = ELDERLY_VILLAGER.id_number[:17] + ("0" if ELDERLY_VILLAGER.id_number[17] != "0" else "1")
    for text in (
        bad_check,
        "https://www.gdzwfw.gov.cn/qr?c=abc",
        "https://x/track/not-a-number",
        "粤省事 电子证照",
        "6901234567892",
        "",
    ):
        assert classify(text).kind == OTHER, text
    assert ELDERLY_VILLAGER.id_number not in repr(classify(ELDERLY_VILLAGER.id_number))


def test_outbox_finds_an_application_by_provisional_or_official_number(tmp_path, clock):
    service = make(tmp_path, clock)
    number = queue_one(service).provisional_number
    [entry] = service.queue.by_number(number.lower())
    assert entry.provisional_number == number
    assert service.queue.by_number("441423-20251128-000001") == []
    assert service.queue.by_number("") == []


# -- the camera on the identify screen ----------------------------------------------------------


def test_receipt_qr_to_the_camera_shows_that_applications_status(tmp_path, clock):
    service = make(tmp_path, clock)
    receipt = queue_one(service)
    service.camera.frame = code_picture("QRCODE", receipt.qr_text)
    service.steps.home.start_status_lookup()
    recorder = Recorder()
    service.bind(recorder)
    service.id_reader.answers.clear()  # no ID card comes
    service.steps.identify.wait_for_card()
    assert service.steps.identify.start_code_scan()
    try:
        assert recorder.wait("code_read", timeout=15) == {"mode": "status", "what": "receipt"}
    finally:
        service.steps.identify.stop_code_scan()
    assert not service.steps.identify.code_scanning
    [row] = service.steps.status.my_applications()
    assert row.provisional_number == receipt.provisional_number and row.state == "sealed"
    service.cancel()
    assert service.steps.status.my_applications() == []  # the lookup is wiped with the visit


def test_id_number_barcode_works_like_typing_the_number(tmp_path, clock):
    service = make(tmp_path, clock, camera=PictureCamera(code_picture("CODE128", ELDERLY_VILLAGER.id_number)))
    queue_one(service)
    service.steps.home.start_status_lookup()
    recorder = Recorder()
    service.bind(recorder)
    service.steps.identify.start_code_scan()
    try:
        assert recorder.wait("code_read", timeout=15) == {"mode": "status", "what": "id_number"}
    finally:
        service.steps.identify.stop_code_scan()
    assert len(service.steps.status.my_applications()) == 1

    service.steps.home.start_application()
    service.steps.identify._on_codes([Barcode("CODE128", ELDERLY_VILLAGER.id_number)])
    assert recorder.events[-1] == ("code_read", {"mode": "apply", "what": "id_number"})
    service.steps.catalog.choose(SERVICE)
    assert service.visit.fields["id_number"] == ELDERLY_VILLAGER.id_number


def test_an_unusable_code_gets_one_friendly_line_not_a_storm(tmp_path, clock):
    service = make(tmp_path, clock)
    service.steps.home.start_status_lookup()
    recorder = Recorder()
    service.bind(recorder)
    for _ in range(5):
        service.steps.identify._on_codes([Barcode("QRCODE", "https://www.gdzwfw.gov.cn/egov?id=abc")])
    notices = [p for e, p in recorder.events if e == "code_notice"]
    assert notices == [{"message_key": "lookup.code_unusable", "text": service.t("lookup.code_unusable")}]
    clock.advance(5)
    # a number this kiosk never made
    service.steps.identify._on_codes([Barcode("QRCODE", "K7E57-20251128-0099")])
    assert recorder.events[-1][1]["message_key"] == "lookup.number_unknown"
    assert service.steps.status.my_applications() == [] and service.visit is not None


def test_the_code_scanner_gives_the_camera_up_before_the_capture_screen(tmp_path, clock):
    camera = PictureCamera(np.full((720, 1280, 3), 200, np.uint8))
    service = make(tmp_path, clock, camera=camera)
    service.steps.home.start_status_lookup()
    for _ in range(3):  # entering and leaving the identify screen again and again
        service.steps.identify.start_code_scan()
        deadline = time.monotonic() + 5
        while camera.reads == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        service.steps.identify.stop_code_scan()
        assert not service.steps.identify.code_scanning
        reads = camera.reads
        time.sleep(0.1)
        assert camera.reads == reads  # nobody reads the camera once the screen is left
    assert [t.name for t in threading.enumerate()].count("barcode-scan") == 0


# -- grid workers -----------------------------------------------------------------------------------


def test_staff_card_pin_then_agent_in_the_sealed_document_then_logout(tmp_path, clock):
    hall_key = X25519PrivateKey.generate()
    service = make(tmp_path, clock, hall_key=hall_key, reader=FakeReader(ELDERLY_VILLAGER, ELDERLY_VILLAGER))
    desk = FakeDesk(WrongPin(2), STAFF_VERIFIED)
    recorder = Recorder()
    service.bind(recorder)
    service.watch_smart_cards(desk)
    desk.on_card(STAFF)
    assert recorder.wait("staff_card") == {"worker_id": "GW-441423-0007"}
    assert service.steps.staff.pending == "GW-441423-0007"

    wrong = service.steps.staff.verify_pin("000000")
    assert not wrong.ok and wrong.tries_left == 2 and "2" in wrong.message and service.staff is None
    right = service.steps.staff.verify_pin("123456")
    assert right.ok and service.steps.staff.line() == "网格员 GW-441423-0007 代办中"
    assert ("staff_changed", {"worker_id": "GW-441423-0007", "reason": "login"}) in recorder.events

    receipt = queue_one(service)
    assert receipt.agent == "GW-441423-0007"
    [entry] = service.queue.entries()
    document = json.loads(open_box(service.queue.sealed_document(entry.id), hall_key, entry.id.encode()))
    assert document["agent"] == {"worker_id": "GW-441423-0007", "county": "441423"}

    service.steps.staff.logout()
    assert service.staff is None and service.steps.staff.line() == ""
    queue_one(service)
    last = service.queue.entries()[-1]
    assert "agent" not in json.loads(
        open_box(service.queue.sealed_document(last.id), hall_key, last.id.encode())
    )
    service.close()
    assert desk.closed


def test_blocked_pin_and_a_card_taken_away_are_explained(tmp_path, clock):
    service = make(tmp_path, clock)
    desk = FakeDesk(UnsupportedCard("gone"), PinBlocked("blocked", 0x6983))
    service.watch_smart_cards(desk)
    desk.on_card(STAFF)
    gone = service.steps.staff.verify_pin("123456")
    assert not gone.ok and gone.gone and "读卡器" in gone.message
    blocked = service.steps.staff.verify_pin("123456")
    assert blocked.blocked and "锁住" in blocked.message and service.steps.staff.pending == ""


def test_grid_worker_mode_ends_after_the_idle_timeout(tmp_path, clock):
    service = make(tmp_path, clock)
    service.watch_smart_cards(FakeDesk(STAFF_VERIFIED))
    service.steps.staff._on_card(STAFF)
    assert service.steps.staff.verify_pin("123456").ok
    clock.advance(service.settings.kiosk.idle_timeout_s - 10)
    service.touch()  # the worker taps the screen: still signed in
    clock.advance(20)
    service.expire_if_idle()
    assert service.staff is not None
    clock.advance(service.settings.kiosk.idle_timeout_s + 1)
    service.expire_if_idle()
    assert service.staff is None


# -- social security cards ----------------------------------------------------------------------------


def test_social_security_card_finds_the_villagers_applications(tmp_path, clock):
    service = make(tmp_path, clock, reader=FakeReader())
    service.steps.home.start_status_lookup()
    recorder = Recorder()
    service.bind(recorder)
    service.watch_smart_cards(FakeDesk())
    service.steps.identify.wait_for_card()
    card = social_card(id_number=ELDERLY_VILLAGER.id_number, name=ELDERLY_VILLAGER.name)
    service.steps.staff._on_card(card)
    payload = recorder.wait("card_read")
    assert payload["mode"] == "status" and ELDERLY_VILLAGER.id_number not in payload["id_number"]
    assert service.visit.card is None


def test_social_security_card_fills_identity_but_not_an_address(tmp_path, clock):
    service = make(tmp_path, clock, reader=FakeReader())
    recorder = Recorder()
    service.bind(recorder)
    service.steps.home.start_application()
    service.steps.identify.wait_for_card()
    service.steps.staff._on_card(social_card())
    recorder.wait("card_read")
    card = service.visit.card
    assert (card.name, card.id_number, card.address) == (
        MIDDLE_AGED_VILLAGER.name,
        MIDDLE_AGED_VILLAGER.id_number,
        "",
    )
    with pytest.raises(ActionFailed) as err:
        service.steps.catalog.choose(SERVICE)  # its form wants the address from the card
    assert err.value.message_key == "staff.needs_id_card"
    assert "居民身份证" in service.t(err.value.message_key)
    service.steps.catalog.choose("GD-SAMPLE-002")  # no address on this form
    rows = {r.field.id: r for r in service.steps.form.rows()}
    assert rows["name"].value == MIDDLE_AGED_VILLAGER.name


def test_a_social_security_card_out_of_turn_or_expired_is_explained(tmp_path, clock):
    service = make(tmp_path, clock, reader=FakeReader())
    recorder = Recorder()
    service.bind(recorder)
    service.steps.staff._on_card(social_card())  # nobody pressed 办事 or 查进度
    assert recorder.events[-1][1]["message_key"] == "staff.ss_choose_first"
    service.steps.home.start_application()
    service.steps.identify.wait_for_card()
    service.steps.staff._on_card(social_card(expires=date(2020, 1, 1)))
    assert recorder.wait("card_failed") == {"message_key": "identify.card_expired"}
    service.steps.staff._on_error(UnsupportedCard("a bank card"))
    assert recorder.events[-1] == ("card_failed", {"message_key": "hardware.card_unsupported"})
    service.cancel()
