"""The app the GUI tests drive, and the scenarios they run (in the app's own process).

``build_app(params)`` wires a real ``KioskApp`` to simulated devices: the SAM simulator on
a pty (with a sample card) behind the real serial driver, the replay camera on the
bundled sample pictures, an outbox in ``params["data_dir"]`` and a device identity made
here (no hall is needed: the hall's key pair is generated on the spot).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hardware.sample_cards import ELDERLY_VILLAGER
from tests.screens.signing import sign_and_submit

SERVICE = "GD-SAMPLE-001"
# The sample pictures paced as a slow camera: the capture screen's page detection and the identify
# screen's code scan run on every frame, and each new frame is drawn again (software GL under Xvfb):
# unpaced, they ran flat out behind the scenario. A scenario needs a frame, not a frame rate.
GUI_CAMERA_FPS = 4.0


def make_identity(county: str, hall_url: str, hall_key: X25519PrivateKey | None = None) -> Any:
    """A device identity; ``hall_key`` is the hall's sealing key (a fresh one when None)."""
    from offline_queue.identity import DeviceIdentity

    hall_key = hall_key or X25519PrivateKey.generate()
    hall_seal = hall_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    hall_sign = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return DeviceIdentity(device_id="kiosk-7e57a001", county=county, hall_url=hall_url,
                          private_key=Ed25519PrivateKey.generate(), hall_seal_public_key=hall_seal,
                          hall_sign_public_key=hall_sign)


def build_service(params: dict[str, Any]) -> Any:
    from hardware.camera import SAMPLES_DIR, ReplayCamera
    from hardware.factory import build_id_reader
    from kiosk.catalog import load_catalog
    from kiosk.i18n import Translator
    from kiosk.service import KioskService
    from kiosk.settings import load_settings
    from offline_queue.outbox import OfflineQueue

    data_dir = Path(params["data_dir"])
    settings = load_settings(data_dir=data_dir, environ={})
    # the voice (espeak-ng, a player per prompt) only where a scenario listens to it: the GUI suite's time
    settings = settings.with_overrides({"kiosk.idle_timeout_s": params.get("idle_timeout_s", 300),
                                        "voice.enabled": bool(params.get("voice", False))})
    queue = OfflineQueue(data_dir, settings.queue.budget_bytes,
                         near_full_fraction=settings.queue.near_full_fraction)
    identity = None
    if params.get("hall_url"):  # enrolled by the test with a real hall: its identity.json in data_dir
        from offline_queue.identity import DeviceIdentity

        identity = DeviceIdentity.load(data_dir)
    elif params.get("enrolled", True):
        identity = make_identity(settings.kiosk.county, settings.hall.url)
    return KioskService(
        settings=settings, catalog=load_catalog(), translator=Translator.load(lang=settings.kiosk.language),
        id_reader=build_id_reader(settings.devices.id_reader),
        camera=ReplayCamera(SAMPLES_DIR, fps=GUI_CAMERA_FPS),
        queue=queue, identity=identity, sync_worker=None, clock=time.time,
    )


def build_app(params: dict[str, Any]) -> Any:
    from kiosk.app import KioskApp

    service = build_service(params)
    if params.get("steady_page"):  # one page held still under the camera
        from hardware.camera import ReplayCamera

        service.camera = ReplayCamera([Path(params["steady_page"])], fps=15)
    shot = params.get("screenshot")
    return KioskApp(service=service, settings=service.settings, screenshot=Path(shot) if shot else None,
                    exit_after=params.get("exit_after"))


# -- scenarios ----------------------------------------------------------------------------


