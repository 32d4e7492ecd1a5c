"""The end of a visit, in steps the walk ``end`` of ``tests.screens.scenarios_walks_sizes`` runs
at every supported size: the idle warning and its wipe, then a whole application through to
the receipt and what follows it.

The idle part shortens the visit's time left on purpose; the rest runs with the long
timeout, so that a slow machine never shows the warning in the middle of the walk.
"""

from __future__ import annotations

from typing import Any

from hardware.sample_cards import ELDERLY_VILLAGER
from tests.screens.scenarios import SERVICE


def _idle_for(d: Any, visit: Any, seconds_left: float) -> None:
    """As if the villager had walked away long ago: ``seconds_left`` remain before the wipe."""
    service = d.app.service
    d.call(lambda: setattr(visit, "last_activity",
                           service.clock() - service.keeper.idle_timeout_s + seconds_left))


def _overlays() -> list[str]:
    """The popups and overlays open now (call on the UI thread: ``wait_for`` does)."""
    from kivy.core.window import Window

    return [type(w).__name__ for w in Window.children if hasattr(w, "dismiss")]


def _idle_warning_then_wipe(d: Any, result: dict[str, Any]) -> None:
    service = d.app.service
    d.wait_for_screen("home")
    d.tap("start_button")
    d.wait_for_screen("catalog", timeout=20)
    d.tap(f"service_{SERVICE}")
    d.wait_for_screen("guide")
    visit = service.visit

    service.idle.warning_s = 60  # a long countdown: a loaded test machine may take seconds per step
    _idle_for(d, visit, 55)  # inside the last 60 s: the countdown shows
    d.wait_for(lambda: d._find("idle_warning_count") is not None, timeout=10, what="the idle warning")
    result["countdown"] = int(d.text("idle_warning_count"))
    result["warning_title"] = d.text("idle_warning_title")
    d.screenshot("20-idle-warning")
    d.tap("idle_continue")  # any touch keeps the visit
    d.wait_for(lambda: "IdleWarning" not in _overlays(), what="the warning to close")
    result["kept"] = service.visit is visit and d.current_screen() == "guide"
    result["left_after_touch"] = service.idle_seconds_left()
    assert result["kept"], "the countdown ran out before the touch"

    d.app.nav.wiped_notice_s = 120  # a loaded test machine is slow: here the touch closes it
    service.idle.warning_s = 20
    _idle_for(d, visit, 2)  # and now nobody comes back
    d.wait_for_screen("home", timeout=15)
    try:
        d.wait_for(lambda: _overlays() == ["WipedNotice"], what="only the wiped notice")
    except TimeoutError:
        raise AssertionError(f"overlays: {d.call(_overlays)}") from None
    result["wiped_notice"] = d.text("popup_message")
    result["visit_after_wipe"] = service.visit is not None
    result["visit_wiped"] = visit.wiped and visit.fields == {} and visit.card is None
    d.screenshot("21-idle-wiped")
    d.tap("popup_message")  # the next person's first touch takes it away
    d.wait_for(lambda: _overlays() == [], what="the notice to go")


def _apply_to_review(d: Any) -> None:
    """The ID card read, item 001 chosen, its form filled, one page taken: the review screen."""
    service = d.app.service
    simulator = service.id_reader.simulator
    simulator.remove_card()
    d.tap("start_button")
    d.wait_for_screen("identify")
    simulator.present_card(ELDERLY_VILLAGER)
    d.wait_for_screen("catalog", timeout=20)
    d.tap(f"service_{SERVICE}")
    d.wait_for_screen("guide")
    d.tap("guide_start")
    d.wait_for_screen("form")
    d.call(lambda: [service.steps.form.set_field(k, v)
                    for k, v in (("phone", "13800138000"), ("grade", "360"), ("bank", "psbc"))])
    d.tap("form_next")
    d.wait_for_screen("capture")
    d.wait_for(lambda: service.steps.capture.camera_frame() is not None, what="a camera frame")
    d.tap("capture_shoot")
    d.wait_for(lambda: len(service.steps.capture.pages) == 1, what="one page")
    d.tap("capture_next")
    d.wait_for_screen("review")


def _receipt_rating_take_card(d: Any, result: dict[str, Any]) -> None:
    """The receipt, 完成, the rating by touch (unhappy, with a reason); the visit finishes and the
    card still on the reader brings up 请取回身份证 until it is taken. No wipe notice after it."""
    service = d.app.service
    d.wait_for_screen("receipt", timeout=20)
    number = d.text("receipt_number")
    d.tap("receipt_done")
    d.wait_for_screen("rating")
    d.screenshot("23-rating")
    d.tap("rating_2")  # 不满意: the reasons show
    d.wait_for(lambda: d._find("reason_slow") is not None, what="the reasons")
    d.screenshot("23b-rating-reason")
    d.tap("reason_slow")
    d.wait_for_screen("home", timeout=15)
    queued = service.steps.rating.queue.due()
    result["ratings"] = [{k: r.body[k] for k in ("application_ref", "service_code", "score", "reason")}
                         for r in queued]
    result["receipt_number"] = number
    d.wait_for(lambda: "TakeCardOverlay" in _overlays(), timeout=10, what="the take-card reminder")
    result["take_card_title"] = d.text("take_card_title")
    result["overlays_after_success"] = d.call(_overlays)
    result["visit_after_receipt"] = service.visit is not None
    d.screenshot("24-take-card")
    service.id_reader.simulator.remove_card()
    d.wait_for(lambda: _overlays() == [], timeout=10, what="the reminder to go with the card")
