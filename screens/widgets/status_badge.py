"""A coloured badge for an application's state; colours from ``theme.BADGE_COLOURS``."""

from __future__ import annotations

from kivy.properties import ColorProperty, StringProperty
from kivy.uix.label import Label

from screens import theme


class StatusBadge(Label):
    colour = StringProperty("grey")  # a colour name from kiosk.service.STATE_LOOK
    ground = ColorProperty(theme.BADGE_COLOURS["grey"][0])

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bind(colour=self._recolour)
        self._recolour()

    def _recolour(self, *_args) -> None:
        self.ground, self.color = theme.BADGE_COLOURS.get(self.colour, theme.BADGE_COLOURS["grey"])
