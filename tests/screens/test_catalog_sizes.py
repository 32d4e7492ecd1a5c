"""The catalog at every supported size, in one app start (marker ``gui``; scenarios_catalog)."""

from __future__ import annotations

import shutil

import pytest

from tests.support.kivy_driver import AppProcess

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]

SIZES = [(1280, 800), (1080, 1920), (1280, 1024), (1920, 1080)]


@pytest.mark.timeout(600)
def test_search_is_reachable_without_scrolling_and_the_upright_screen_is_used(tmp_path):
    with AppProcess("tests.screens.scenarios_sizes:build_app",
                    "tests.screens.scenarios_catalog:catalog_at_every_size",
                    params={"data_dir": str(tmp_path / "data"), "size": list(SIZES[0]),
                            "sizes": [list(s) for s in SIZES]},
                    width=1920, height=1920) as proc:
        result = proc.wait(timeout=600)
    assert not result["problems"], "\n".join(result["problems"])
    for size, seen in result["measured"].items():
        assert seen["search_visible"], (size, seen)
    upright = result["measured"]["1080x1920"]
    assert upright["empty_below_fraction"] < 0.15, upright  # tiles reach down the screen
    assert upright["items_visible"] == upright["items"], upright
