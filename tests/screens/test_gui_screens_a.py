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
