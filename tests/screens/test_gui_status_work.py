"""Corrections at the kiosk in the real app under Xvfb (marker ``gui``): the status screen's
correction and 补交材料, the supplement's confirmation, the grid worker's worklist with a
missing camera and then the page added: one app start for all of it."""

from __future__ import annotations

import shutil

import pytest

from tests.support.kivy_driver import ARTIFACTS, run_scenario

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]


def test_a_correction_is_answered_by_the_villager_and_by_the_grid_worker(tmp_path):
    result = run_scenario("tests.screens.scenarios_status_work:build_app",
                          "tests.screens.scenarios_status_work:corrections_at_the_kiosk",
                          params={"data_dir": str(tmp_path / "data")}, timeout=300)
    # the villager's card opens both reasons; the materials come from the catalog
    reason = "户口簿照片看不清，请重新拍户主页"
    correction = {"materials": ["居民户口簿"], "reason": reason, "state": "要补材料"}
    done = {"materials": [], "reason": "", "state": "已办结"}
    assert result["status_rows"] == [correction, correction, done]
    # issue 12: the official number only once accepted; before, the receipt's number
    numbers = sorted((official, receipt) for receipt, official in result["status_numbers"])
    assert [official for official, _ in numbers] == ["", "441423-20261201-0002", "441423-20261201-0003"]
    receipt = numbers[0][1]
    assert receipt.startswith("K")
    # the result: no printer, so shown big with where to get the paper; gone with the visit
    assert result["result_message"].startswith("这台机器没有打印机")
    # every page of the letter (rendered on the hall), shown one under the other
    assert result["result_kept"] == 2 and result["result_scrolls"] is True
    assert "共 2 页，往上滑看下一页" in result["result_message"]
    assert result["result_after_visit"] is False
    assert result["villager_materials"] == ["M1"] and result["worker_materials"] == ["M1"]
    assert result["villager_headline"] == "已补交，请等待县里审核"
    assert "居民户口簿" in result["villager_details"] and receipt in result["villager_details"]
    assert result["take_card"] == "请取回身份证"
    # the worker sees their one application, its materials, no reason: made without a staff card
    # key, it is sealed to the villager only, and the card says so (the card's key: the walks)
    assert result["worklist_rows"] == [{"number": "441423-20261201-0002", "materials": ["居民户口簿"],
                                        "reason": "", "note": "县里写了原因：请村民刷身份证查看"}]
    assert "GW-0042" in result["worklist_summary"]
    assert "摄像头" in result["no_camera"] and result["after_no_camera"] == "worklist"
    assert result["worker_headline"] == "已补交，请等待县里审核"
    assert result["supplements"] == [True, True]  # two supplements queued, one per correction
    for name in ("01-correction", "02-result", "villager-capture", "villager-sent", "04-home-staff",
                 "05-worklist", "06-worklist-no-camera", "worker-capture", "worker-sent"):
        assert (ARTIFACTS / f"status-work-{name}.png").stat().st_size > 10_000
