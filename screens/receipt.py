"""Receipt: the provisional number, very large, and a QR code to follow it on a phone."""

from __future__ import annotations

from typing import Any

from kivy.core.image import Image as CoreImage
from kivy.properties import ObjectProperty, StringProperty

from screens import theme
from screens.base import KioskScreen


def qr_texture(text: str) -> Any:
    """A crisp QR code texture for ``text`` (the ``qrcode`` package, drawn by Pillow)."""
    import io

    import qrcode

    qr = qrcode.QRCode(border=2, box_size=12, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    buffer.seek(0)
    texture = CoreImage(buffer, ext="png").texture
    texture.mag_filter = "nearest"
    texture.min_filter = "nearest"
    return texture


class ReceiptScreen(KioskScreen):
    receipt = ObjectProperty(None, allownone=True)
    number = StringProperty("")
    details = StringProperty("")
    print_notice = StringProperty("")  # set when the slip did not print
    keep_text = StringProperty("")  # keep the slip, or (no slip) note the number / scan the QR code

    def prepare(self, receipt: Any = None, **params: Any) -> None:
        if receipt is not None:
            self.receipt = receipt
            self.print_notice = ""

    def on_event_receipt_print_failed(self, message_key: str, notice: str) -> None:
        self.print_notice = notice
        self.refresh()

    def refresh(self) -> None:
        r = self.receipt
        if r is None:
            return
        self.number = r.provisional_number
        # upright, the QR code stands under the number, not on its right
        self.keep_text = self.step.keep_line(r.provisional_number, qr_below=theme.PORTRAIT)
        if not self.print_notice:
            self.print_notice = self.step.print_notice(r.provisional_number)  # failed before we showed
        self.details = "\n".join((
            r.service_name,
            self.tr("receipt.time", time=r.created_at),
            self.tr("receipt.visits", visits=self.tr(f"kiosk.visits.{min(r.visits_needed, 2)}")),
        ) + ((self.tr("staff.receipt_agent", worker_id=r.agent),) if r.agent else ())
          + ((self.print_notice,) if self.print_notice else ()))
        self.ids.qr.texture = qr_texture(r.qr_text)

    def forget(self) -> None:
        self.receipt = None
        self.number = self.details = self.print_notice = self.keep_text = ""
        self.ids.qr.texture = None

    def done(self) -> None:
        self.receipt = None
        self.nav.forward()  # to the rating (好差评), which finishes the visit
