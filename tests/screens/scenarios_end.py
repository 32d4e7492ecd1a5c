"""The end of a visit, in one app start (marker ``gui``): the idle warning and its wipe, then a
whole application through to the receipt and what follows it.

Uses ``tests.screens.scenarios.build_app`` (simulated card reader and camera, an outbox in
``params["data_dir"]``). The idle part runs with a short timeout; the rest with a long one,
so that a slow machine never shows the warning in the middle of the walk.
"""

from __future__ import annotations

from typing import Any

from tests.screens.scenarios import SERVICE, build_app  # noqa: F401  (the app factory the test names)


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

    _idle_for(d, visit, 15)  # inside the last 20 s: the countdown shows
    d.wait_for(lambda: d._find("idle_warning_count") is not None, timeout=10, what="the idle warning")
    result["countdown"] = int(d.text("idle_warning_count"))
    result["warning_title"] = d.text("idle_warning_title")
    d.screenshot("20-idle-warning")
    d.tap("idle_continue")  # any touch keeps the visit
    d.wait_for(lambda: "IdleWarning" not in _overlays(), what="the warning to close")
    result["kept"] = service.visit is visit and d.current_screen() == "guide"
    result["left_after_touch"] = service.idle_seconds_left()

    _idle_for(d, visit, 2)  # and now nobody comes back
    d.wait_for_screen("home", timeout=15)
    d.wait_for(lambda: _overlays() == ["WipedNotice"], what="only the wiped notice")
    result["wiped_notice"] = d.text("popup_message")
    result["visit_after_wipe"] = service.visit is not None
    result["visit_wiped"] = visit.wiped and visit.fields == {} and visit.card is None
    d.screenshot("21-idle-wiped")
    d.tap("popup_message")  # the next person's first touch takes it away
    d.wait_for(lambda: _overlays() == [], what="the notice to go")


def end_of_visit(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    _idle_warning_then_wipe(d, result)
    return result
