"""Identify: place the ID card on the reader. The card is polled on a worker thread.

A villager whose card will not read can type the ID number on a big keypad instead
(``open_manual_entry``; the button's id is "manual_entry").
Meanwhile the step (``kiosk.steps.identify``) looks for codes on the camera it borrows: a
receipt QR in a status lookup, or an ID-number barcode in both modes. Where the visit goes
next (catalog, or status for a lookup) is the step's to say.
"""

from __future__ import annotations

from kivy.properties import StringProperty

from screens.base import KioskScreen


class IdentifyScreen(KioskScreen):
    message = StringProperty("")
    problem = StringProperty("")
    code_hint = StringProperty("")  # status lookup: "or hold the receipt's QR code up to the camera"

    def refresh(self) -> None:
        status = self.step.mode == "status"
        self.message = self.tr("identify.prompt_status" if status else "identify.prompt")
        self.code_hint = self.tr("lookup.code_hint") if status and self.step.has_camera else ""
        self.problem = self.step.device_notice()

    # -- typing the number when the card will not read ---------------------------------

    def open_manual_entry(self) -> None:
        from kivy.graphics import Color, RoundedRectangle
        from kivy.uix.boxlayout import BoxLayout
        from kivy.uix.label import Label
        from kivy.uix.modalview import ModalView

        from screens import theme
        from screens.widgets.big_button import BigButton
        from screens.widgets.keypad import NumericKeypad

        # Light, like every other popup (ErrorPopup): dark text on white over a dimmed screen.
        view = ModalView(size_hint=(None, None), auto_dismiss=False, background="",
                         background_color=(0, 0, 0, 0), overlay_color=(0, 0, 0, .55),
                         size=(min(theme.px(900), theme.WINDOW[0] - theme.px(80)), theme.px(1000)))
        box = BoxLayout(orientation="vertical", padding=theme.px(32), spacing=theme.px(16))
        with box.canvas.before:
            Color(rgba=theme.SURFACE)
            ground = RoundedRectangle(pos=box.pos, size=box.size, radius=[24])
        box.bind(pos=lambda _w, pos: setattr(ground, "pos", pos),
                 size=lambda _w, size: setattr(ground, "size", size))
        title = Label(text=self.tr("devices.manual_entry_title"), font_size=theme.LARGE, color=theme.TEXT,
                      size_hint_y=None, height=theme.px(80))
        shown = Label(text="", font_size=theme.LARGE, bold=True, color=theme.TEXT,
                      size_hint_y=None, height=theme.px(90))
        typed = {"value": ""}

        def key(_pad, k: str) -> None:
            typed["value"] = NumericKeypad.apply(typed["value"], k, max_length=18)
            shown.text = typed["value"]

        pad = NumericKeypad(clear_text=self.tr("form.clear"), del_text=self.tr("form.delete"))
        pad.bind(on_key=key)
        row = BoxLayout(spacing=theme.px(16), size_hint_y=None, height=theme.target(120))
        row.add_widget(BigButton(text="X", style="secondary", kiosk_id="manual_x",
                                 on_release=lambda *_: key(None, "X")))
        row.add_widget(BigButton(text=self.tr("common.back"), style="secondary", kiosk_id="manual_cancel",
                                 on_release=lambda *_: view.dismiss()))
        row.add_widget(BigButton(text=self.tr("devices.manual_entry_ok"), style="primary",
                                 kiosk_id="manual_ok",
                                 on_release=lambda *_: self._submit_manual(view, typed["value"])))
        for widget in (title, shown, pad, row):
            box.add_widget(widget)
        needed = sum(w.height for w in box.children) + 2 * box.padding[1] + 3 * box.spacing
        view.height = max(view.height, needed)  # the keypad's keys stay >= 96 px on a small screen
        view.add_widget(box)
        view.open()
        self._manual_view = view

    def forget(self) -> None:
        view, self._manual_view = getattr(self, "_manual_view", None), None
        if view is not None:
            view.dismiss()  # the typed number lives in its label
        self.problem = ""

    def _submit_manual(self, view, text: str) -> None:
        if self.run(self.step.enter_id_number, text) is None:
            return
        view.dismiss()
        self._manual_view = None
        self.nav.forward()

    def on_event_code_read(self, mode: str, what: str) -> None:
        self.problem = ""
        self.nav.forward()

    def on_event_code_notice(self, message_key: str, text: str) -> None:
        self.problem = text  # a line on the screen, never a popup

    def on_event_card_read(self, mode: str, name: str, id_number: str) -> None:
        self.problem = ""
        self.nav.forward()

    def on_event_card_failed(self, message_key: str) -> None:
        self.problem = self.tr(message_key)
