"""The grid worker's correction, answered and accepted at a real hall: a walk of the four-size
walk (``tests.screens.scenarios_walks_sizes``, marker ``gui``).

The app was enrolled by the test with a real ``county-hall serve`` process and sends with
the real sync worker (``scenarios_walks_sizes.build_app`` with ``params["hall_url"]``), woken
by the walk instead of waiting out an interval. The hall's side is the clerk's: the
hall's own status service on the hall's database (as ``tests/e2e/test_correction_journey.py``
does), which the running hall then serves to the kiosk through its signed feed.

The walk: an application made by grid worker GW-0042 on a villager's behalf is sealed and
sent; the clerk asks for the household register again, with a reason; the worker, signed in
at the kiosk with a staff card that has a key pair, opens the worklist, where the card opens
the county's reason (the card is the virtual staff card's own APDU handler behind a
transport, verified with its PIN: the same bytes pcscd carries in tests/hardware/test_pcsc.py);
the card taken out, the worklist still shows the materials and says the reason needs the
card; the worker answers the correction by touch with the missing page (the supplement),
which the hall joins to the same application; the clerk accepts it, and the worklist shows
it accepted with its official number. Home again, the worker signed out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.screens.scenarios_input import rendered_lines
from tests.screens.scenarios_status_work import REASON, WORKER, seal

SYNC_WAIT_S = 90  # a send and a status pull through a real hall on a loaded machine


def synced(d: Any, done: Callable[[], Any], what: str) -> Any:
    """Wake the sync worker (as the app does after a confirmation) until ``done()``.

    Woken again every second, not once: a pass that met the hall busy (503 + Retry-After, e.g.
    the clerk's transaction held SQLite's write lock during a status pull) holds the next ones
    off for the Retry-After, and a wake inside that time ends at once; the worker would then
    sleep its whole interval (``SYNC_INTERVAL_S``)."""
    worker = d.app.service.sync_worker
    woken = [0.0]

    def done_or_wake() -> Any:
        value = done()
        if not value and time.monotonic() - woken[0] >= 1.0:
            woken[0] = time.monotonic()
            worker.wake()
        return value

    return d.wait_for(done_or_wake, SYNC_WAIT_S, interval=0.25, what=what, on_ui=False)


def clerk(d: Any, action: Callable[[Any], Any]) -> Any:
    """``action(db)`` on the hall's database, as the county's console does for its clerk."""
    from hall.db import make_engine, make_sessionmaker

    engine = make_engine(d.app.walk_params["hall_db_url"])
    try:
        with make_sessionmaker(engine)() as db:
            return action(db)
    finally:
        engine.dispose()


def hall_rating(d: Any, application_ref: str) -> dict[str, Any] | None:
    """The rating the hall holds for ``application_ref`` (a receipt's number), or None."""
    from sqlalchemy import select

    from hall.models import Rating

    def find(db: Any) -> dict[str, Any] | None:
        rating = db.scalars(select(Rating).where(Rating.application_ref == application_ref)).first()
        if rating is None:
            return None
        return {k: getattr(rating, k) for k in ("application_ref", "service_code", "score", "reason")}

    return clerk(d, find)


def staff_card_in_the_reader() -> tuple[Any, Any, Any]:
    """GW-0042's staff card with a key pair, verified with its PIN: (the virtual card, its wire
    — ``wire.pulled = True`` takes it out —, the ``VerifiedStaffCard`` the PIN check keeps)."""
    from hardware.pcsc_cards import StaffCardClient, VerifiedStaffCard
    from hardware.pcsc_transport import ApduTransport
    from hardware.vpcd_card import sample_staff_card
    from tests.hardware.test_staff_card_key import CardWire

    card = sample_staff_card(worker_id=WORKER["worker_id"], county=WORKER["county"])
    wire = CardWire(card)
    client = StaffCardClient(ApduTransport(wire))
    reading = client.read("123456")
    assert reading.public_key is not None
    return card, wire, VerifiedStaffCard(client, reading.public_key)


def walk_correction(d: Any, out: dict[str, Any]) -> None:
    """A grid worker's application sent; the clerk's correction; the page added by touch; accepted."""
    from sqlalchemy import func, select

    from hall.models import Application, ApplicationAttachment
    from hall.services.status import change_status
    from kiosk.staff import StaffLogin
    from offline_queue.store import ACCEPTED, CORRECTION_NEEDED, SUBMITTED

    service = d.app.service
    queue = service.queue
    card, wire, verified = staff_card_in_the_reader()
    agent = {**WORKER, "card_key": verified.public_key.hex()}  # StaffLogin.agent() with that card
    parent = d.call(seal, service, agent).id  # made with the worker earlier in the day
    synced(d, lambda: queue.get(parent).state == SUBMITTED, "the application at the hall")
    clerk(d, lambda db: change_status(db, parent, "correction_needed", REASON, actor="console:li",
                                       materials=["M1"]))
    synced(d, lambda: queue.get(parent).state == CORRECTION_NEEDED, "the correction at the kiosk")

    now = service.clock()
    login = StaffLogin(worker_id=WORKER["worker_id"], county=WORKER["county"], role="grid", since=now,
                       last_active=now, card=verified)  # the PIN typed: tests/screens/test_gui.py
    d.call(lambda: setattr(service.steps.staff, "login", login))
    d.call(service.emit, "staff_changed", worker_id=login.worker_id, reason="login")
    d.tap("worklist_button")
    d.wait_for_screen("worklist")
    d.wait_for(lambda: d._find("worklist_supplement_0") is not None, what="the worker's correction")
    d.wait_for(lambda: d._find("worklist_reason_0") is not None, what="the reason the card opened")
    first = service.steps.worklist.rows()[0]
    out["worklist_first"] = {"id": first.entry_id, "materials": list(first.materials),
                             "state": first.state_text, "reason": first.reason}
    out["reason_shown"] = d.text("worklist_reason_0")
    entry = queue.get(parent)
    out["number"] = entry.official_number or entry.provisional_number
    out["number_lines"] = rendered_lines(d, "worklist_number_0")  # the number whole on one line
    out["card_agreements"] = card.agreements
    d.screenshot("50-worklist-correction")

    wire.pulled = True  # the card taken out: the list stays, the reason says it needs the card
    d.tap("worklist_done")
    d.wait_for_screen("home")
    d.tap("worklist_button")
    d.wait_for_screen("worklist")
    d.wait_for(lambda: d._find("worklist_reason_note_0") is not None, what="the reason needs the card")
    out["card_out"] = {"note": d.text("worklist_reason_note_0"), "materials": d.text("worklist_materials_0"),
                       "reason_shown": d.exists("worklist_reason_0"),
                       "supplement": d.exists("worklist_supplement_0")}
    d.screenshot("50b-worklist-card-out")
    d.tap("worklist_supplement_0")
    d.wait_for_screen("capture")
    capture = service.steps.capture
    out["to_capture"] = [m.id for m in capture.materials_to_capture()]
    d.wait_for(lambda: capture.camera_frame() is not None, what="a camera frame")
    d.tap("capture_shoot")
    d.wait_for(lambda: len(capture.pages) == 1, what="one page")
    d.screenshot("51-worker-capture")
    d.tap("capture_next")
    d.wait_for_screen("supplement", timeout=20)
    d.wait_for(lambda: d._find("supplement_headline").text != "", what="the confirmation")
    out["headline"] = d.text("supplement_headline")
    d.screenshot("52-worker-sent")
    d.tap("supplement_done")
    d.wait_for_screen("home", timeout=15)

    [supplement] = queue.supplements_of(parent)
    synced(d, lambda: queue.get(supplement.id).state == SUBMITTED, "the supplement at the hall")

    def joined_then_accepted(db: Any) -> dict[str, Any]:
        pages = db.scalar(select(func.count()).select_from(ApplicationAttachment)
                          .where(ApplicationAttachment.application_id == parent,
                                 ApplicationAttachment.supplement_id == supplement.id))
        status = db.get(Application, parent).status
        change_status(db, parent, "accepted", actor="console:li")
        official = db.get(Application, parent).official_number
        return {"joined_pages": pages, "status": status, "official": official}

    out["hall"] = clerk(d, joined_then_accepted)
    synced(d, lambda: queue.get(parent).state == ACCEPTED, "the acceptance at the kiosk")
    out["kiosk_official"] = queue.get(parent).official_number
    d.tap("worklist_button")
    d.wait_for_screen("worklist")
    accepted = service.t("status.state.accepted")
    d.wait_for(lambda: getattr(d._find("worklist_badge_0"), "text", "") == accepted,
               what="the application accepted on the worklist")
    out["badge"] = d.text("worklist_badge_0")
    d.screenshot("53-worklist-accepted")
    d.tap("worklist_done")
    d.wait_for_screen("home")
    d.call(service.steps.staff.logout)
    d.wait_for(lambda: service.visit is None and service.steps.staff.login is None, what="the worker gone")
