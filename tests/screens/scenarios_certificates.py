"""The e-certificates scenario (tests/screens/test_gui_certificates.py): one app start, a real hall.

The kiosk is enrolled with the test's hall (``params["data_dir"]`` holds its
``identity.json``), so the lookup is the real signed request and the answer is checked
with the pinned key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hardware.sample_cards import ELDERLY_VILLAGER
from tests.screens.scenarios import build_service
from tests.screens.signing import sign_and_submit

ITEM = "GD-SAMPLE-005"  # 特困人员救助供养: household register and disability certificate are e-certificates


def build_app(params: dict[str, Any]) -> Any:
    from kiosk.app import KioskApp
    from offline_queue.identity import DeviceIdentity

    service = build_service({**params, "enrolled": False})
    service.identity = DeviceIdentity.load(Path(params["data_dir"]))
    return KioskApp(service=service, settings=service.settings)


def use_certificates(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """card → item 005 → form (the hall is asked meanwhile) → found → agree → the one page left → receipt."""
    service, out = d.app.service, {}
    d.wait_for_screen("home")
    simulator = service.id_reader.simulator
    simulator.remove_card()
    d.tap("start_button")
    d.wait_for_screen("identify")
    simulator.present_card(ELDERLY_VILLAGER)
    d.wait_for_screen("catalog", timeout=20)
    d.tap("category_assistance")
    d.tap(f"service_{ITEM}")
    d.wait_for_screen("guide")
    d.tap("guide_start")
    d.wait_for_screen("form")
    d.tap("field_phone")
    for digit in "13800138000":
        d.tap(f"keypad_{digit}")
    d.tap("choice_care_home")
    d.tap("choice_self_care_full")
    d.wait_for(lambda: service.visit.fields.get("phone") == "13800138000", what="the phone number")
    d.wait_for(lambda: service.visit.certificates is not None and service.visit.certificates.state == "found",
               timeout=30, what="the hall's answer")

    d.tap("form_next")
    d.wait_for_screen("certificates")
    d.wait_for(lambda: d._find("certificates_use") is not None, what="the 'use' button")
    d.screenshot("40-certificates-found")
    out["message"] = d.text("certificates_message")
    out["found"] = [(line.name, line.number) for line in service.steps.certificates.lines()]
    offer = service.visit.certificates

    d.tap("certificates_use")
    d.wait_for_screen("capture")
    out["capture_rows"] = [row.id for row in service.steps.capture.materials_to_capture()]
    d.wait_for(lambda: service.steps.capture.camera_frame() is not None, what="a camera frame")
    d.tap("capture_shoot")
    d.wait_for(lambda: len(service.steps.capture.pages) == 1, what="one page")
    d.screenshot("41-capture-the-rest")

    d.tap("capture_next")
    d.wait_for_screen("review")
    d.screenshot("42-review-certificates")
    out["review"] = {line.label: line.value for line in service.steps.review.lines()}
    d.tap("review_confirm")
    sign_and_submit(d)
    d.wait_for_screen("receipt", timeout=20)
    out["receipt_number"] = d.text("receipt_number")
    d.screenshot("43-receipt")
    d.tap("receipt_done")
    d.tap("rating_skip")
    d.wait_for_screen("home")
    out["visit_after"] = service.visit is not None
    out["offer_after"] = [len(offer.found), offer.agreed]
    return out
