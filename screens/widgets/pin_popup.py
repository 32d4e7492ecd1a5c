"""The grid worker's PIN on a big keypad: dots for the digits, tries left in plain words.

Built in code (``kiosk_id``s: ``pin_shown``, ``pin_message``, ``pin_cancel``, ``pin_ok``;
the keys are ``keypad_<key>``). ``on_submit(pin)`` is called with the digits; the screen
calls ``show_result`` with the presenter's answer.
"""

from __future__ import annotations

from collections.abc import Callable

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView

from screens import theme
from screens.widgets.big_button import BigButton
from screens.widgets.keypad import NumericKeypad

MAX_PIN = 8


class PinPopup(ModalView):
    def __init__(self, *, title: str, hint: str, worker_id: str, clear_text: str, back_text: str,
                 del_text: str, ok_text: str,
                 on_submit: Callable[[str], None], on_cancel: Callable[[], None], **kwargs) -> None:
        super().__init__(size_hint=(None, None), size=(theme.px(900), theme.px(1070)), auto_dismiss=False,
                         **kwargs)
        self.kiosk_id = "pin_popup"
        self.pin = ""
        self.busy = False
        self._on_submit = on_submit
        self._on_cancel = on_cancel
        box = BoxLayout(orientation="vertical", padding=theme.px(32), spacing=theme.px(14))
        box.add_widget(Label(text=title, font_size=theme.LARGE, bold=True, color=(1, 1, 1, 1),
                             size_hint_y=None, height=theme.px(64)))
        box.add_widget(Label(text=f"{worker_id}\n{hint}", font_size=theme.BODY, halign="center",
                             size_hint_y=None, height=theme.px(100)))
        self.shown = Label(text="", font_size=theme.font(72), bold=True, size_hint_y=None,
                           height=theme.px(80))
        self.shown.kiosk_id = "pin_shown"
        self.message = Label(text="", font_size=theme.BODY, bold=True, color=theme.rgba("#FFB4A8"),
                             size_hint_y=None, height=theme.px(70), halign="center")
        self.message.bind(width=lambda w, width: setattr(w, "text_size", (width, None)))
        self.message.kiosk_id = "pin_message"
        pad = NumericKeypad(clear_text=clear_text, del_text=del_text)
        pad.bind(on_key=lambda _pad, key: self._key(key))
        row = BoxLayout(spacing=theme.px(16), size_hint_y=None, height=theme.target(120))
        row.add_widget(BigButton(text=back_text, style="secondary", kiosk_id="pin_cancel",
                                 on_release=lambda *_: self.cancel()))
        row.add_widget(BigButton(text=ok_text, style="primary", kiosk_id="pin_ok",
                                 on_release=lambda *_: self.submit()))
        for widget in (self.shown, self.message, pad, row):
            box.add_widget(widget)
        self.add_widget(box)

    def _key(self, key: str) -> None:
        if self.busy:
            return
        self.pin = NumericKeypad.apply(self.pin, key, max_length=MAX_PIN)
        self.shown.text = "●" * len(self.pin)

    def submit(self) -> None:
        if self.busy or not self.pin:
            return
        self.busy = True
        self._on_submit(self.pin)

    def cancel(self) -> None:
        self._on_cancel()
        self.dismiss()

    def show_result(self, ok: bool, message: str, blocked: bool) -> None:
        self.busy = False
        self.pin = ""
        self.shown.text = ""
        self.message.text = message
        if ok:
            self.dismiss()
