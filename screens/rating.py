"""Rating (好差评): five big faces, a reason when unhappy, or skip; then the visit finishes."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from screens import theme
from screens.base import KioskScreen
from screens.widgets.big_button import BigButton

# the step's colour names -> the face's colour (screens.theme's badge colours)
FACE_COLOURS = {name: ground for name, (ground, _ink) in theme.BADGE_COLOURS.items()}


class RatingChoice(ButtonBehavior, BoxLayout):
    """One big face with its words; ``mood`` (-1 … 1) bends the mouth."""

    kiosk_id = StringProperty("")
    text = StringProperty("")
    mood = NumericProperty(0)
    chosen = BooleanProperty(False)  # the unhappy face picked while the reasons are asked
    face_colour = ListProperty(list(theme.PRIMARY))


class RatingScreen(KioskScreen):
    score = NumericProperty(0)  # an unhappy score chosen: the reasons show

    def refresh(self) -> None:
        self.score = 0
        row = self.ids.rating_faces
        row.clear_widgets()
        for choice in self.step.choices():
            face = RatingChoice(kiosk_id=f"rating_{choice.score}", text=choice.text,
                                mood=(choice.score - 3) / 2,
                                face_colour=list(FACE_COLOURS.get(choice.colour, theme.PRIMARY)))
            face.bind(on_release=lambda _w, s=choice.score: self.choose(s))
            row.add_widget(face)
        box = self.ids.rating_reasons
        box.clear_widgets()
        for code, text in self.step.reasons():
            button = BigButton(kiosk_id=f"reason_{code}", text=text, style="secondary",
                               height=theme.BIG_TARGET * .6)
            button.bind(on_release=lambda _w, c=code: self.rate(self.score, c))
            box.add_widget(button)

    def choose(self, score: int) -> None:
        for face in self.ids.rating_faces.children:
            face.chosen = face.kiosk_id == f"rating_{score}"
        if self.step.needs_reason(score):
            self.score = score  # ask why first
            return
        self.rate(score)

    def rate(self, score: int, reason: str = "") -> None:
        if self.run(self.step.rate, score, reason) is not None:
            self.nav.finish()

    def skip(self, *_args: Any) -> None:
        self.nav.finish()

    def forget(self) -> None:
        self.score = 0
