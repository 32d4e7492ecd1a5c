"""Status: the villager's applications, each with a coloured badge that says its state.

A correction shows what the county asked for in big plain words (the materials and the
clerk's reason) and a big 补交材料 button, which starts the capture of those materials.
"""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from screens import theme
from screens.base import KioskScreen
from screens.widgets.big_button import BigButton
from screens.widgets.status_badge import StatusBadge


class StatusScreen(KioskScreen):
    summary = StringProperty("")

    def refresh(self) -> None:
        rows = self.run(self.step.my_applications) or []
        box = self.ids.rows
        box.clear_widgets()
        self.summary = self.tr("status.count", count=len(rows)) if rows else self.tr("status.none")
        for i, row in enumerate(rows):
            box.add_widget(self._card(i, row))

    def forget(self) -> None:
        self.ids.rows.clear_widgets()
        self.summary = ""

    def on_event_queue_changed(self) -> None:
        self.refresh()  # a status came back from the hall while the villager looks

    def supplement(self, entry_id: str) -> None:
        """补交材料: photograph what the county asked for (a missing camera: plain words, stay here)."""
        if self.run(self.step.start_supplement, entry_id) is None:
            self.nav.forward()

    def _card(self, index: int, row) -> BoxLayout:
        card = BoxLayout(size_hint_y=None, padding=(theme.px(32), theme.px(20)), spacing=theme.px(24))
        texts = BoxLayout(orientation="vertical", spacing=theme.px(6))
        lines = [(row.service_name, theme.LARGE, True),
                 (self.tr("status.number", number=row.official_number or row.provisional_number),
                  theme.BODY, False),
                 (self.tr("status.date", date=row.created_at), theme.SMALL, False)]
        if row.materials:
            lines.append((self.tr("status.correction_materials", materials="、".join(row.materials)),
                          theme.LARGE, True))
        if row.reason and row.state in ("correction_needed", "rejected", "failed"):
            lines.append((self.tr("status.reason", reason=row.reason), theme.BODY, True))
        if row.supplement_sent:
            lines.append((self.tr("status.supplement_sent"), theme.BODY, True))
        for text, size, bold in lines:
            # a long name wraps (an upright screen is narrow) and its card grows with it
            label = Label(text=text, font_size=size, bold=bold, color=theme.TEXT, halign="left",
                          valign="middle", size_hint_y=None, height=theme.line(size))
            least = theme.line(size)
            label.bind(width=lambda w, width: setattr(w, "text_size", (width, None)),
                       texture_size=lambda w, ts, least=least: setattr(w, "height", max(least, ts[1])))
            texts.add_widget(label)

        def fit(*_args: object) -> None:
            inner = sum(c.height for c in texts.children) + texts.spacing * (len(texts.children) - 1)
            card.height = max(inner + 2 * theme.px(20), theme.px(160))

        if row.can_supplement:
            button = BigButton(kiosk_id=f"status_supplement_{index}", text=self.tr("status.supplement"),
                               size_hint_y=None, height=theme.target(130), font_size=theme.LARGE)
            button.bind(on_release=lambda _b, entry_id=row.entry_id: self.supplement(entry_id))
            texts.add_widget(button)
        for label in texts.children:
            label.bind(height=fit)
        fit()
        card.add_widget(texts)
        badge = StatusBadge(text=row.state_text, colour=row.colour, pos_hint={"center_y": 0.5})
        badge.kiosk_id = f"status_badge_{index}"
        card.add_widget(badge)
        from kivy.graphics import Color, RoundedRectangle

        with card.canvas.before:
            Color(*theme.SURFACE)
            rect = RoundedRectangle(radius=[18])
        card.bind(pos=lambda w, p: setattr(rect, "pos", p), size=lambda w, s: setattr(rect, "size", s))
        return card
