"""GUI scenarios for codes held up to the camera and the grid worker's staff card.

``build_app(params)`` is ``tests.screens.scenarios.build_app`` plus:

* one application of the sample villager already queued (so a receipt exists), and its
  receipt QR, an e-government QR and the villager's ID-number Code 128 written as
  pictures into ``params["tmp"]``;
* the camera a ``HeldUpCamera``: the sample pages until the scenario "holds up" a picture;
* with ``params["hall_key"]`` (hex) the device identity seals to that key, so the scenario
  can open what it sealed; with ``params["pcsc_reader"]`` the PC/SC reader of that name is
  watched (the real ``pcscd`` the parent test started, vpcd's virtual reader).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from hardware.sample_cards import ELDERLY_VILLAGER
from tests.screens.scenarios import SERVICE, build_service, make_identity
from tests.screens.signing import sign_and_submit

EGOV_TEXT = "https://www.gdzwfw.gov.cn/portal/v2/qr?code=YSS-20251128-ABCDEF"


class HeldUpCamera:
    """Replays the sample pages; ``hold_up(path)`` puts a picture in front of the lens."""

    def __init__(self, default: Any) -> None:
        self._default = default
        self._held: Any = None
        self._lock = threading.Lock()

    def hold_up(self, path: str | None) -> None:
        from hardware.camera import ReplayCamera

        with self._lock:
            self._held = ReplayCamera([Path(path)], fps=15) if path else None

    def read_frame(self) -> Any:
        with self._lock:
            camera = self._held or self._default
        return camera.read_frame()

    def close(self) -> None:
        self._default.close()


def code_picture(symbology: str, text: str) -> np.ndarray:
    """A printed code held up close to a 1280×720 camera (BGR)."""
    from hardware.barcode_samples import code_modules

    modules = code_modules(symbology, text.encode("utf-8"))
    scale = 8 if symbology == "QRCODE" else 3
    code = cv2.resize(((1 - modules) * 255).astype(np.uint8), None, fx=scale, fy=scale,
                      interpolation=cv2.INTER_NEAREST)
    frame = np.full((720, 1280), 225, np.uint8)
    h, w = code.shape
    y, x = (720 - h) // 2, (1280 - w) // 2
    frame[y:y + h, x:x + w] = code
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def queue_sample_application(service: Any) -> Any:
    """Confirm one application of the sample villager, as the confirm button would."""
    service.steps.home.start_application()
    service.visit.card = ELDERLY_VILLAGER
    service.steps.catalog.choose(SERVICE)
    for field, value in (("phone", "13800138000"), ("grade", "360"), ("bank", "psbc")):
        service.steps.form.set_field(field, value)
    service.steps.capture.capture_page()
    receipt = service.steps.review.confirm()
    service.finish()
    return receipt


def build_app(params: dict[str, Any]) -> Any:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from kiosk.app import KioskApp

    service = build_service(params)
    if params.get("hall_key"):
        key = X25519PrivateKey.from_private_bytes(bytes.fromhex(params["hall_key"]))
        service.identity = make_identity(service.settings.kiosk.county, service.settings.hall.url, key)
    receipt = queue_sample_application(service)
    tmp = Path(params["tmp"])
    for name, symbology, text in (("receipt_qr", "QRCODE", receipt.qr_text), ("egov_qr", "QRCODE", EGOV_TEXT),
                                  ("id_barcode", "CODE128", ELDERLY_VILLAGER.id_number)):
        cv2.imwrite(str(tmp / f"{name}.png"), code_picture(symbology, text))
    (tmp / "receipt.json").write_text(json.dumps({"number": receipt.provisional_number}))
    service.camera = HeldUpCamera(service.camera)
    if params.get("pcsc_reader"):
        from hardware.pcsc_reader import PcscCardReader
        from kiosk.staff import SmartCardDesk

        service.watch_smart_cards(SmartCardDesk(PcscCardReader(params["pcsc_reader"], require_removal=True)))
    return KioskApp(service=service, settings=service.settings)


# -- scenarios ----------------------------------------------------------------------------------


def status_by_receipt_qr(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """查进度, no card: an e-government QR gets a kind line; the receipt QR shows the status."""
    service, tmp = d.app.service, Path(params["tmp"])
    d.wait_for_screen("home")
    service.id_reader.simulator.remove_card()
    d.tap("status_button")
    d.wait_for_screen("identify")
    d.wait_for(lambda: service.steps.identify.code_scanning, what="the camera looking for codes")
    hint = d.text("code_hint")
    d.screenshot("13-identify-status-qr-hint")
    service.camera.hold_up(str(tmp / "egov_qr.png"))
    unusable = service.t("lookup.code_unusable")
    d.wait_for(lambda: d.call(lambda: d.app.nav.current_screen.problem) == unusable, timeout=20,
               what="the friendly line for an unusable code", on_ui=False)
    d.screenshot("13b-identify-unusable-code")
    popups = d.exists("popup_ok")
    service.camera.hold_up(str(tmp / "receipt_qr.png"))
    d.wait_for_screen("status", timeout=20)
    d.wait_for(lambda: d._find("status_badge_0") is not None, what="a status row")
    d.screenshot("14-status-by-receipt-qr")
    rows = [r.provisional_number for r in service.steps.status.my_applications()]
    scanning_after = service.steps.identify.code_scanning
    service.camera.hold_up(None)
    d.tap("status_done")
    d.wait_for_screen("home")
    number = json.loads((tmp / "receipt.json").read_text())["number"]
    return {"hint": hint, "rows": rows, "popups": popups, "scanning_after": scanning_after, "number": number}


def status_by_id_barcode(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """查进度 with the ID number's Code 128 held up instead of the card."""
    service, tmp = d.app.service, Path(params["tmp"])
    d.wait_for_screen("home")
    service.id_reader.simulator.remove_card()
    d.tap("status_button")
    d.wait_for_screen("identify")
    service.camera.hold_up(str(tmp / "id_barcode.png"))
    d.wait_for_screen("status", timeout=20)
    d.wait_for(lambda: d._find("status_badge_0") is not None, what="a status row")
    d.screenshot("14b-status-by-id-barcode")
    summary = d.call(lambda: d.app.nav.current_screen.summary)
    return {"rows": len(service.steps.status.my_applications()), "summary": summary}


