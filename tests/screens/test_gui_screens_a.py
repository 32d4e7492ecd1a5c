"""The real app under Xvfb: the catalog's categories and search, the guide's conditions,
device problems, maintenance and the out-of-service notice (marker ``gui``)."""

from __future__ import annotations

import shutil

import pytest

from tests.support.kivy_driver import ARTIFACTS, run_scenario

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]


def _pngs(*names: str) -> None:
    for name in names:
        png = ARTIFACTS / f"{name}.png"
        assert png.exists() and png.stat().st_size > 10_000, name


def test_catalog_by_category_search_by_letters_and_handwriting_then_the_guide(tmp_path):
    result = run_scenario("tests.screens.scenarios_screens_a:build_app",
                          "tests.screens.scenarios_screens_a:catalog_search_and_guide",
                          params={"data_dir": str(tmp_path / "data")}, timeout=180)
    assert result["categories"] == ["category_insurance", "category_assistance", "category_family",
                                    "category_farming"]
    assert result["first_items"] == [f"service_GD-SAMPLE-00{n}" for n in (1, 2, 3)]
    assert len(result["assistance_items"]) == 5
    assert result["letters_results"][0] == "result_GD-SAMPLE-013"
    assert result["letters_note"].startswith("你按了：sy")
    assert result["hand_candidates"][0] == "生"
    assert "result_GD-SAMPLE-008" in result["hand_results"]
    assert result["guide_item"] == result["hand_results"][0].removeprefix("result_")
    assert result["conditions"].startswith("•  ")
    _pngs("20-catalog-categories", "21-catalog-category-assistance", "22-catalog-search-letters",
          "23-catalog-search-hand", "23b-catalog-search-hand-results", "24-guide-conditions")


@pytest.mark.timeout(420)  # the scenario may take its 400 s on a loaded machine (278 s at load 20)
def test_device_problems_maintenance_and_the_county_lock(tmp_path):
    result = run_scenario("tests.screens.scenarios_screens_a:build_app",
                          "tests.screens.scenarios_screens_a:devices_maintenance_locked",
                          params={"data_dir": str(tmp_path / "data"), "no_camera": True, "pin": "2468"},
                          timeout=400)
    assert result["home_notice"] is True
    assert result["blocked_message"] == "拍照设备坏了，这一项现在办不了。请找工作人员。"
    assert result["still_catalog"] == "catalog"
    assert result["keep"] == "本机不打印回执，请记下受理编号，或用手机扫右边的二维码" and result["qr"] is True
    _pngs("30-home-no-camera", "31-catalog-no-camera", "32-catalog-no-camera-explained",
          "33-receipt-no-printer")
    assert result["pin_wrong"] == "密码不对，还可以再试 2 次。" and result["pin_right"] == ""
    assert "✓  身份证读卡器" in result["maint_devices"] and "拍照设备" in result["maint_devices"]
    assert result["maint_queue"].startswith("数量：等待发送 1") and "最早一件等了" in result["maint_queue"]
    assert result["maint_enrolment"].startswith("已接入：kiosk-7e57a001")
    assert result["maint_message"] == "没有接入县分厅，不能发送"  # these tests run no sync worker
    assert result["locked_notice"] == "本机正在维修，请到镇政务服务中心办理。"
    assert result["locked_saved"] is True
    assert result["locked_buttons"] == []  # only the notice: nothing to tap
    assert result["after_maintenance_locked"] == "out_of_service"
    assert result["tries"][:2] == ["密码不对，还可以再试 2 次。", "密码不对，还可以再试 1 次。"]
    assert result["tries"][2] == result["right_while_locked"] == "密码错太多次，请 5 分钟后再试。"
    assert result["end_screen"] == "home"
    _pngs("34-maintenance-pin-wrong", "35-maintenance", "36-out-of-service", "37-maintenance-pin-locked-out")
