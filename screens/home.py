"""Home: two big choices (apply, check progress), the language toggle and plain notices.

For the grid worker, a quiet line says how many applications wait to be sent and how
old the oldest is, and a progress bar shows a sync while it runs.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from screens.base import KioskScreen


class HomeScreen(KioskScreen):
    notice_text = StringProperty("")
    can_start = BooleanProperty(True)
    queue_text = StringProperty("")
    sync_fraction = NumericProperty(-1.0)  # -1: no sync running, the bar is hidden
    sync_text = StringProperty("")

    def refresh(self) -> None:
        self.notice_text = "\n".join(self.service.notices())
        self.can_start = self.service.can_start()
        self.queue_text = self.service.queue_line()

    def start(self) -> None:
        self.run(self.service.start_application)
        if self.service.session is not None:
            self.nav.go("identify")

    def check_status(self) -> None:
        self.run(self.service.start_status_lookup)
        if self.service.session is not None:
            self.nav.go("identify")

    def toggle_language(self) -> None:
        self.service.toggle_language()

    def on_event_queue_changed(self) -> None:
        self.refresh()

    def on_event_sync_progress(self, fraction: float, text: str) -> None:
        self.sync_fraction = fraction
        self.sync_text = text
