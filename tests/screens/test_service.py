"""The kiosk core (KioskService) and its step controllers, tested without a window."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from hardware.errors import CardReadError
from hardware.sample_cards import ELDERLY_VILLAGER, EXPIRED_CARD
from kiosk.catalog import load_catalog
from kiosk.i18n import Translator
from kiosk.service import STATE_LOOK, UNEXPECTED_KEY, ActionFailed, KioskService
from kiosk.settings import load_settings
from offline_queue.outbox import OfflineQueue
from offline_queue.store import STATES
from tests.screens.scenarios import SERVICE, make_identity
from tests.support.clock import ManualClock
from tests.support.open_services import opened


class FakeReader:
    """Hands out what it is given: a card, None (no card yet) or an exception."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = 0

    def read_card(self, timeout):
        self.calls += 1
        if not self.answers:
            time.sleep(min(timeout, 0.01))
            return None
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def close(self):
        pass


class FakeCamera:
    def __init__(self):
        frame = np.full((1080, 1920, 3), 200, np.uint8)
        frame[100:900, 500:1400] = (250, 250, 250)
        self.frame = frame

    def read_frame(self):
        return self.frame

    def close(self):
        pass


class FakeWorker:
    def __init__(self):
        self.woken = 0

    def wake(self):
        self.woken += 1


Clock = ManualClock


