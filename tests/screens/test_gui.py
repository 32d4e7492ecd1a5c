"""The real app, driven by touch under Xvfb, with simulated devices (marker ``gui``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from tests.support.kivy_driver import ARTIFACTS, ROOT, Xvfb, run_scenario

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]

SCREENS = ("01-home", "02-identify", "03-catalog", "04-guide", "05-form", "06-capture",
           "07-review", "08-receipt", "09-status", "10-home-en")


@pytest.mark.timeout(900)  # the walk, audited at every screen
def test_walk_every_screen_by_touch(tmp_path):
    """The walk, audited at 1920×1080 on the way (the other sizes: ``test_sizes.py``)."""
    from screens.table import SCREENS as TABLE

    audited = run_scenario("tests.screens.scenarios_sizes:build_app",
                           "tests.screens.scenarios_sizes:audit_every_screen",
                           params={"data_dir": str(tmp_path / "data"), "size": [1920, 1080],
                                   "plain_names": True},
                           timeout=600)["1920x1080"]
    assert not audited["problems"], "\n".join(audited["problems"])
    assert set(audited["screens"]) == set(TABLE)
    result = audited["walk"]
    assert result["counts"]["sealed"] == 1 and sum(result["counts"].values()) == 1
    assert result["entries"] == [result["receipt_number"]]
    assert result["receipt_number"].startswith("K7E57-")
    assert result["badge"] == "等待发送"
    for name in SCREENS:
        png = ARTIFACTS / f"{name}.png"
        assert png.exists() and png.stat().st_size > 10_000, name


def test_capture_screen_draws_the_outline_guides_and_takes_a_steady_page(tmp_path):
    import cv2
    import numpy as np

    from hardware.docscan.synthetic import make_scene

    rng = np.random.default_rng(21)
    scene = make_scene(rng, "wood")
    while any(e in scene.effects for e in ("blur", "glare", "finger")) or scene.quad[:, 1].max() > 690 \
            or scene.quad[:, 1].min() < 30 or cv2.contourArea(scene.quad) < 0.3 * 1280 * 720:
        scene = make_scene(rng, "wood")
    photo = tmp_path / "steady.jpg"
    cv2.imwrite(str(photo), scene.image)
    result = run_scenario("tests.screens.scenarios:build_app", "tests.screens.scenarios:capture_page_outline",
                          params={"data_dir": str(tmp_path / "data"), "steady_page": str(photo)}, timeout=280)
    assert result["pages"] >= 1 and result["media_type"] in ("image/jpeg", "image/webp")
    assert result["bytes"] <= 250_000 and max(result["width"], result["height"]) == 1754
    assert result["guidance"]
    assert result["taken_guidance"] == "拍好了，请放下一页"  # not "马上自动拍照" while it lies there
    assert result["idle_tick_redraws"] is False  # a poll without a new frame redraws nothing
    # under Xvfb (Mesa's llvmpipe) a new frame redraws only the picture's box, and the window
    # then shows exactly what a whole redraw shows
    assert result["partial_redraw"] == {"drawn_in_box": 2, "same_pixels": True, "software": True}
    for name in ("06b-capture-outline", "06c-capture-auto"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000


def test_exception_in_a_callback_shows_a_friendly_message(tmp_path):
    result = run_scenario("tests.screens.scenarios:build_app", "tests.screens.scenarios:callback_error",
                          params={"data_dir": str(tmp_path / "data")}, timeout=90, console_log=True)
    assert result["message"] == "出了点小问题，请重新开始。您的信息已经清除。"
    assert result["errors_handled"] == 1
    assert result["screen"] == "home"
    assert result["session"] is False
    log_path = max(ARTIFACTS.glob("callback_error-*.log"), key=lambda p: p.stat().st_mtime)
    log = log_path.read_text(encoding="utf-8")
    assert "unexpected RuntimeError in a UI callback" in log  # logged for the engineer …
    assert "黄秀梅" not in log and "Traceback" not in log     # … without the message or a traceback


def test_screenshot_switch_saves_the_home_screen_and_exits(tmp_path):
    png = tmp_path / "home.png"
    params = {"data_dir": str(tmp_path / "data"), "screenshot": str(png), "enrolled": False}
    code = ("import json, sys; from tests.screens.scenarios import build_app; "
            "build_app(json.loads(sys.argv[1])).run()")
    xvfb = Xvfb().start()
    try:
        with tempfile.TemporaryDirectory() as kivy_home:
            env = dict(os.environ, DISPLAY=xvfb.display, KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1",
                       KIVY_HOME=kivy_home, KIOSK_UNDER_TEST="1", SDL_AUDIODRIVER="dummy")
            done = subprocess.run([sys.executable, "-c", code, json.dumps(params)], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=60)
    finally:
        xvfb.stop()
    assert done.returncode == 0, done.stderr[-2000:]
    assert png.stat().st_size > 10_000
    shutil.copy(png, ARTIFACTS / "00-home-not-enrolled.png")


def test_driver_takes_commands_from_the_parent_test(tmp_path):
    from tests.support.kivy_driver import AppProcess

    with AppProcess("tests.screens.scenarios:build_app", "tests.screens.scenarios:remote_control",
                    params={"data_dir": str(tmp_path / "data")}) as proc:
        assert proc.receive(timeout=60) == {"ready": True, "screen": "home"}
        proc.send(tap="lang_toggle")
        assert proc.receive(timeout=20) == {"tapped": "lang_toggle", "screen": "home", "language": "en"}
        proc.send(stop=True)
        assert proc.wait(timeout=30) == {"language": "en"}


# -- codes held up to the camera; the grid worker's staff card (real pcscd + vpcd) -------------

from tests.support.pcscd import VPCD_READER  # noqa: E402


def test_status_lookup_by_holding_the_receipt_qr_up_to_the_camera(tmp_path):
    result = run_scenario("tests.screens.scenarios_codes_staff:build_app",
                          "tests.screens.scenarios_codes_staff:status_by_receipt_qr",
                          params={"data_dir": str(tmp_path / "data"), "tmp": str(tmp_path)}, timeout=120)
    assert result["hint"] == "也可以把回执上的二维码对准摄像头"
    assert result["rows"] == [result["number"]]
    assert result["popups"] is False  # an unusable code is a line on the screen, not a popup
    assert result["scanning_after"] is False  # the camera is let go when identify is left
    for name in ("13-identify-status-qr-hint", "13b-identify-unusable-code", "14-status-by-receipt-qr"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000


def test_status_lookup_by_an_id_number_barcode(tmp_path):
    result = run_scenario("tests.screens.scenarios_codes_staff:build_app",
                          "tests.screens.scenarios_codes_staff:status_by_id_barcode",
                          params={"data_dir": str(tmp_path / "data"), "tmp": str(tmp_path)}, timeout=120)
    assert result["rows"] == 1


@pytest.mark.usefixtures("pcscd")  # the real pcscd with vpcd; skips only when they are not installed
def test_grid_worker_signs_in_with_the_staff_card_and_applies_on_a_villagers_behalf(tmp_path):
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    key = X25519PrivateKey.generate()
    hall_key = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
    result = run_scenario("tests.screens.scenarios_codes_staff:build_app",
                          "tests.screens.scenarios_codes_staff:staff_card_login",
                          params={"data_dir": str(tmp_path / "data"), "tmp": str(tmp_path),
                                  "hall_key": hall_key, "pcsc_reader": VPCD_READER}, timeout=280)
    assert result["wrong_message"] == "密码不对，还可以再试 2 次。"
    assert result["staff_line"] == "网格员 GW-441423-0007 代办中"
    assert result["agent"] == {"worker_id": "GW-441423-0007", "county": "441423"}  # no card key for the hall
    assert result["card_key_kept"] is True  # the outbox keeps it: the worklist's reasons are sealed to it
    assert "网格员 GW-441423-0007 代办" in result["details"]
    assert result["still_after_receipt"] == result["staff_line"]
    assert result["staff_after"] is False
    for name in ("15-staff-pin", "15b-staff-pin-wrong", "16-home-grid-worker", "17-receipt-grid-worker",
                 "18-home-signed-out"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000
