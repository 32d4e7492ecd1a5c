"""A signature pad: the villager signs with a finger; the strokes go to the core as points.

Points are kept in the pad's own unit square (0…1, y up) so that the signature does not
depend on the screen size; ``kiosk.signature`` makes the PNG from them. Only touches that
start on the pad draw, and each touch is grabbed so that a finger sliding off the pad
does not leave a stroke half-drawn on the screen beneath.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.graphics import Color, Line
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.widget import Widget

from screens import theme


class SignaturePad(Widget):
    kiosk_id = StringProperty("signature_pad")
    hint = StringProperty("")
    has_ink = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._strokes: list[list[tuple[float, float]]] = []
        self._lines: list[Line] = []
        self.bind(pos=self._redraw, size=self._redraw)

    @property
    def strokes(self) -> list[list[tuple[float, float]]]:
        return [list(s) for s in self._strokes]

    def clear(self) -> None:
        self._strokes.clear()
        self._redraw()

    def _unit(self, x: float, y: float) -> tuple[float, float]:
        w, h = max(self.width, 1.0), max(self.height, 1.0)
        return (min(1.0, max(0.0, (x - self.x) / w)), min(1.0, max(0.0, (y - self.y) / h)))

    def _screen_points(self, stroke: list[tuple[float, float]]) -> list[float]:
        flat: list[float] = []
        for u, v in stroke:
            flat += [self.x + u * self.width, self.y + v * self.height]
        if len(flat) == 2:  # a dot
            flat += flat
        return flat

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos) or self.disabled:
            return False
        touch.grab(self)
        self._strokes.append([self._unit(*touch.pos)])
        with self.canvas.after:
            Color(*theme.TEXT)
            self._lines.append(Line(points=self._screen_points(self._strokes[-1]), width=3, cap="round",
                                    joint="round"))
        self.has_ink = True
        return True

    def on_touch_move(self, touch: Any) -> bool:
        if touch.grab_current is not self or not self._strokes:
            return False
        self._strokes[-1].append(self._unit(*touch.pos))
        self._lines[-1].points = self._screen_points(self._strokes[-1])
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return False
        touch.ungrab(self)
        return True

    def _redraw(self, *_args: Any) -> None:
        self.canvas.after.clear()
        self._lines = []
        with self.canvas.after:
            Color(*theme.TEXT)
            for stroke in self._strokes:
                self._lines.append(Line(points=self._screen_points(stroke), width=3, cap="round",
                                        joint="round"))
        self.has_ink = bool(self._strokes)


_KV = Path(__file__).with_suffix(".kv")
if str(_KV) not in Builder.files:
    Builder.load_file(str(_KV))
