"""Scenarios for the catalog (categories, search), the guide's conditions, device problems,
maintenance and the out-of-service notice: run in the app's own process (``kivy_driver``).

One app start walks many screens; ``build_app`` is ``tests.screens.scenarios``'s, with a
camera and a printer taken away when ``params`` say so.
"""

from __future__ import annotations

from typing import Any

from tests.screens.scenarios_input import _draw, _line
from tests.screens.signing import sign_and_submit

# 生, as a finger writes it: 丿 一 丨 一 一
SHENG = (_line(0.35, 0.1, 0.2, 0.35), _line(0.25, 0.3, 0.8, 0.3), _line(0.5, 0.1, 0.5, 0.85),
         _line(0.25, 0.58, 0.75, 0.58), _line(0.1, 0.85, 0.9, 0.85))


def build_app(params: dict[str, Any]) -> Any:
    from tests.screens.scenarios import build_app as build

    app = build(params)
    if params.get("no_camera"):
        app.service.camera = None
    if params.get("pin"):  # the technician's PIN, a short hold and three tries (read when the app builds)
        from kiosk.maintenance_pin import hash_pin

        service = app.service
        service.ctx.settings = service.settings.with_overrides({"maintenance.long_press_s": 0.3})
        guard = service.steps.maintenance.guard
        guard.stored, guard.max_tries = hash_pin(params["pin"]), 3
    return app


def _hold_corner(d: Any) -> None:
    """A finger held on the top-left corner until the PIN keypad shows, then lifted."""
    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch

    touch = d.call(lambda: UnitTestTouch(8, Window.height - 8))
    d.call(touch.touch_down)
    d.wait_for(lambda: d._find("pin_popup") is not None or d._find("pin_ok") is not None, timeout=10,
               what="the PIN keypad")
    d.call(touch.touch_up)


def _type_pin(d: Any, pin: str) -> str:
    """Digits and OK on the keypad; the popup's answer line ("" when it opened maintenance)."""
    for digit in pin:
        d.tap(f"keypad_{digit}")
    message = d.find("pin_message")
    d.call(setattr, message, "text", "")  # so that the same answer twice is seen as a new one
    d.tap("pin_ok")
    d.wait_for(lambda: d._find("pin_ok") is None or message.text != "", timeout=20, what="the PIN's answer")
    return d.call(lambda: message.text) if d.find("pin_ok") is not None else ""





def _collect(d: Any, widget_id: str, prefix: str) -> list[str]:
    """On the UI thread: the ``kiosk_id`` s starting with ``prefix`` under the widget ``widget_id``."""
    root = d._find(widget_id)
    return [w.kiosk_id for w in root.walk(restrict=True) if getattr(w, "kiosk_id", "").startswith(prefix)]


def _ids_under(d: Any, widget_id: str, prefix: str) -> list[str]:
    return list(d.call(_collect, d, widget_id, prefix))


