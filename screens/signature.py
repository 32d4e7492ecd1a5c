"""Consent and signature: what the data is used for, 同意, and a finger's signature; then seal."""

from __future__ import annotations

from kivy.properties import BooleanProperty

from screens.base import KioskScreen
from screens.widgets import signature_pad  # noqa: F401  (registers SignaturePad and its kv rule)


class SignatureScreen(KioskScreen):
    agreed = BooleanProperty(False)
    busy = BooleanProperty(False)

    def refresh(self) -> None:
        self.agreed = self.step.agreed

    def toggle_consent(self) -> None:
        agreed = self.run(self.step.agree, not self.agreed)
        if agreed is not None:
            self.agreed = agreed

    def clear_signature(self) -> None:
        self.ids.signature_pad.clear()

    def forget(self) -> None:
        self.ids.signature_pad.clear()
        self.agreed = False

    def confirm(self) -> None:
        if self.busy:
            return
        self.busy = True
        try:
            receipt = self.run(self.step.confirm, self.ids.signature_pad.strokes)
        finally:
            self.busy = False
        if receipt is not None:
            self.ids.signature_pad.clear()  # it is sealed now; nothing of it stays on the screen
            self.nav.forward(receipt=receipt)  # no way back into a sent application
