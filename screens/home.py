"""Home: two big choices (apply, check progress), the language toggle, the voice's language
(普通话 / 粤语 / 客家话, apart from the screen's) and mute, and plain notices.

For the grid worker, a quiet line says how many applications wait to be sent and how
old the oldest is, and a progress bar shows a sync while it runs.

A grid worker taps the staff card on the PC/SC reader: the PIN is asked on a keypad
popup, then the top line says "网格员 <id> 代办中" beside a sign-out button.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty

from screens.base import KioskScreen


class HomeScreen(KioskScreen):
    notice_text = StringProperty("")
    can_start = BooleanProperty(True)
    queue_text = StringProperty("")
    sync_fraction = NumericProperty(-1.0)  # -1: no sync running, the bar is hidden
    sync_text = StringProperty("")
    staff_text = StringProperty("")  # "网格员 <id> 代办中" while a grid worker is signed in
    voice = ObjectProperty(None, allownone=True)  # screens.widgets.voice_controls.VoiceControls

    def on_nav(self, _screen: Any, nav: Any) -> None:
        self.voice = getattr(nav, "voice", None)

    def refresh(self) -> None:
        self.notice_text = "\n".join(self.step.notices())
        self.can_start = self.step.can_start()
        self.queue_text = self.step.queue_line()
        self.staff_text = self.step.staff.line()

    def start(self) -> None:
        if self.run(self.step.start_application):
            self.nav.forward()

    def check_status(self) -> None:
        if self.run(self.step.start_status_lookup):
            self.nav.forward()

    def toggle_language(self) -> None:
        self.step.toggle_language()

    # -- the grid worker ------------------------------------------------------------------

    def staff_logout(self) -> None:
        self.step.staff.logout()

    def on_event_staff_card(self, worker_id: str) -> None:
        from screens.widgets.pin_popup import PinPopup

        old = getattr(self, "_pin_popup", None)
        if old is not None:
            old.dismiss()
        popup = PinPopup(title=self.tr("staff.pin_title"), hint=self.tr("staff.pin_hint"),
                         worker_id=worker_id,
                         clear_text=self.tr("form.clear"), back_text=self.tr("common.back"),
                         del_text=self.tr("form.delete"), ok_text=self.tr("staff.pin_ok"),
                         on_submit=self.step.staff.check_pin, on_cancel=self.step.staff.cancel_pin)
        self._pin_popup = popup
        popup.open()

    def on_event_staff_pin_checked(self, ok: bool, message: str, blocked: bool) -> None:
        popup = getattr(self, "_pin_popup", None)
        if popup is not None:
            popup.show_result(ok, message, blocked)
            if ok:
                self._pin_popup = None

    def on_event_staff_changed(self, worker_id: str, reason: str) -> None:
        self.refresh()
        if reason == "idle":
            self.nav.show_error("staff.signed_out_idle")

    def on_event_queue_changed(self) -> None:
        self.refresh()

    def on_event_sync_progress(self, fraction: float, text: str) -> None:
        self.sync_fraction = fraction
        self.sync_text = text
