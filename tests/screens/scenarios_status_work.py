"""Corrections at the kiosk, in one app start (marker ``gui``; issue 12 parts 2–3, issue 10
part 4): the villager's status screen shows a correction (the materials, the reason) and
补交材料 captures the named material and queues the supplement; then a grid worker's
worklist: the camera missing (plain words, the list stays), then the page added.

``build_app`` seeds the outbox before the window opens: one application of the villager's
own and one a grid worker made for them, both sent and then asked to be corrected by the
county (as the sync would record the hall's feed).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hardware.sample_cards import ELDERLY_VILLAGER
from tests.screens.scenarios import SERVICE, build_service

REASON = "户口簿照片看不清，请重新拍户主页"
WORKER = {"worker_id": "GW-0042", "county": "441423"}


def seal(service: Any, agent: dict[str, str] | None) -> Any:
    """One application of ELDERLY_VILLAGER for item 001 (one page), sealed into the outbox as the
    review's confirmation does; ``agent``: made by that grid worker. The queue entry."""
    import cv2

    from kiosk.applications import build_application
    from kiosk.intake import agent_card_key
    from kiosk.visit import Page, Visit

    visit = Visit(id="seed", started_at=service.clock())
    visit.card = ELDERLY_VILLAGER
    visit.service_code = SERVICE
    visit.fields.update({"phone": "13800138000", "grade": "360", "bank": "psbc"})
    ok, jpeg = cv2.imencode(".jpg", np.full((400, 300, 3), 230, np.uint8))
    visit.add_page(Page(material_id="M1", data=jpeg.tobytes()))
    visit.agent = agent  # with "card_key": the worker's staff card key, as kiosk.intake hands it on
    app = build_application(visit, service.ctx.catalog.get(SERVICE), device_id=service.identity.device_id,
                            county=service.settings.kiosk.county, sequence=service.queue.next_sequence(),
                            tag_key_dir=service.settings.data_dir, clock=service.clock)
    card_key = agent_card_key(visit)
    visit.wipe()
    return service.queue.enqueue(app, service.identity.hall_seal_public_key, agent_card_key=card_key)


def _seed(service: Any, agent: dict[str, str] | None, official: str, completed: bool = False) -> str:
    """One application of ELDERLY_VILLAGER, sent, then a correction naming the household register
    (``completed``: done, with one result on the hall)."""
    from offline_queue.transport import StatusChange

    entry = seal(service, agent)
    service.queue.mark_submitted(entry.id, official or None)  # "": not accepted yet (no official number)
    if completed:
        service.queue.apply_status(StatusChange(id=entry.id, status="completed", official_number=official,
                                                reason="", changed_at="", results=1))
        return entry.id
    service.queue.apply_status(StatusChange(id=entry.id, status="correction_needed", official_number=official,
                                            reason=REASON, changed_at="", materials=("M1",)))
    return entry.id


class ResultOnTheHall:
    """The hall's answer to a result request, as the real client returns it (the client and the
    hall's endpoint are tested for real in tests/offline_queue/test_result_download.py)."""

    def __call__(self, identity: Any, timeout_s: float) -> Any:
        return self

    def fetch_result(self, application_id: str, index: int, proof: str, page: int | None = None) -> Any:
        """A decision letter of two pages, rendered on the hall: each page a PNG (protocol 11.3)."""
        import cv2

        from offline_queue.transport import ResultFile

        letter = np.full((1100, 800, 3), 255, np.uint8)
        cv2.putText(letter, f"DECISION 441423-20261201-0003 {(page or 0) + 1}/2", (40, 120),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.1, (0, 0, 0), 3)
        cv2.rectangle(letter, (40, 200), (760, 1000), (0, 0, 0), 4)
        return ResultFile(media_type="image/png", data=cv2.imencode(".png", letter)[1].tobytes(), count=1,
                          pages=2, page=page)


def build_app(params: dict[str, Any]) -> Any:
    from kiosk.app import KioskApp

    service = build_service(params)
    _seed(service, None, "")  # a correction asked before acceptance: known by its receipt number
    _seed(service, WORKER, "441423-20261201-0002")
    _seed(service, None, "441423-20261201-0003", completed=True)
    service.steps.status.results.client_factory = ResultOnTheHall()
    return KioskApp(service=service, settings=service.settings)


def _overlays() -> list[str]:
    from kivy.core.window import Window

    return [type(w).__name__ for w in Window.children if hasattr(w, "dismiss")]