def catalog_search_and_guide(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Categories → one category's items → search by letters → by handwriting → the guide."""
    service = d.app.service
    out: dict[str, Any] = {}
    d.wait_for_screen("home")
    d.tap("start_button")
    d.wait_for_screen("catalog", timeout=20)
    out["categories"] = _ids_under(d, "side", "category_")
    out["first_items"] = _ids_under(d, "main", "service_")
    d.screenshot("20-catalog-categories")

    d.tap("category_assistance")
    d.wait_for(lambda: "service_GD-SAMPLE-004" in _collect(d, "main", "service_"), what="assistance items")
    out["assistance_items"] = _ids_under(d, "main", "service_")
    d.screenshot("21-catalog-category-assistance")

    d.tap("catalog_search")
    d.wait_for(lambda: service.steps.catalog.search_ready, timeout=60, what="the search to load")
    d.tap("letter_s")
    d.tap("letter_y")
    d.wait_for(lambda: bool(_collect(d, "side", "result_")), what="results for sy")
    out["letters_results"] = _ids_under(d, "side", "result_")
    out["letters_note"] = d.text("catalog_search_note")
    d.screenshot("22-catalog-search-letters")

    d.tap("catalog_by_hand")
    canvas = d.wait_for(lambda: d._find("pad_canvas"), what="the handwriting pad")
    for stroke in SHENG:
        d.call(_draw, stroke, canvas)
    d.wait_for(lambda: bool(canvas.parent.parent.candidates), timeout=10,
               what="handwriting candidates")
    out["hand_candidates"] = d.call(lambda: list(canvas.parent.parent.candidates))
    d.screenshot("23-catalog-search-hand")
    d.tap("pad_candidate_0")
    d.wait_for(lambda: bool(_collect(d, "side", "result_")), what="results for the character")
    out["hand_results"] = _ids_under(d, "side", "result_")
    d.screenshot("23b-catalog-search-hand-results")

    d.tap(out["hand_results"][0])
    d.wait_for_screen("guide")
    out["guide_item"] = service.visit.service_code
    d.screenshot("24-guide-conditions")
    out["conditions"] = d.text("guide_conditions")
    return out


def _popup_text_and_close(d: Any, shot: str) -> str:
    d.wait_for(lambda: d._find("popup_ok") is not None, what="a message")
    text = d.text("popup_message")
    d.screenshot(shot)
    d.tap("popup_ok")
    d.wait_for(lambda: d._find("popup_ok") is None, what="the message to close")
    return text


def devices_maintenance_locked(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """No camera (items marked before the form), no printer (the receipt's words), then
    maintenance by PIN, the county's lock and unlock. Built with ``no_camera`` and ``pin``."""
    from hardware.camera import SAMPLES_DIR, ReplayCamera
    from tests.screens.scenarios import GUI_CAMERA_FPS

    service = d.app.service
    out: dict[str, Any] = {}
    d.wait_for_screen("home")
    d.wait_for(lambda: service.ctx.devices.report, timeout=30, on_ui=False, what="the first device check")
    out["home_notice"] = "拍照设备没有连接，请找工作人员。" in service.steps.home.notices()
    d.screenshot("30-home-no-camera")
    d.tap("start_button")
    d.wait_for_screen("catalog", timeout=20)
    d.screenshot("31-catalog-no-camera")
    d.tap("service_GD-SAMPLE-001")
    out["blocked_message"] = _popup_text_and_close(d, "32-catalog-no-camera-explained")
    out["still_catalog"] = d.current_screen()

    # the camera is back (a technician plugged it in): the item can be done; no printer: note the number
    service.camera = ReplayCamera(SAMPLES_DIR, fps=GUI_CAMERA_FPS)
    service.ctx.devices.check()
    d.tap("category_insurance")
    d.tap("service_GD-SAMPLE-001")
    d.wait_for_screen("guide")
    d.tap("guide_start")
    d.wait_for_screen("form")
    for field, value in (("phone", "13800138000"), ("grade", "360"), ("bank", "psbc")):
        d.call(service.steps.form.set_field, field, value)
    d.tap("form_next")
    d.wait_for_screen("capture")
    d.wait_for(lambda: service.steps.capture.camera_frame() is not None, on_ui=False, what="a camera frame")
    d.tap("capture_shoot")
    d.wait_for(lambda: len(service.steps.capture.pages) == 1, on_ui=False, what="one page")
    d.tap("capture_next")
    d.wait_for_screen("review")
    d.tap("review_confirm")
    sign_and_submit(d)  # consent and signature seal it
    d.wait_for_screen("receipt", timeout=30)
    out["keep"] = d.text("receipt_keep")
    out["qr"] = d.call(lambda: d._find("qr").texture is not None)
    d.screenshot("33-receipt-no-printer")
    d.tap("receipt_done")
    d.wait_for_screen("rating")
    d.tap("rating_skip")  # 好差评 is skippable
    d.wait_for_screen("home")
    maintenance_and_lock(d, params, out)
    return out


def maintenance_and_lock(d: Any, params: dict[str, Any], out: dict[str, Any]) -> None:
    """The technician's PIN (wrong, then right), maintenance, the county's lock and unlock, the lockout."""
    from kiosk.agent.actions import Kit, lock, unlock
    from kiosk.agent.state import AgentState

    service = d.app.service
    pin = params["pin"]
    _hold_corner(d)
    out["pin_wrong"] = _type_pin(d, "0000")
    d.screenshot("34-maintenance-pin-wrong")
    out["pin_right"] = _type_pin(d, pin)
    d.wait_for_screen("maintenance")
    d.tap("maint_self_test")
    d.wait_for(lambda: "身份证读卡器" in d._find("maint_devices").text, timeout=60, what="the self-test")
    d.tap("maint_sync")
    out["maint_devices"] = d.text("maint_devices")
    out["maint_queue"] = d.text("maint_queue")
    out["maint_enrolment"] = d.text("maint_enrolment")
    out["maint_message"] = d.text("maint_message")
    d.screenshot("35-maintenance")
    d.tap("maint_exit")
    d.wait_for_screen("home")

    # the county locks the kiosk: the agent's own action, wired as the running app wires it
    kit = Kit(data_dir=service.settings.data_dir, queue=service.queue, state=AgentState(),
              health=lambda: {}, emit=lambda what, payload: service.emit("fleet", what=what, payload=payload))
    lock(kit, {"notice": "本机正在维修，请到镇政务服务中心办理。"})
    d.wait_for_screen("out_of_service")
    out["locked_notice"] = d.text("out_of_service_notice")
    out["locked_saved"] = AgentState.load(service.settings.data_dir).locked
    out["locked_buttons"] = d.call(lambda: sorted(
        getattr(w, "kiosk_id", "") or type(w).__name__ for w in d._manager().current_screen.walk()
        if type(w).__name__ in ("BigButton", "Button")))
    d.screenshot("36-out-of-service")
    _hold_corner(d)  # the PIN still opens maintenance
    _type_pin(d, pin)
    d.wait_for_screen("maintenance")
    d.tap("maint_exit")
    d.wait_for_screen("out_of_service")  # still locked: back to the notice, not home
    out["after_maintenance_locked"] = d.current_screen()
    unlock(kit, {})
    d.wait_for_screen("home")

    # too many wrong PINs: the keypad refuses, even the right one
    _hold_corner(d)
    out["tries"] = [_type_pin(d, "9999") for _ in range(3)]
    out["right_while_locked"] = _type_pin(d, pin)
    d.screenshot("37-maintenance-pin-locked-out")
    d.tap("pin_cancel")
    out["end_screen"] = d.current_screen()
