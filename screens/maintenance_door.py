"""The technician's way into maintenance: the hidden corner, held, then the PIN.

A finger held for ``[maintenance] long_press_s`` on the top-left corner (one touch target
square) of the home screen or the out-of-service notice opens the PIN keypad
(``PinPopup``, kiosk_id ``pin_popup``). The PIN is checked off the UI thread (a slow hash);
the right one opens the maintenance screen, a wrong one says how many tries are left, and
after too many the keypad refuses for a while (``kiosk.maintenance_pin.PinGuard``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.clock import Clock
from kivy.core.window import Window

from kiosk.steps.table import HOME, MAINTENANCE, OUT_OF_SERVICE
from screens import theme

if TYPE_CHECKING:
    from screens.navigator import Navigator


class MaintenanceDoor:
    def __init__(self, nav: Navigator) -> None:
        self.nav = nav
        self.step = nav.steps.maintenance
        self.hold_s = float(self.step.ctx.settings.maintenance.long_press_s)
        self.popup: Any = None
        self._touch: Any = None
        self._opening: Any = None
        Window.bind(on_touch_down=self._down, on_touch_up=self._up)

    # -- the hidden corner -------------------------------------------------------------------

    def in_corner(self, x: float, y: float) -> bool:
        return x <= theme.TARGET and y >= Window.height - theme.TARGET

    def _down(self, _window: Any, touch: Any) -> bool:
        if self.nav.current in (HOME, OUT_OF_SERVICE) and self.popup is None and self.in_corner(*touch.pos):
            self._touch = touch
            self._opening = Clock.schedule_once(lambda _dt: self.ask_pin(), self.hold_s)
        return False

    def _up(self, _window: Any, touch: Any) -> bool:
        if touch is self._touch:
            self._touch = None
            if self._opening is not None:
                self._opening.cancel()
                self._opening = None
        return False

    # -- the PIN -----------------------------------------------------------------------------

    def ask_pin(self) -> None:
        from screens.widgets.pin_popup import PinPopup

        self._opening = None
        if self.popup is not None:
            return
        t = self.nav.service.t
        self.popup = PinPopup(title=t("maint.pin_title"), hint=t("maint.pin_hint"), worker_id="",
                              clear_text=t("form.clear"), back_text=t("common.back"),
                              del_text=t("form.delete"), ok_text=t("maint.pin_ok"),
                              on_submit=self._submit, on_cancel=self._closed)
        self.popup.bind(on_dismiss=lambda *_: self._closed())
        self.popup.open()

    def _submit(self, pin: str) -> None:
        def check() -> None:
            answer = self.step.check_pin(pin)
            Clock.schedule_once(lambda _dt: self._answer(answer), 0)

        self.step.ctx.jobs.submit("maintenance PIN", check)

    def _answer(self, answer: Any) -> None:
        popup = self.popup
        if popup is None:
            return
        popup.show_result(answer.ok, answer.message, answer.blocked)
        if answer.ok:
            self.nav.open(MAINTENANCE)

    def _closed(self) -> None:
        self.popup = None
