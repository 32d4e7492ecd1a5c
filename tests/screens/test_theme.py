"""The one scale of ``screens/theme.py``: the floors hold at every size, and it is set again."""

from __future__ import annotations

import pytest

from screens import theme

SIZES = [(1920, 1080), (1080, 1920), (1280, 1024), (1280, 800), (1024, 768)]


@pytest.fixture(autouse=True)
def _back_to_the_design_size():
    yield
    theme.apply_window(1920, 1080)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_text_and_targets_keep_their_floors_and_the_design_fits(size):
    width, height = size
    scale = theme.apply_window(width, height)
    assert theme.PORTRAIT == (height > width) and theme.WINDOW == size
    assert min(theme.TITLE, theme.HEADING, theme.LARGE, theme.BODY, theme.SMALL) >= theme.MIN_TEXT
    assert min(theme.TARGET, theme.BIG_TARGET, theme.font(10), theme.target(10)) >= theme.MIN_TEXT
    assert theme.target(1) == theme.MIN_TARGET and theme.TARGET >= theme.MIN_TARGET
    assert theme.BAR_HEIGHT - theme.px(20) >= theme.MIN_TARGET  # the top bar's buttons are targets
    assert theme.px(1920) <= max(width, height) and theme.px(1080) <= min(width, height)
    assert scale == pytest.approx(min(min(size) / 1080, max(size) / 1920))
    assert theme.markup_size(20) == f"[size={theme.MIN_TEXT}]"


def test_the_design_size_is_drawn_as_it_was():
    assert theme.apply_window(1920, 1080) == 1.0
    assert (theme.TITLE, theme.BODY, theme.TARGET, theme.BAR_HEIGHT, theme.px(600)) == (64, 34, 110, 130, 600)
    assert theme.apply_window(1080, 1920) == 1.0 and theme.PORTRAIT
