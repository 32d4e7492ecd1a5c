"""Type that shrinks rather than being cut: for words whose room is fixed by the layout.

A label whose text is taller than the room it was given (a long English sentence, a
button's two lines on a small screen) gets smaller type, two pixels at a time, down to
``theme.MIN_TEXT`` — never below it: the floor is what a weak eye needs, and a screen
whose words still do not fit then is a layout to fix (the size audit says so).
"""

from __future__ import annotations

from typing import Any

from screens import theme

STEP = 2


def shrink_to_fit(label: Any, margin: float = 0) -> None:
    """Call on ``texture_size`` and ``size``: one step smaller while the words overflow."""
    if not label.text or label.height <= 0 or label.font_size <= theme.MIN_TEXT:
        return
    if label.texture_size[1] > label.height - margin or label.texture_size[0] > label.width:
        label.font_size = max(theme.MIN_TEXT, label.font_size - STEP)
