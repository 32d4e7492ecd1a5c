"""E-certificates (电子证照): what the hall holds for the villager, in big words; use them or photograph.

While the hall is asked the screen says so and "我要拍照" is already there: nobody has to
wait. The answer comes as ``certificates_changed`` (kiosk.steps.certificates).
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from screens import theme
from screens.base import KioskScreen
from screens.widgets.big_button import BigButton


class CertificateCard(BoxLayout):
    """One certificate found: its name big, then issuer, masked number, validity, what it replaces."""

    kiosk_id = StringProperty("")
    title = StringProperty("")
    details = StringProperty("")


class CertificatesScreen(KioskScreen):
    message = StringProperty("")
    found = BooleanProperty(False)  # "使用电子证照" shows only when there is something to use

    def on_kv_post(self, base_widget: Any) -> None:
        # "使用电子证照" is only there when something was found (a hidden button is still a target)
        self._use = BigButton(kiosk_id="certificates_use", height=theme.target(160), font_size=theme.LARGE)
        self._use.bind(on_release=self.use)
        super().on_kv_post(base_widget)

    def _show_use(self, show: bool) -> None:
        buttons = self.ids.certificates_buttons
        self._use.text = self.tr("certificates.use")
        if show and self._use.parent is None:
            buttons.add_widget(self._use)
        elif not show and self._use.parent is not None:
            buttons.remove_widget(self._use)

    def refresh(self) -> None:
        box = self.ids.certificates_found
        box.clear_widgets()
        lines = self.step.lines()
        self.found = bool(lines)
        self.message = self.tr(self.step.message_key())
        self._show_use(self.found)
        for index, line in enumerate(lines):
            instead = self.tr("certificates.instead_of", materials="、".join(line.materials))
            details = "\n".join((line.issuer + "    " + self.tr("certificates.number", number=line.number),
                                 line.validity + "    " + instead))
            box.add_widget(CertificateCard(kiosk_id=f"certificate_{index}", title=line.name, details=details))

    def on_event_language_changed(self, lang: str) -> None:
        super().on_event_language_changed(lang)
        self._use.text = self.tr("certificates.use")

    def on_event_certificates_changed(self, state: str) -> None:
        if self.manager is not None and self.manager.current == self.name:
            self.refresh()

    def use(self, *_args: Any) -> None:
        if self.run(self.step.agree):
            self.nav.forward()

    def photograph(self, *_args: Any) -> None:
        self.step.decline()
        self.nav.forward()

    def forget(self) -> None:
        self.ids.certificates_found.clear_widgets()
        self.message = ""
        self.found = False
        self._show_use(False)
