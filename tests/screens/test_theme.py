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


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_type_shrinks_and_fits_by_a_short_ladder_of_the_theme_sizes(size):
    from screens.widgets import fit

    theme.apply_window(*size)
    ladder = fit.ladder()
    # the theme's own sizes are on it, and nothing under the floor: labels that shrink share them
    assert {theme.TITLE, theme.HEADING, theme.LARGE, theme.BODY, theme.SMALL} <= set(ladder)
    assert min(ladder) == theme.MIN_TEXT and ladder == sorted(ladder, reverse=True)
    below_title = [s for s in ladder if s <= theme.TITLE]
    assert len(below_title) <= 10  # each size opens the CJK font once (≈ 2.5 MB): a few, not one per 2 px
    assert all(b / a <= 1.25 for a, b in zip(below_title[1:], below_title, strict=False))  # no big jump
    sizes, size_now = [theme.MIN_TEXT], max(theme.LARGE, 44)
    while size_now > theme.MIN_TEXT:
        size_now = fit.smaller(size_now)
        sizes.append(size_now)
    assert sizes[-1] == theme.MIN_TEXT and set(sizes) <= set(ladder)
    assert fit.smaller(theme.MIN_TEXT) == theme.MIN_TEXT
    assert fit.at_most(theme.HEADING + 0.7) == theme.HEADING and fit.at_most(3) == theme.MIN_TEXT
