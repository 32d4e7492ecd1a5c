"""Catalog: the service items as big buttons (ids ``service_<code>``)."""

from __future__ import annotations

from kivy.properties import StringProperty

from screens import theme
from screens.base import KioskScreen
from screens.widgets.big_button import BigButton


class CatalogScreen(KioskScreen):
    greeting = StringProperty("")

    def refresh(self) -> None:
        card = self.step.card_summary()
        self.greeting = self.tr("catalog.greeting", name=card["name"]) if card["name"] else ""
        grid = self.ids.item_grid
        grid.clear_widgets()
        for code, name, department in self.step.items():
            button = BigButton(kiosk_id=f"service_{code}", style="secondary", height=theme.target(190),
                               font_size=theme.LARGE if len(name) <= 16 else theme.BODY + 4,
                               text=f"{name}\n{theme.markup_size(30)}[color=3d3d3d]{department}[/color][/size]")
            button.bind(on_release=lambda _b, c=code: self.choose(c),
                        texture_size=lambda b, size: setattr(b, "height", max(theme.target(190),
                                                                              size[1] + theme.px(24))))
            grid.add_widget(button)

    def forget(self) -> None:
        self.greeting = ""

    def choose(self, code: str) -> None:
        if self.run(self.step.choose, code):
            self.nav.forward()
