"""Type that shrinks rather than being cut: for words whose room is fixed by the layout.

A label whose text is taller than the room it was given (a long English sentence, a
button's two lines on a small screen) gets smaller type, one step of a short ladder at a
time, down to ``theme.MIN_TEXT`` — never below it: the floor is what a weak eye needs,
and a screen whose words still do not fit then is a layout to fix (the size audit says so).

Why a ladder and not two pixels at a time: Kivy's SDL2 text provider opens the font once
per type size and keeps it (up to 64 sizes, never closed before that), and one size of
Noto Sans CJK costs ≈ 2.5 MB of the app's memory. Shrinking 44 → 42 → 40 opened three; the
ladder holds the theme's type sizes and one size between each two (≈ 10 % apart), so
labels that shrink share the few sizes the others use (``docs/scanning.md``, "Memory").
"""

from __future__ import annotations

from typing import Any

from screens import theme


def ladder() -> list[int]:
    """The type sizes a label may shrink to, largest first, at the window's scale."""
    sizes = sorted({theme.TITLE, theme.HEADING, theme.LARGE, theme.BODY, theme.SMALL, theme.MIN_TEXT})
    steps = set(sizes)
    steps.update(round((a + b) / 2) for a, b in zip(sizes, sizes[1:], strict=False) if b - a > 4)
    size = sizes[-1]
    while size < 200:  # above the title (a home screen's big words): ≈ 12 % apart
        size = round(size * 1.12)
        steps.add(size)
    return sorted(steps, reverse=True)


def smaller(size: float) -> int:
    """The next size of the ladder below ``size`` (``theme.MIN_TEXT`` at the bottom)."""
    return next((s for s in ladder() if s < size), theme.MIN_TEXT)


def at_most(size: float) -> int:
    """The largest size of the ladder not above ``size`` (``theme.MIN_TEXT`` at the bottom): for
    type sized by the room it has, so that every room does not open a size of its own."""
    return next((s for s in ladder() if s <= size), theme.MIN_TEXT)


def shrink_to_fit(label: Any, margin: float = 0) -> None:
    """Call on ``texture_size`` and ``size``: one step smaller while the words overflow."""
    if not label.text or label.height <= 0 or label.width <= 0 or label.font_size <= theme.MIN_TEXT:
        return  # nothing to fit into (a hidden button is 0 wide): shrinking would only open font sizes
    if label.texture_size[1] > label.height - margin or label.texture_size[0] > label.width:
        label.font_size = max(theme.MIN_TEXT, smaller(label.font_size))
