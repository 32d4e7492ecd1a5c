"""Status: the villager's applications, each with a coloured badge that says its state."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from screens import theme
from screens.base import KioskScreen
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

    def _card(self, index: int, row) -> BoxLayout:
        card = BoxLayout(size_hint_y=None, padding=(32, 20), spacing=24)
        texts = BoxLayout(orientation="vertical", spacing=6)
        lines = [(row.service_name, theme.LARGE, True),
                 (self.tr("status.number", number=row.official_number or row.provisional_number),
                  theme.BODY, False),
                 (self.tr("status.date", date=row.created_at), theme.SMALL, False)]
        if row.reason and row.state in ("correction_needed", "rejected", "failed"):
            lines.append((self.tr("status.reason", reason=row.reason), theme.BODY, True))
        height = 0
        for text, size, bold in lines:
            label = Label(text=text, font_size=size, bold=bold, color=theme.TEXT, halign="left",
                          valign="middle", size_hint_y=None, height=size * 1.6)
            label.bind(size=lambda w, s: setattr(w, "text_size", s))
            texts.add_widget(label)
            height += size * 1.6 + 6
        card.add_widget(texts)
        badge = StatusBadge(text=row.state_text, colour=row.colour, pos_hint={"center_y": 0.5})
        badge.kiosk_id = f"status_badge_{index}"
        card.add_widget(badge)
        card.height = max(height + 40, 160)
        from kivy.graphics import Color, RoundedRectangle

        with card.canvas.before:
            Color(*theme.SURFACE)
            rect = RoundedRectangle(radius=[18])
        card.bind(pos=lambda w, p: setattr(rect, "pos", p), size=lambda w, s: setattr(rect, "size", s))
        return card
