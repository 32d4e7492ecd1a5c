"""Identify: place the ID card on the reader. The card is polled on a worker thread."""

from __future__ import annotations

from kivy.properties import StringProperty

from screens.base import KioskScreen


class IdentifyScreen(KioskScreen):
    message = StringProperty("")
    problem = StringProperty("")

    def refresh(self) -> None:
        status = self.service.mode == "status"
        self.message = self.tr("identify.prompt_status" if status else "identify.prompt")
        self.problem = ""

    def on_enter(self, *_args) -> None:
        self.service.wait_for_card()

    def leave(self) -> None:
        self.service.cancel_card_wait()

    def on_event_card_read(self, mode: str, name: str, id_number: str) -> None:
        self.problem = ""
        self.nav.go("status" if mode == "status" else "catalog", remember=False)

    def on_event_card_failed(self, message_key: str) -> None:
        self.problem = self.tr(message_key)
