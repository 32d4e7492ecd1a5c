"""The kiosk's receipt, laid out for a 58 mm (32-column) or wider thermal printer.

``print_receipt(printer, slip)`` prints, top to bottom: the title (double size), the
service point, the service name, the provisional number (large, the one thing a
villager must be able to read out), the date and time, a native QR of the tracking URL
with a caption, and a line asking to keep the slip; then feeds and cuts.

A ``ReceiptSlip`` holds only what the villager needs: no name, no ID number, no phone,
no address. The tracking URL's page shows status only (``hall/``'s ``/track``). Every
string arrives translated; this module knows no language.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from hardware.errors import PrinterPaperOut
from hardware.printer import PAPER_OUT, EscposPrinter


@dataclass(frozen=True)
class ReceiptSlip:
    title: str
    service_label: str
    service_name: str
    number_label: str
    number: str
    date_label: str
    date: str
    qr_text: str
    qr_caption: str
    keep_note: str
    place: str = ""  # the service point's name, when the kiosk has one
    agent_note: str = ""  # "网格员 … 代办" when a grid worker applied on the villager's behalf


def display_width(text: str) -> int:
    """Columns on a receipt: Chinese (wide) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def wrap(text: str, columns: int) -> list[str]:
    """Break ``text`` into lines of at most ``columns`` columns (CJK-aware, no hyphens)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, width = "", 0
        for ch in paragraph:
            w = display_width(ch)
            if width + w > columns and line:
                lines.append(line.rstrip())
                line, width = "", 0
                if ch == " ":
                    continue
            line += ch
            width += w
        lines.append(line.rstrip())
    return lines


def print_receipt(printer: EscposPrinter, slip: ReceiptSlip) -> None:
    """Print ``slip``; raises ``PrinterPaperOut`` / ``PrinterCoverOpen`` / ``PrinterError``.

    The status is checked before the first byte (so nothing half-prints into an empty
    printer) and again after the cut (paper that ran out mid-slip is reported).
    """
    printer.check_ready()
    cols = printer.columns
    rule = "-" * cols
    printer.reset()
    printer.style(align="center", bold=True, double_width=True, double_height=True)
    for line in wrap(slip.title, cols // 2):
        printer.line(line)
    printer.style(align="center", bold=False, normal_textsize=True)
    if slip.place:
        for line in wrap(slip.place, cols):
            printer.line(line)
    printer.line(rule)
    printer.style(align="left")
    for line in wrap(f"{slip.service_label}{slip.service_name}", cols):
        printer.line(line)
    printer.line(slip.number_label)
    printer.style(align="center", bold=True, double_width=display_width(slip.number) * 2 <= cols,
                  double_height=True)
    printer.line(slip.number)
    printer.style(align="left", bold=False, normal_textsize=True)
    printer.line(f"{slip.date_label}{slip.date}")
    if slip.agent_note:
        for line in wrap(slip.agent_note, cols):
            printer.line(line)
    printer.line(rule)
    printer.style(align="center")
    printer.qr(slip.qr_text, size=6 if cols >= 42 else 5)
    for line in wrap(slip.qr_caption, cols):
        printer.line(line)
    printer.line()
    printer.style(align="left", bold=True)
    for line in wrap(slip.keep_note, cols):
        printer.line(line)
    printer.style(bold=False)
    printer.feed_and_cut()
    printer.flush()
    if printer.reports_status and printer.status().paper == PAPER_OUT:
        raise PrinterPaperOut(f"{printer.name}: paper ran out while printing")
