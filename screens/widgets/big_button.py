"""A big, high-contrast button; its look comes from a lookup table by ``style``."""

from __future__ import annotations

from kivy.properties import ColorProperty, OptionProperty, StringProperty
from kivy.uix.button import Button

from screens import theme
from screens.widgets.fit import shrink_to_fit

# style -> (ground, ground when pressed, text, outline)
STYLE_LOOK = {
    "primary": (theme.PRIMARY, theme.PRIMARY_DOWN, theme.ON_PRIMARY, (0, 0, 0, 0)),
    "secondary": (theme.SURFACE, theme.SELECTED_BG, theme.PRIMARY, theme.SECONDARY_LINE),
    # chosen: filled like the main action, so that weak eyes see the choice at once
    "selected": (theme.PRIMARY, theme.PRIMARY_DOWN, theme.ON_PRIMARY, theme.PRIMARY),
    "danger": (theme.SURFACE, theme.rgba("#F6D5D3"), theme.DANGER, theme.DANGER),
    "on_bar": (theme.rgba("#FFFFFF"), theme.rgba("#D6E6FA"), theme.PRIMARY, (0, 0, 0, 0)),
}
DISABLED_LOOK = (theme.rgba("#C9C6BE"), theme.rgba("#C9C6BE"), theme.rgba("#4A4A4A"), (0, 0, 0, 0))


class BigButton(Button):
    """A button at least ``theme.TARGET`` tall; ``kiosk_id`` names a button made in code."""

    style = OptionProperty("primary", options=list(STYLE_LOOK))
    kiosk_id = StringProperty("")
    ground = ColorProperty(theme.PRIMARY)
    ground_down = ColorProperty(theme.PRIMARY_DOWN)
    ink = ColorProperty(theme.ON_PRIMARY)
    outline = ColorProperty((0, 0, 0, 0))

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bind(style=self._restyle, disabled=self._restyle)
        self._restyle()
        # words that would be cut (two lines on a small screen) get smaller type instead
        self.bind(texture_size=self._fit, size=self._fit)

    def _fit(self, *_args) -> None:
        shrink_to_fit(self, margin=theme.px(8))

    def _restyle(self, *_args) -> None:
        look = DISABLED_LOOK if self.disabled else STYLE_LOOK[self.style]
        self.ground, self.ground_down, self.ink, self.outline = look
