"""Back from the capture screen through screens dropped while it showed (scenarios_back)."""

from __future__ import annotations

import pytest

from tests.support.kivy_driver import ARTIFACTS, AppProcess


@pytest.mark.parametrize("width,height", [(1920, 1080), (1080, 1920)])
def test_back_from_capture_rebuilds_the_form_guide_and_catalog_with_what_was_typed(tmp_path, width, height):
    tag = "" if width > height else "-upright"
    scenario = "tests.screens.scenarios_back:back_from_capture"
    with AppProcess("tests.screens.scenarios_back:build_app", scenario,
                    params={"data_dir": str(tmp_path / "data"), "tag": tag, "size": [width, height]},
                    width=width, height=height) as proc:
        result = proc.wait(timeout=300)
    print("back, ms (tap to two frames drawn):", result["back_ms"])  # seen with -s; no timing asserted
    assert not {"catalog", "guide", "form"} & set(result["at_capture"])
    assert "capture" in result["at_capture"] and "home" in result["at_capture"]
    assert result["form"]["phone"] == "13800138000"  # typed on the keypad, shown again
    assert result["form"]["grade"].startswith("✓") and result["form"]["bank"].startswith("✓")
    assert result["pages"] == 1  # the page taken before going back is kept
    assert result["guide_start"]
    assert result["searching"] == [True, "yl"] and result["result_shown"]  # the search and its letters
    assert result["visit_fields"] is None  # home wiped the visit
    for name in ("back-01-form", "back-02-guide", "back-03-catalog"):
        assert (ARTIFACTS / f"{name}{tag}.png").stat().st_size > 10_000
