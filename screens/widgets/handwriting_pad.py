"""A pad to write one Chinese character with a finger; big candidates; undo and clear.

The pad only draws and asks: strokes go to a recogniser handed in
(``kiosk.input.handwriting.HandwritingRecognizer`` or anything with its ``candidates``),
and the chosen character leaves as ``on_choose(text)``. After each stroke the
candidates are asked again (Zinnia answers in ~15-40 ms, inside one frame budget, so on
the UI thread). Texts on the buttons are set by the screen from its translations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.graphics import Color, Line
from kivy.lang import Builder
from kivy.properties import ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from screens import theme, widgets

CANDIDATES_SHOWN = 6
INK_WIDTH = 6


class StrokeCanvas(Widget):
    """Collects finger strokes in pad coordinates (y downwards, as Zinnia wants them)."""

    strokes = ListProperty([])  # each a list of (x, y), rebound (not mutated) after each stroke
    ink = ListProperty(list(theme.TEXT))

    __events__ = ("on_stroke_done",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._current: list[tuple[float, float]] | None = None
        self._lines: list[Line] = []
        self.bind(size=self._redraw, pos=self._redraw)

    def on_stroke_done(self) -> None:
        pass

    def _pad_point(self, touch: Any) -> tuple[float, float]:
        return (touch.x - self.x, self.top - touch.y)

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        touch.grab(self)
        self._current = [self._pad_point(touch)]
        with self.canvas:
            Color(*self.ink)
            self._lines.append(Line(points=list(touch.pos), width=INK_WIDTH, cap="round", joint="round"))
        return True

    def on_touch_move(self, touch: Any) -> bool:
        if touch.grab_current is not self or self._current is None:
            return False
        x = min(max(touch.x, self.x), self.right)
        y = min(max(touch.y, self.y), self.top)
        self._current.append((x - self.x, self.top - y))
        self._lines[-1].points += [x, y]
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return False
        touch.ungrab(self)
        stroke, self._current = self._current, None
        if stroke:
            self.strokes = self.strokes + [stroke]
            self.dispatch("on_stroke_done")
        return True

    def undo(self) -> None:
        if self.strokes:
            self.strokes = self.strokes[:-1]
            self._redraw()

    def clear(self) -> None:
        self.strokes = []
        self._redraw()

    def _redraw(self, *_args: Any) -> None:
        self.canvas.clear()
        self._lines = []
        with self.canvas:
            for stroke in self.strokes:
                Color(*self.ink)
                points: list[float] = []
                for x, y in stroke:
                    points += [self.x + x, self.top - y]
                self._lines.append(Line(points=points, width=INK_WIDTH, cap="round", joint="round"))


class HandwritingPad(BoxLayout):
    """``recognizer`` in; ``on_choose(text)`` out. ids: pad_canvas, pad_candidate_<n>, pad_undo, pad_clear."""

    recognizer = ObjectProperty(None, allownone=True)
    candidates = ListProperty([])
    undo_text = StringProperty("")
    clear_text = StringProperty("")
    candidate_font = NumericProperty(80)

    __events__ = ("on_choose",)

    def on_choose(self, text: str) -> None:
        pass

    def recognise(self) -> None:
        canvas = self.ids.pad_canvas
        if self.recognizer is None or not canvas.strokes:
            self.candidates = []
            return
        found = self.recognizer.candidates(canvas.strokes, canvas.width, canvas.height,
                                           limit=CANDIDATES_SHOWN)
        self.candidates = [c.text for c in found]

    def choose(self, index: int) -> None:
        if 0 <= index < len(self.candidates):
            text = self.candidates[index]
            self.clear()
            self.dispatch("on_choose", text)

    def undo(self) -> None:
        self.ids.pad_canvas.undo()
        self.recognise()

    def clear(self) -> None:
        self.ids.pad_canvas.clear()
        self.candidates = []


def _load_rules() -> None:
    widgets.load()  # BigButton
    path = str(Path(__file__).with_suffix(".kv"))
    if path not in Builder.files:
        Builder.load_file(path)


_load_rules()
