"""The printed receipt's content: a confirmed application's receipt, in the kiosk's language.

``receipt_slip`` turns the presenter's ``Receipt`` (number, tracking URL, service name,
time) into the ``hardware.printer_receipt.ReceiptSlip`` the printer lays out. Nothing
personal goes on the slip: not the name, the ID number, the phone or the address — the
provisional number and the tracking URL are all a villager needs, and the tracking page
shows status only.
"""

from __future__ import annotations

from typing import Protocol

from hardware.printer_receipt import ReceiptSlip
from kiosk.i18n import Translator


class SlipContent(Protocol):
    """What a slip shows: ``kiosk.presentation.Receipt``, or `kiosk print-test`'s sample."""

    @property
    def provisional_number(self) -> str: ...

    @property
    def qr_text(self) -> str: ...

    @property
    def service_name(self) -> str: ...

    @property
    def created_at(self) -> str: ...

    @property
    def agent(self) -> str: ...  # the grid worker's id, or "" (the print test's sample has none)


def receipt_slip(receipt: SlipContent, t: Translator, place: str = "") -> ReceiptSlip:
    """The slip for ``receipt`` in ``t``'s language; ``place`` is the kiosk's name."""
    return ReceiptSlip(
        title=t.t("codes.receipt.title"),
        place=place,
        service_label=t.t("codes.receipt.service"),
        service_name=receipt.service_name,
        number_label=t.t("codes.receipt.number"),
        number=receipt.provisional_number,
        date_label=t.t("codes.receipt.date"),
        date=receipt.created_at,
        qr_text=receipt.qr_text,
        qr_caption=t.t("codes.receipt.qr_caption"),
        keep_note=t.t("codes.receipt.keep"),
        agent_note=t.t("staff.receipt_agent", worker_id=receipt.agent) if receipt.agent else "",
    )
