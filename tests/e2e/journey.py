"""The villager's journey, run inside the kiosk's own process by the Kivy driver.

``build_app`` wires the kiosk exactly as `kiosk run` does (``kiosk.runtime``), from a
data directory that `kiosk enroll` has enrolled with a real county hall: the SAM reader
simulator behind the real serial driver, the replay camera, the sealed outbox and the
background sync worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hardware.sample_cards import ELDERLY_VILLAGER
from tests.screens.signing import sign_and_submit

SERVICE = "GD-SAMPLE-001"


def build_app(params: dict[str, Any]) -> Any:
    from kiosk.app import KioskApp
    from kiosk.runtime import build_service
    from kiosk.settings import load_settings

    settings = load_settings(data_dir=Path(params["data_dir"]), environ={}).with_overrides(
        {
            "hall.url": params["hall_url"],
            "devices.id_reader.driver": "sam_simulator",
            "devices.camera.driver": "replay",
            # a quick village link: the test should not wait out production intervals
            "sync.interval_s": 1.0,
            "sync.backoff_base_s": 0.5,
            "sync.backoff_max_s": 2.0,
            "kiosk.maintenance_window": "",  # the hall's restart may run whenever no villager is here
        }
    )
    service = build_service(settings)
    return KioskApp(service=service, settings=settings)


def apply_then_check_status(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    service = d.app.service
    simulator = service.id_reader.simulator
    d.wait_for_screen("home")
    d.screenshot("e2e-01-home")

    simulator.remove_card()
    d.tap("start_button")
    d.wait_for_screen("identify")
    d.screenshot("e2e-02-identify")
    simulator.present_card(ELDERLY_VILLAGER)
    d.wait_for_screen("catalog", timeout=20)
    d.screenshot("e2e-03-catalog")

    d.tap(f"service_{SERVICE}")
    d.wait_for_screen("guide")
    d.screenshot("e2e-04-guide")
    d.tap("guide_start")
    d.wait_for_screen("form")
    d.tap("field_phone")
    for digit in "13800138000":
        d.tap(f"keypad_{digit}")
    d.tap("choice_grade_360")
    d.tap("choice_bank_psbc")
    d.screenshot("e2e-05-form")
    d.tap("form_next")

    d.wait_for_screen("capture")
    d.wait_for(lambda: service.steps.capture.camera_frame() is not None, what="a camera frame")
    d.tap("capture_shoot")
    d.wait_for(lambda: len(service.steps.capture.pages) == 1, what="one page")
    d.screenshot("e2e-06-capture")
    d.tap("capture_next")
    d.wait_for_screen("review")
    d.screenshot("e2e-07-review")
    d.tap("review_confirm")
    sign_and_submit(d)  # consent and signature seal it
    d.wait_for_screen("receipt", timeout=20)
    number = d.text("receipt_number")
    d.screenshot("e2e-08-receipt")

    # The hall is down until the parent test brings it up and accepts the application.
    d.send(
        event="receipt",
        provisional_number=number,
        queued={k: v for k, v in service.queue.summary().counts.items() if v},
    )
    command = d.receive(timeout=180)
    assert command.get("command") == "check_status", command

    d.tap("receipt_done")
    d.tap("rating_skip")  # 好差评 is skippable
    d.wait_for_screen("home")
    assert service.visit is None, "the session was not wiped after the receipt"
    simulator.remove_card()
    d.tap("status_button")
    d.wait_for_screen("identify")
    simulator.present_card(ELDERLY_VILLAGER)  # the villager places the card again
    d.wait_for_screen("status", timeout=20)
    accepted = service.t("status.state.accepted")

    # The worker pulls the county's change in the background; the screen updates itself.
    d.wait_for(
        lambda: d.exists("status_badge_0") and d.text("status_badge_0") == accepted,
        timeout=60,
        what="the accepted status",
        on_ui=False,
    )
    d.screenshot("e2e-09-status")
    return {
        "provisional_number": number,
        "badge": d.text("status_badge_0"),
        "accepted_text": accepted,
        "entries": [(e.provisional_number, e.official_number, e.state) for e in service.queue.entries()],
    }


def journey_then_restart(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The journey; then, with the villager still on the status screen, the hall's restart command
    (issued by the parent test) is delivered and waits; the villager leaves, and the app stops by
    itself to be started again (the process exits 75, as `kiosk run` does)."""
    service = d.app.service
    agent = service.fleet_agent  # the running app's own device agent (kiosk.agent.wiring.start_agent)
    d.send(event="status", **apply_then_check_status(d, params))
    command = d.receive(timeout=120)
    assert command.get("command") == "restart_issued", command
    agent.loop.wake()  # the next heartbeat now, not at the hall's interval
    d.send(event="woke", visit=service.visit is not None)
    command = d.receive(timeout=120)  # the parent saw the command delivered and still pending
    assert command.get("command") == "leave", command
    still = {"screen": d.current_screen(), "restart_requested": d.app.restart_requested,
             "visit": service.visit is not None}
    d.screenshot("e2e-10-status-restart-waiting")
    d.tap("status_done")  # the villager is done
    d.wait_for(lambda: service.visit is None, what="the visit to end")
    service.id_reader.simulator.remove_card()  # and takes the card
    agent.loop.wake()
    d.wait_for(lambda: d.app.restart_requested, timeout=90, what="the restart", on_ui=False)
    return {"while_visit": still, "restart_requested": d.app.restart_requested}