def staff_card_login(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """A grid worker taps the staff card (real pcscd + vpcd), types the PIN, applies, signs out."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from hardware.vpcd_card import VpcdCard, sample_staff_card
    from offline_queue.sealing import open_box

    service = d.app.service
    d.wait_for_screen("home")
    card = VpcdCard(sample_staff_card())
    card.insert()
    try:
        d.wait_for(lambda: d._find("pin_ok") is not None, timeout=20, what="the PIN keypad")
        d.screenshot("15-staff-pin")
        for digit in "000000":
            d.tap(f"keypad_{digit}")
        d.tap("pin_ok")
        d.wait_for(lambda: "2" in (d.text("pin_message") or ""), timeout=15, what="the tries left",
                   on_ui=False)
        wrong_message = d.text("pin_message")
        d.screenshot("15b-staff-pin-wrong")
        for digit in "123456":
            d.tap(f"keypad_{digit}")
        d.tap("pin_ok")
        d.wait_for(lambda: d._find("pin_ok") is None, timeout=15, what="the keypad to close")
    finally:
        card.remove()
    d.wait_for(lambda: bool(d.text("staff_line")), what="the grid worker line", on_ui=False)
    staff_line = d.text("staff_line")
    d.screenshot("16-home-grid-worker")

    d.tap("start_button")
    d.wait_for_screen("catalog", timeout=20)  # the villager's ID card (the simulator holds one)
    d.tap(f"service_{SERVICE}")
    d.wait_for_screen("guide")
    d.tap("guide_start")
    d.wait_for_screen("form")
    for field, value in (("phone", "13800138000"), ("grade", "360"), ("bank", "psbc")):
        d.call(service.steps.form.set_field, field, value)
    d.tap("form_next")
    d.wait_for_screen("capture")
    d.wait_for(lambda: service.steps.capture.camera_frame() is not None, what="a camera frame")
    d.tap("capture_shoot")
    d.wait_for(lambda: len(service.steps.capture.pages) >= 1, what="one page")
    d.tap("capture_next")
    d.wait_for_screen("review")
    d.tap("review_confirm")
    sign_and_submit(d)  # consent and signature seal it
    d.wait_for_screen("receipt", timeout=20)
    number = d.text("receipt_number")
    details = d.call(lambda: d.app.nav.current_screen.details)
    d.screenshot("17-receipt-grid-worker")

    entry = next(e for e in service.queue.entries() if e.provisional_number == number)
    key = X25519PrivateKey.from_private_bytes(bytes.fromhex(params["hall_key"]))
    document = json.loads(open_box(service.queue.sealed_document(entry.id), key, entry.id.encode()))
    # the staff card's public key, kept by the outbox for the worklist's reasons (not in the document)
    card_key_kept = service.queue._store.get(entry.id).agent_public == card.card.public_key
    d.tap("receipt_done")
    d.tap("rating_skip")  # 好差评 is skippable
    d.wait_for_screen("home")
    still = d.text("staff_line")
    d.tap("staff_logout")
    d.wait_for(lambda: service.staff is None, what="the sign-out")
    d.wait_for(lambda: not d.text("staff_line"), what="the line to go", on_ui=False)
    d.screenshot("18-home-signed-out")
    return {"wrong_message": wrong_message, "staff_line": staff_line, "agent": document.get("agent"),
            "details": details, "still_after_receipt": still, "staff_after": service.staff is not None,
            "card_key_kept": card_key_kept}