def _capture_and_send(d: Any, result: dict[str, Any], prefix: str) -> None:
    service = d.app.service
    d.wait_for_screen("capture")
    result[f"{prefix}_materials"] = [m.id for m in service.steps.capture.materials_to_capture()]
    d.wait_for(lambda: service.steps.capture.camera_frame() is not None, what="a camera frame")
    d.screenshot(f"status-work-{prefix}-capture")
    d.tap("capture_shoot")
    d.wait_for(lambda: len(service.steps.capture.pages) == 1, what="one page")
    d.tap("capture_next")
    d.wait_for_screen("supplement", timeout=20)
    d.wait_for(lambda: d._find("supplement_headline").text != "", what="the confirmation")
    result[f"{prefix}_headline"] = d.text("supplement_headline")
    result[f"{prefix}_details"] = d.text("supplement_details")
    d.screenshot(f"status-work-{prefix}-sent")
    d.tap("supplement_done")
    d.wait_for_screen("home", timeout=15)


def corrections_at_the_kiosk(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    service = d.app.service
    result: dict[str, Any] = {}
    d.default_timeout = 30  # a loaded test machine is slow to take a touch
    simulator = service.id_reader.simulator
    d.wait_for_screen("home")

    # -- the villager: 查进度 with the card, the correction, 补交材料 ---------------------------
    simulator.remove_card()
    d.tap("status_button")
    d.wait_for_screen("identify")
    simulator.present_card(ELDERLY_VILLAGER)
    d.wait_for_screen("status", timeout=20)
    d.wait_for(lambda: d._find("status_result_2") is not None, what="two corrections and a result")
    rows = service.steps.status.my_applications()
    result["status_rows"] = [{"materials": list(r.materials), "reason": r.reason, "state": r.state_text}
                             for r in rows]
    result["status_numbers"] = [(r.provisional_number, r.official_number) for r in rows]
    d.screenshot("status-work-01-correction")
    # the completed one: no printer here, so the result shows big, with where to get the paper
    d.tap("status_result_2")
    d.wait_for(lambda: "ResultView" in _overlays(), timeout=30, what="the result shown")
    result["result_message"] = d.text("result_message")
    result["result_scrolls"] = d._find("result_pages") is not None  # two pages, one under the other
    d.screenshot("status-work-02-result")
    d.tap("result_close")
    d.wait_for(lambda: _overlays() == [], what="the result to close")
    result["result_kept"] = len(service.visit.result_pages)
    d.tap("status_supplement_0")
    _capture_and_send(d, result, "villager")
    d.wait_for(lambda: "TakeCardOverlay" in _overlays(), timeout=10, what="the take-card reminder")
    result["take_card"] = d.text("take_card_title")
    simulator.remove_card()
    d.wait_for(lambda: _overlays() == [], timeout=10, what="the reminder to go with the card")
    result["after_villager"] = {e.kind: e.state for e in service.queue.entries(["sealed"])}
    result["result_after_visit"] = service.visit is not None and bool(service.visit.result_pages)

    # -- the grid worker: signed in, the worklist; no camera, then the page added -------------
    from kiosk.staff import StaffLogin

    now = service.clock()
    login = StaffLogin(worker_id=WORKER["worker_id"], county=WORKER["county"], role="grid", since=now,
                       last_active=now)
    d.call(lambda: setattr(service.steps.staff, "login", login))
    d.call(service.emit, "staff_changed", worker_id=login.worker_id, reason="login")
    d.wait_for(lambda: d._find("worklist_button").opacity == 1, what="the worklist button")
    d.screenshot("status-work-04-home-staff")
    d.tap("worklist_button")
    d.wait_for_screen("worklist")
    d.wait_for(lambda: d._find("worklist_supplement_0") is not None, what="the worker's correction")
    result["worklist_summary"] = d.call(lambda: d.app.nav.current_screen.summary)
    result["worklist_rows"] = [{"number": r.official_number, "materials": list(r.materials),
                                "reason": r.reason, "note": r.reason_note}
                               for r in service.steps.worklist.rows()]
    d.screenshot("status-work-05-worklist")
    camera = service.camera
    d.call(lambda: setattr(service, "camera", None))
    d.tap("worklist_supplement_0")
    d.wait_for(lambda: d._find("popup_ok") is not None, what="the no-camera message")
    result["no_camera"] = d.text("popup_message")
    d.screenshot("status-work-06-worklist-no-camera")
    d.tap("popup_ok")
    d.wait_for(lambda: _overlays() == [], what="the message to close")
    result["after_no_camera"] = d.current_screen()
    d.call(lambda: setattr(service, "camera", camera))
    service.ctx.devices.check()  # the camera is back (a technician plugged it in): checked again
    d.tap("worklist_supplement_0")
    _capture_and_send(d, result, "worker")
    result["supplements"] = sorted(e.parent_id != "" for e in service.queue.entries(["sealed"]))
    result["screens"] = sorted({"status", "capture", "supplement", "worklist"})
    return result
