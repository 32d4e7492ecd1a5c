"""Review: everything that will be sent, in big type, and one button on to consent and signature."""

from __future__ import annotations

from kivy.uix.label import Label

from screens import theme
from screens.base import KioskScreen


class ReviewScreen(KioskScreen):
    def refresh(self) -> None:
        lines = self.run(self.step.lines)
        box = self.ids.lines
        box.clear_widgets()
        for line in lines or []:
            box.add_widget(_line(f"[color=3d3d3d]{line.label}[/color]    [b]{line.value}[/b]"))

    def forget(self) -> None:
        self.ids.lines.clear_widgets()

    def confirm(self) -> None:
        self.nav.forward()  # to consent and signature, where the application is sealed


def _line(text: str) -> Label:
    """One line of the review on a white card; a long one (an address) wraps and its card grows."""
    from kivy.graphics import Color, RoundedRectangle

    least = theme.px(96)
    label = Label(text=text, font_size=theme.LARGE, color=theme.TEXT, markup=True, size_hint_y=None,
                  height=least, halign="left", valign="middle", padding=(theme.px(24), theme.px(8)))
    label.bind(width=lambda w, width: setattr(w, "text_size", (width, None)),
               texture_size=lambda w, size: setattr(w, "height", max(least, size[1])))
    with label.canvas.before:
        Color(*theme.SURFACE)
        rect = RoundedRectangle(pos=label.pos, size=label.size, radius=[14])
    label.bind(pos=lambda w, p: setattr(rect, "pos", p), size=lambda w, s: setattr(rect, "size", s))
    return label
