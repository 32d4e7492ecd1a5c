"""The end of a visit in the real app under Xvfb (marker ``gui``): one app start for all of it."""

from __future__ import annotations

import shutil

import pytest

from tests.support.kivy_driver import ARTIFACTS, run_scenario

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]


def test_idle_warning_and_the_end_of_a_visit(tmp_path):
    result = run_scenario("tests.screens.scenarios_end:build_app", "tests.screens.scenarios_end:end_of_visit",
                          params={"data_dir": str(tmp_path / "data")}, timeout=240)
    # the idle warning: a countdown, a touch keeps the visit, zero wipes it
    assert result["warning_title"] == "您还在吗？"
    assert 30 <= result["countdown"] <= 55
    assert result["kept"] is True and result["left_after_touch"] > 250
    assert result["visit_after_wipe"] is False and result["visit_wiped"] is True
    assert result["wiped_notice"].startswith("很久没有操作") and "已经清除" in result["wiped_notice"]
    # consent and signature before the seal; an empty pad is refused with a clear message
    assert result["sealed_before_signing"] == 0
    # the rating, queued as its own record naming the receipt's application
    assert result["ratings"] == [{"application_ref": result["receipt_number"],
                                  "service_code": "GD-SAMPLE-001", "score": 2, "reason": "slow"}]
    # a finished visit: no wipe notice, and the card left on the reader is asked for
    assert result["visit_after_receipt"] is False
    assert result["overlays_after_success"] == ["TakeCardOverlay"]  # no wipe notice
    assert result["take_card_title"] == "请取回身份证"
    assert result["sealed"]["sealed"] == 1 and sum(result["sealed"].values()) == 1
    for name in ("20-idle-warning", "21-idle-wiped", "22a-signature", "22b-signature-empty", "22-signature",
                 "23-rating", "23b-rating-reason", "24-take-card"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000