class Recorder:
    def __init__(self):
        self.events = []
        self.got = threading.Event()

    def __getattr__(self, name):
        if not name.startswith("on_event_"):
            raise AttributeError(name)

        def record(**payload):
            self.events.append((name[len("on_event_"):], payload))
            self.got.set()

        return record

    def wait(self, name, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event, payload in self.events:
                if event == name:
                    return payload
            time.sleep(0.01)
        raise AssertionError(f"no {name} event; got {self.events}")


@pytest.fixture
def clock():
    return Clock()


def make_service(tmp_path, clock, reader=None, enrolled=True, worker=None):
    settings = load_settings(data_dir=tmp_path, environ={})
    queue = OfflineQueue(tmp_path, settings.queue.budget_bytes, clock=clock)
    identity = make_identity(settings.kiosk.county, settings.hall.url) if enrolled else None
    service = KioskService(settings=settings, catalog=load_catalog(), translator=Translator.load(lang="zh"),
                           id_reader=reader or FakeReader(ELDERLY_VILLAGER), camera=FakeCamera(), queue=queue,
                           identity=identity, sync_worker=worker, clock=clock)
    return opened(service)


def read_card(service, recorder):
    service.bind(recorder)
    service.steps.identify.wait_for_card()
    return recorder.wait("card_read")


def fill_in(service):
    service.steps.catalog.choose(SERVICE)
    service.steps.form.set_field("phone", "13800138000")
    service.steps.form.set_field("grade", "360")
    service.steps.form.set_field("bank", "psbc")
    service.steps.capture.capture_page()


def test_a_whole_visit_queues_one_sealed_application(tmp_path, clock):
    worker = FakeWorker()
    service = make_service(tmp_path, clock, worker=worker)
    recorder = Recorder()
    assert service.steps.home.can_start() and service.steps.home.notices() == []
    service.steps.home.start_application()
    payload = read_card(service, recorder)
    assert payload["mode"] == "apply"
    assert payload["name"] != ELDERLY_VILLAGER.name and "*" in payload["name"]
    assert ELDERLY_VILLAGER.id_number not in payload["id_number"]

    fill_in(service)
    rows = {r.field.id: r for r in service.steps.form.rows()}
    assert rows["name"].from_card and rows["name"].value == ELDERLY_VILLAGER.name
    assert not rows["phone"].from_card and rows["phone"].value == "13800138000"
    assert service.steps.form.validate() == {}
    assert service.steps.capture.missing_materials() == []
    lines = service.steps.review.lines()
    assert all(ELDERLY_VILLAGER.id_number not in line.value for line in lines)

    receipt = service.steps.review.confirm()
    assert receipt.provisional_number.startswith("K7E57-")
    assert receipt.provisional_number in receipt.qr_text
    assert receipt.service_name == "城乡居民基本养老保险参保登记"
    assert service.queue.summary().counts["sealed"] == 1
    assert worker.woken == 1
    assert ("queue_changed", {}) in recorder.events
    service.finish()
    assert service.visit is None and service.steps.capture.pages == []


def test_status_lookup_finds_the_villagers_applications(tmp_path, clock):
    service = make_service(tmp_path, clock, reader=FakeReader(ELDERLY_VILLAGER, ELDERLY_VILLAGER))
    service.steps.home.start_application()
    read_card(service, Recorder())
    fill_in(service)
    number = service.steps.review.confirm().provisional_number
    service.finish()

    service.steps.home.start_status_lookup()
    recorder = Recorder()
    assert read_card(service, recorder)["mode"] == "status"
    assert service.visit.card is None  # a lookup keeps nothing of the card
    [row] = service.steps.status.my_applications()
    assert row.provisional_number == number
    assert (row.state, row.state_text, row.colour) == ("sealed", "等待发送", "grey")


def test_every_queue_state_has_wording_and_colour(tmp_path, clock):
    service = make_service(tmp_path, clock)
    for state in STATES:
        key, colour = STATE_LOOK[state]
        assert service.t(key) != key
        assert colour in ("green", "blue", "amber", "red", "grey")


def test_card_fields_are_read_only_and_errors_carry_message_keys(tmp_path, clock):
    service = make_service(tmp_path, clock)
    service.steps.home.start_application()
    read_card(service, Recorder())
    service.steps.catalog.choose(SERVICE)
    with pytest.raises(ActionFailed) as err:
        service.steps.form.set_field("name", "someone else")
    assert err.value.message_key == "form.read_only"
    with pytest.raises(ActionFailed) as err:
        service.steps.catalog.choose("NO-SUCH-ITEM")
    assert err.value.message_key == "kiosk.unknown_service"
    service.steps.form.set_field("phone", "123")
    assert service.steps.form.validate()["phone"] == "kiosk.field.phone_invalid"
    with pytest.raises(ActionFailed) as err:
        service.steps.review.confirm()
    assert err.value.message_key == "kiosk.application_invalid" and "phone" in err.value.errors


def test_a_bad_read_reports_card_failed_and_keeps_waiting(tmp_path, clock):
    reader = FakeReader(CardReadError("checksum"), ELDERLY_VILLAGER)
    service = make_service(tmp_path, clock, reader=reader)
    service.steps.home.start_application()
    recorder = Recorder()
    service.bind(recorder)
    service.steps.identify.wait_for_card()
    assert recorder.wait("card_failed") == {"message_key": "hardware.card_read_failed"}
    recorder.wait("card_read")


def test_an_expired_card_is_refused(tmp_path, clock):
    service = make_service(tmp_path, clock, reader=FakeReader(EXPIRED_CARD))
    service.steps.home.start_application()
    recorder = Recorder()
    service.bind(recorder)
    service.steps.identify.wait_for_card()
    assert recorder.wait("card_failed") == {"message_key": "identify.card_expired"}
    service.steps.identify.cancel_card_wait()
    assert service.visit.card is None


def test_unexpected_errors_become_the_generic_message(tmp_path, clock):
    service = make_service(tmp_path, clock)
    service.steps.home.start_application()
    read_card(service, Recorder())
    service.steps.catalog.choose(SERVICE)

    def broken():
        raise ZeroDivisionError("personal data could be here")

    service.queue.next_sequence = broken
    service.steps.form.set_field("phone", "13800138000")
    service.steps.form.set_field("grade", "360")
    service.steps.form.set_field("bank", "psbc")
    service.steps.capture.capture_page()
    with pytest.raises(ActionFailed) as err:
        service.steps.review.confirm()
    assert err.value.message_key == UNEXPECTED_KEY
    assert "personal data" not in str(err.value)


def test_not_enrolled_kiosk_says_so_and_will_not_start(tmp_path, clock):
    service = make_service(tmp_path, clock, enrolled=False)
    assert not service.steps.home.can_start()
    assert any("没有接入" in notice for notice in service.steps.home.notices())
    with pytest.raises(ActionFailed) as err:
        service.steps.home.start_application()
    assert err.value.message_key == "home.notice.not_enrolled"
    service.steps.home.start_status_lookup()  # checking progress needs no enrolment
    assert service.visit is not None


def test_idle_session_is_wiped_and_announced(tmp_path, clock):
    service = make_service(tmp_path, clock)
    recorder = Recorder()
    service.bind(recorder)
    service.steps.home.start_application()
    service.touch()
    assert not service.expire_if_idle()
    clock.now += service.settings.kiosk.idle_timeout_s + 1
    assert service.expire_if_idle()
    assert service.visit is None
    assert ("session_expired", {}) in recorder.events


def test_language_switch_and_camera_preview(tmp_path, clock):
    service = make_service(tmp_path, clock)
    recorder = Recorder()
    service.bind(recorder)
    assert service.t("common.home") == "回首页"
    service.set_language("en")
    assert service.language == "en" and service.t("common.home") == "Home"
    assert ("language_changed", {"lang": "en"}) in recorder.events
    assert service.steps.catalog.items()[0][1].startswith("Urban-rural")
    image = service.steps.capture.camera_frame()
    assert (image.width, image.height) == (960, 540) and len(image.rgb) == 960 * 540 * 3


def test_screens_words_exist_in_both_languages():
    zh, en = Translator.load(lang="zh"), Translator.load(lang="en")
    screen_keys = {k for k in zh.keys("zh") if k.split(".")[0] in (
        "common", "home", "identify", "catalog", "guide", "form", "capture", "review", "receipt", "status")}
    assert screen_keys and screen_keys <= en.keys("en")


def test_a_typed_id_number_is_shown_masked_and_fixed_on_the_form(tmp_path, clock):
    """The card would not read: the number typed on the identify keypad fills the form's
    ID-number field, masked (the screen faces the room) and fixed like a card's number."""
    service = make_service(tmp_path, clock, reader=FakeReader())
    try:
        service.steps.home.start_application()
        number = "11010519491231002X"
        service.steps.identify.enter_id_number(number)
        assert service.steps.catalog.choose(SERVICE)
        row = {r.field.id: r for r in service.steps.form.rows()}["id_number"]
        assert row.from_card and row.source_key == "form.typed_number"
        assert number not in row.value and "*" in row.value
        with pytest.raises(ActionFailed):
            service.steps.form.set_field("id_number", "440000000000000000")
        assert service.visit.fields["id_number"] == number  # the application still gets the number
    finally:
        service.close()
