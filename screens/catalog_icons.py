"""The catalog's pictures: each icon name (``kiosk.catalog.ICONS``) drawn as one symbol of a font.

The symbols come from DejaVu Sans (Debian ``fonts-dejavu-core``, in the bootstrap list):
plain, high-contrast shapes that need no image files. ``PictureButton`` is a ``BigButton``
with such a picture in a round tile at its left and its words beside it; its kv rule is in
``screens/catalog.kv``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.properties import NumericProperty, StringProperty

from screens import theme
from screens.widgets.big_button import BigButton
from screens.widgets.fit import shrink_to_fit

ICON_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
ICON_GLYPHS = {
    "umbrella": "\u2602",    # ☂ insurance: covered when it rains
    "star": "\u2605",        # ★
    "medical": "\u2695",     # ⚕ health insurance
    "heart": "\u2665",       # ♥ help and allowances
    "cross": "\u271a",       # ✚ support
    "wheelchair": "\u267f",  # ♿ disability
    "lightning": "\u26a1",   # ⚡ sudden hardship
    "sun": "\u2600",         # ☀ old age
    "smile": "\u263a",       # ☺ a baby
    "pencil": "\u270e",      # ✎ a certificate
    "flower": "\u273f",      # ✿ births
    "hammer": "\u2692",      # ⚒ building
    "leaf": "\u2618",        # ☘ fields
    "house": "\u2302",       # ⌂ household
    "search": "\u270e",      # ✎ writing a letter or a character to search
}
FALLBACK_GLYPH = "\u2605"


def glyph(icon: str) -> str:
    return ICON_GLYPHS.get(icon, FALLBACK_GLYPH)


def icon_font() -> str:
    """The symbol font, or Kivy's default when it is missing (the words still show)."""
    return ICON_FONT if Path(ICON_FONT).exists() else "Roboto"


class PictureButton(BigButton):
    """A big button with a picture tile at its left and ``words`` (markup) beside it."""

    icon = StringProperty("")
    words = StringProperty("")
    words_size = NumericProperty(theme.LARGE)
    tile = NumericProperty(theme.TARGET)
    icon_font = StringProperty(icon_font())
    least_height = NumericProperty(0)

    def fit_words(self, label: Any) -> None:
        """Never cut words: a button in a list (its height its own) grows to hold them at once;
        one whose room the layout fixes gets smaller type instead."""
        if label.width < theme.MIN_TARGET:  # not laid out yet: its words are one per line
            return
        if self.size_hint_y is None:
            if not self.least_height:
                self.least_height = self.height  # the height it was made with: never below it
            self.height = max(self.least_height, label.texture_size[1] + theme.px(16))
        else:
            shrink_to_fit(label, theme.px(8))
