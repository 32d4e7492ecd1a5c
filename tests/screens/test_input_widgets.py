"""The handwriting pad and the pinyin keyboard, in a real Kivy window under Xvfb, at two sizes."""

from __future__ import annotations

import pytest

from tests.support.kivy_driver import AppProcess

pytestmark = pytest.mark.gui

MIN_TARGET = 96


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920)])
def test_write_a_character_and_type_a_name(size):
    width, height = size
    with AppProcess("tests.screens.scenarios_input:build_app", "tests.screens.scenarios_input:write_and_type",
                    params={"size": [width, height]}, width=width, height=height) as proc:
        result = proc.wait(timeout=240)
    assert result["pad_candidates"][0] == "十"
    assert "张三" in result["shown"]
    assert result["chosen"] == "十张三"
    assert result["letters_left"] == "n" and result["page"] == 1
    small = [t for t in result["targets"] if t["w"] < MIN_TARGET or t["h"] < MIN_TARGET]
    assert not small, small
    assert all(t["inside"] for t in result["targets"]), [t for t in result["targets"] if not t["inside"]]


@pytest.mark.timeout(960)  # one app start, two visits, ~80 taps: 6-13 min at load 15-20 on 2 cores
def test_unreadable_card_item_008_finished_by_handwriting_and_pinyin(tmp_path):
    from hardware.sample_cards import MIDDLE_AGED_VILLAGER
    from tests.support.kivy_driver import ARTIFACTS, run_scenario

    result = run_scenario("tests.screens.scenarios:build_app",
                          "tests.screens.scenarios_input:unreadable_card_item_008",
                          params={"data_dir": str(tmp_path / "data"), "voice": True}, timeout=900)
    voice = result["voice"]
    assert voice["home_buttons"] and voice["home_in_cantonese"] and voice["muted"] and voice["top_bar"]
    # the card screen's "听到提示后再拿开" has its sound, not cut off by the next screen's prompt
    assert voice["card_then_catalog"] == ["voice.card_read", "voice.catalog"]
    assert voice["volume_turned"][0] != voice["volume_turned"][1]
    assert voice["error_said"]  # "next" with the phone missing: the error is spoken
    spoken = {"voice.identify", "voice.form", "voice.handwriting", "voice.pinyin", "voice.receipt"}
    assert spoken <= set(voice["said"]), voice["said"]
    assert result["ok_text"] == "确定"  # no hard-coded "OK" in the manual entry
    assert result["written"] == "王三" and result["wang_offered"][0] == "王"
    assert result["fields"] == {"name": "王三", "baby_name": "王晓明", "relation": "father",
                                "baby_sex": "male", "baby_birth_date": "2026-11-15",
                                "id_number": MIDDLE_AGED_VILLAGER.id_number}
    assert result["errors"] == {"phone": "kiosk.field.required"} and result["phone_row_shown"]
    assert result["sealed"] == 1
    for n in range(0, 8):
        assert any(p.stat().st_size > 10_000 for p in ARTIFACTS.glob(f"input-0{n}-*.png")), n
