"""The handwriting pad and the pinyin keyboard, in a real Kivy window under Xvfb, at two sizes.

In the kiosk's form, by a villager whose card will not read (item 008 by handwriting and
pinyin, with the voice): the walk ``item_008`` of tests/screens/test_walks_sizes.py, at the
four supported sizes."""

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
