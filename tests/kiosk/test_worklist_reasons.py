"""The grid worker's worklist shows the county's reason, opened by the staff card after its PIN
(issue 10): the real staff step, desk, outbox and worklist step, the virtual staff card's own
APDU handler as the card (no pcscd here: tests/hardware/test_pcsc.py runs the card through it)."""

from __future__ import annotations

import logging
import time

from hardware.pcsc_cards import StaffCardClient, StaffCardReading, VerifiedStaffCard
from hardware.pcsc_transport import ApduTransport
from hardware.sample_cards import ELDERLY_VILLAGER
from hardware.vpcd_card import sample_staff_card, sample_staff_key
from kiosk.staff import SmartCardDesk
from offline_queue.transport import StatusChange
from tests.hardware.test_staff_card_key import CardWire
from tests.kiosk.test_status_supplement import REASON, _queue_and_correct
from tests.screens.test_service import FakeReader, Recorder, make_service
from tests.support.clock import ManualClock

WORKER = "GW-441423-0007"


class CardInTheReader:
    """The desk's way to the card for the PIN: a virtual card behind a transport (``pulled``)."""

    def __init__(self, card):
        self.card = card
        self.wire = CardWire(card)
        self.opened: list[VerifiedStaffCard] = []
        self.closed = 0

    def __call__(self, pin):
        client = StaffCardClient(ApduTransport(self.wire))
        reading = client.read(pin)
        if reading.public_key is None:
            return reading, None
        verified = VerifiedStaffCard(client, reading.public_key, on_close=self._closed)
        self.opened.append(verified)
        return reading, verified

    def _closed(self):
        self.closed += 1


def sign_in(service, reader):
    staff = service.steps.staff
    staff.desk = SmartCardDesk(FakeReader(), card_opener=reader)
    staff._on_card(StaffCardReading(worker_id=WORKER, county="441423"))  # as the watcher hands it
    assert staff.verify_pin("123456").ok
    return staff.login


def settled_rows(service, timeout=10.0):
    """The worklist's rows once the card's job has answered (the rows never wait for it)."""
    worklist = service.steps.worklist
    rows = worklist.rows()
    deadline = time.monotonic() + timeout
    while worklist._opening and time.monotonic() < deadline:
        time.sleep(0.01)
    return rows, worklist.rows()


def test_the_staff_card_opens_the_reason_on_the_worklist(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    service = make_service(tmp_path, ManualClock(), reader=FakeReader(*[ELDERLY_VILLAGER] * 4))
    recorder = Recorder()
    service.bind(recorder)
    card = sample_staff_card()
    reader = CardInTheReader(card)
    try:
        login = sign_in(service, reader)
        assert login.card is not None and login.agent()["card_key"] == card.public_key.hex()
        mine = _queue_and_correct(service)  # applied on the villager's behalf, the card's key kept
        disk = (tmp_path / "outbox.sqlite3").read_bytes() + (tmp_path / "outbox.sqlite3-wal").read_bytes()
        assert REASON.encode() not in disk and WORKER.encode() not in disk

        first, [row] = settled_rows(service)
        assert first[0].reason == "" and first[0].reason_note == service.t("worklist.reason_opening")
        assert row.entry_id == mine.id and row.reason == REASON and row.reason_note == ""
        assert card.agreements == 1 and ("worklist_reasons", {}) in recorder.events
        service.steps.worklist.rows()
        assert card.agreements == 1  # opened once: remembered for the list, not asked per redraw
        second = _queue_and_correct(service)  # another correction comes: only its box asks the card
        _, rows = settled_rows(service)
        assert {r.entry_id: r.reason for r in rows} == {mine.id: REASON, second.id: REASON}
        assert card.agreements == 2
        assert REASON not in caplog.text and WORKER not in caplog.text

        # the card leaves the reader; the county writes again: the list says the card is needed
        reader.wire.pulled = True
        service.queue.apply_status(StatusChange(id=mine.id, status="correction_needed",
                                                official_number="441423-000001", reason="请补充户主页",
                                                changed_at="", materials=("M1",)))
        _, rows = settled_rows(service)
        row = next(r for r in rows if r.entry_id == mine.id)
        assert row.reason == "" and row.materials == ("居民户口簿",) and row.can_supplement
        assert row.reason_note == service.t("worklist.reason_needs_card") and not login.card.usable
        assert service.ctx.jobs.failures == 0  # the job answered; the pool serves the next one
        service.steps.worklist.leave()  # the worklist left: what the card opened is forgotten
        assert service.steps.worklist._opened == {}

        service.steps.staff.logout()
        assert reader.closed == 1 and service.steps.staff.login is None
    finally:
        service.close()


def test_another_card_and_an_older_card_open_nothing_and_say_which_card_does(tmp_path):
    service = make_service(tmp_path, ManualClock(), reader=FakeReader(*[ELDERLY_VILLAGER] * 6))
    try:
        sign_in(service, CardInTheReader(sample_staff_card()))
        _queue_and_correct(service)  # sealed to the first card
        service.steps.staff.logout()

        other = sample_staff_card(key=sample_staff_key(bytes(range(2, 34))))  # the same worker, a new card
        sign_in(service, CardInTheReader(other))
        _, [row] = settled_rows(service)
        assert row.reason == "" and row.reason_note == service.t("worklist.reason_needs_card")
        assert other.agreements == 0  # a box sealed to another card: this one is not even asked
        service.steps.staff.logout()

        older = sample_staff_card(key=None)
        login = sign_in(service, CardInTheReader(older))
        assert login.card is None and "card_key" not in login.agent()  # an older card still signs in
        newer = _queue_and_correct(service)  # made with the older card: the villager's box only
        rows = service.steps.worklist.rows()
        note = {r.entry_id: r.reason_note for r in rows}[newer.id]
        assert note == service.t("worklist.reason_villager_card") == "县里写了原因：请村民刷身份证查看"
        assert all(r.reason == "" for r in rows)
    finally:
        service.close()
