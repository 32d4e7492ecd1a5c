"""Review: everything that will be sent, in big type, and one button on to consent and signature."""

from __future__ import annotations

from screens import theme
from screens.base import KioskScreen
from screens.form import _text


class ReviewScreen(KioskScreen):
    def refresh(self) -> None:
        lines = self.run(self.step.lines)
        box = self.ids.lines
        box.clear_widgets()
        for line in lines or []:
            box.add_widget(_text(f"[color=3d3d3d]{line.label}[/color]    [b]{line.value}[/b]",
                                 theme.LARGE, theme.TEXT, 96, ground=theme.SURFACE))

    def forget(self) -> None:
        self.ids.lines.clear_widgets()

    def confirm(self) -> None:
        self.nav.forward()  # to consent and signature, where the application is sealed