def walk_every_screen(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """home → identify → catalog → guide → form → capture → review → receipt → home → status."""
    service = d.app.service
    d.wait_for_screen("home")
    d.screenshot("01-home")

    simulator = service.id_reader.simulator
    simulator.remove_card()  # so that the identify screen waits for one
    d.tap("start_button")
    d.wait_for_screen("identify")
    d.screenshot("02-identify")
    simulator.present_card(ELDERLY_VILLAGER)
    d.wait_for_screen("catalog", timeout=20)  # the card is read through the real serial driver
    d.screenshot("03-catalog")

    d.tap(f"service_{SERVICE}")
    d.wait_for_screen("guide")
    d.screenshot("04-guide")

    d.tap("guide_start")
    d.wait_for_screen("form")
    d.tap("form_next")  # nothing chosen yet: the red words show
    d.wait_for(lambda: d._find("popup_ok") is not None, what="the 'fill in' message")
    d.screenshot("05a-form-errors")
    d.tap("popup_ok")
    d.wait_for(lambda: d._find("popup_ok") is None, what="the message to close")
    d.tap("field_phone")
    for digit in "13800138000":
        d.tap(f"keypad_{digit}")
    d.tap("choice_grade_360")
    d.tap("choice_bank_psbc")
    d.wait_for(lambda: service.visit.fields.get("phone") == "13800138000", what="the phone number")
    d.screenshot("05-form")

    d.tap("form_next")
    d.wait_for_screen("capture")
    d.wait_for(lambda: service.steps.capture.camera_frame() is not None, what="a camera frame")
    d.screenshot("06a-capture")
    d.tap("capture_shoot")
    d.wait_for(lambda: len(service.steps.capture.pages) == 1, what="one page")
    d.tap("capture_shoot")
    d.wait_for(lambda: len(service.steps.capture.pages) == 2, what="two pages")
    d.tap("page_delete_1")
    d.wait_for(lambda: len(service.steps.capture.pages) == 1, what="the retaken page deleted")
    d.screenshot("06-capture")

    d.tap("capture_next")
    d.wait_for_screen("review")
    d.screenshot("07-review")

    d.tap("review_confirm")
    sign_and_submit(d)  # consent and signature seal it
    d.wait_for_screen("receipt", timeout=20)
    number = d.text("receipt_number")
    d.screenshot("08-receipt")

    d.tap("receipt_done")
    d.tap("rating_skip")  # 好差评 is skippable
    d.wait_for_screen("home")
    assert service.visit is None, "the session was not wiped"

    d.tap("status_button")
    d.wait_for_screen("status", timeout=20)
    d.wait_for(lambda: d._find("status_badge_0") is not None, what="a status row")
    d.screenshot("09-status")
    badge = d.text("status_badge_0")
    d.tap("status_done")
    d.wait_for_screen("home")

    d.tap("lang_toggle")
    d.wait_for(lambda: service.language == "en", what="English")
    d.screenshot("10-home-en")
    summary = service.queue.summary()
    return {"receipt_number": number, "badge": badge, "counts": dict(summary.counts),
            "entries": [e.provisional_number for e in service.queue.entries()]}


def callback_error(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """An exception raised in a UI callback shows the friendly message and goes home."""
    service = d.app.service
    d.wait_for_screen("home")
    d.tap("start_button")
    d.wait_for_screen("catalog", timeout=20)

    def boom(*_args: Any) -> None:
        raise RuntimeError("a bug with 黄秀梅 in its message")

    button = d.find(f"service_{SERVICE}")
    d.call(lambda: button.bind(on_release=boom))
    d.tap(button)
    d.wait_for(lambda: d._find("popup_ok") is not None, what="the friendly message")
    d.wait_for_screen("home")
    message = d.text("popup_message")
    d.screenshot("11-unexpected-error")
    d.tap("popup_ok")
    d.wait_for(lambda: d._find("popup_ok") is None, what="the message to close")
    return {"message": message, "errors_handled": d.app.errors_handled, "screen": d.current_screen(),
            "session": service.visit is not None, "alive": True}


def remote_control(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Obey taps sent by the parent test, one JSON line each, until told to stop."""
    d.wait_for_screen("home")
    d.send(ready=True, screen=d.current_screen())
    while True:
        command = d.receive(timeout=30)
        if command.get("stop"):
            return {"language": d.app.service.language}
        d.tap(command["tap"])
        d.send(tapped=command["tap"], screen=d.current_screen(), language=d.app.service.language)


def _idle_tick_redraws(screen: Any, capture: Any) -> bool:
    """Whether a poll of the capture screen that brings no new frame still asks for a redraw of the
    window (under a software renderer each costs tens of ms of CPU). On the UI thread."""
    import dataclasses

    from kivy.core.window import Window

    screen.leave()  # its own polling stops while the same view is shown twice
    view = dataclasses.replace(capture.live_preview(), fire=False)
    capture.live_preview = lambda: view
    try:
        screen._tick(0)
        Window.dispatch("on_draw")  # what the event loop does when something asked for a redraw
        Window.dispatch("on_flip")
        screen._tick(0)  # the same frame, outline and advice again
        return bool(Window.canvas.needs_redraw)
    finally:
        del capture.live_preview
        screen.on_enter()


def _window_pixels() -> Any:
    from kivy.core.window import Window
    from kivy.graphics.opengl import GL_RGB, GL_UNSIGNED_BYTE, glReadPixels

    width, height = (int(v) for v in Window.size)
    return glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE)


def _partial_redraw_check(screen: Any, capture: Any) -> dict[str, Any]:
    """A new preview frame (another picture, the outline moved) redrawn inside the picture's box
    alone (screens/widgets/live_region.py), against the same window redrawn whole: the pixels must
    be the same. On the UI thread."""
    import dataclasses

    from kivy.core.window import Window

    screen.leave()  # its own polling stops; the frames below are made here
    region = screen.region
    region.start()
    view = capture.live_preview()
    try:
        Window.canvas.ask_update()
        Window.dispatch("on_draw")
        Window.dispatch("on_flip")
        partial = region.partial
        # the page half off the picture's right edge: the outline drawn beside the picture, on
        # pixels the picture does not cover, which the next frame must clear (only those are)
        off = [(x + view.frame.shape[1] // 2, y) for x, y in view.outline]
        moved = [(x + 40, y + 25) for x, y in view.outline]  # then back, slid a little
        for n, outline in enumerate((off, moved), start=1):
            other = dataclasses.replace(view, frame=view.frame[::-1].copy() if n == 2 else view.frame,
                                        outline=outline, sequence=view.sequence + n)
            screen._show_frame(other.frame)
            screen._draw_outline(other)
            Window.dispatch("on_draw")
            Window.dispatch("on_flip")
        drawn_in_box = region.partial - partial
        after_partial = _window_pixels()
        Window.canvas.ask_update()  # nothing but the window itself changed: drawn whole
        Window.dispatch("on_draw")
        Window.dispatch("on_flip")
        whole = _window_pixels()
        return {"drawn_in_box": drawn_in_box, "same_pixels": after_partial == whole,
                "software": region._bound}
    finally:
        screen.on_enter()


def capture_page_outline(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The capture screen with a steady page: outline, guidance, auto-capture, delete."""
    service = d.app.service
    d.wait_for_screen("home")
    d.tap("start_button")
    d.wait_for_screen("catalog", timeout=20)
    d.tap(f"service_{SERVICE}")
    d.wait_for_screen("guide")
    d.tap("guide_start")
    d.wait_for_screen("form")
    d.tap("form_next")
    d.wait_for(lambda: d._find("popup_ok") is not None, what="the 'fill in' message")
    d.tap("popup_ok")
    d.wait_for(lambda: d._find("popup_ok") is None, what="the message to close")
    service.steps.form.set_field("phone", "13800138000")
    service.steps.form.set_field("grade", "360")
    service.steps.form.set_field("bank", "psbc")
    d.tap("form_next")
    d.wait_for_screen("capture")
    screen = d.app.root.current_screen if hasattr(d.app.root, "current_screen") else None
    capture = service.steps.capture
    d.wait_for(lambda: capture.scan_preview() is not None and bool(capture.scan_preview().outline),
               timeout=20, what="the page outline")
    d.screenshot("06b-capture-outline")
    guidance = d.text("capture_guidance")
    d.wait_for(lambda: len(service.steps.capture.pages) >= 1, timeout=20, what="the page taken by itself")
    taken = service.t("scan.guide.taken")
    d.wait_for(lambda: d.text("capture_guidance") == taken, timeout=10, what="the 'page taken' advice",
               on_ui=False)
    d.screenshot("06c-capture-auto")
    page = service.steps.capture.pages[0]
    idle_redraw = d.call(_idle_tick_redraws, d.app.nav.manager.current_screen, capture)
    partial = d.call(_partial_redraw_check, d.app.nav.manager.current_screen, capture)
    return {"idle_tick_redraws": idle_redraw, "partial_redraw": partial, "guidance": guidance,
            "taken_guidance": d.text("capture_guidance"),
            "pages": len(service.steps.capture.pages), "media_type": page.media_type,
            "width": page.width, "height": page.height, "bytes": len(page.data),
            "screen": screen is not None}
