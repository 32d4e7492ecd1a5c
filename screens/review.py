"""Review: everything that will be sent, in big type, and one 确认提交 button."""

from __future__ import annotations

from kivy.properties import BooleanProperty

from screens import theme
from screens.base import KioskScreen
from screens.form import _text


class ReviewScreen(KioskScreen):
    busy = BooleanProperty(False)

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
        if self.busy:
            return
        self.busy = True
        try:
            receipt = self.run(self.step.confirm)
        finally:
            self.busy = False
        if receipt is not None:
            self.nav.forward(receipt=receipt)  # no way back into a sent application
