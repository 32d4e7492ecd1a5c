"""Home: two big choices (apply, check progress), the language toggle and plain notices."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from screens.base import KioskScreen


class HomeScreen(KioskScreen):
    notice_text = StringProperty("")
    can_start = BooleanProperty(True)

    def refresh(self) -> None:
        self.notice_text = "\n".join(self.service.notices())
        self.can_start = self.service.can_start()

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
