"""Printing the receipt after confirmation, on a worker thread, never at the application's cost.

Mixed into ``kiosk.service.KioskService``. The application is queued before the first
byte goes to the printer; a printer out of paper or with its cover open only costs a
friendly notice (event ``receipt_print_failed``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kiosk.presentation import Receipt

log = logging.getLogger(__name__)


class ReceiptPrintingMixin:
    def _print_in_background(self, receipt: Receipt) -> None:
        """Print the slip on a worker thread when a printer is configured; never raises.

        The application is already sealed and queued: a printer that is missing, out of
        paper or with its cover open only costs the slip, reported as
        ``receipt_print_failed`` (the receipt screen shows the number to write down).
        """
        cfg = getattr(getattr(self.settings, "devices", None), "printer", None)
        if self.printer is None and getattr(cfg, "driver", "none") == "none":
            return
        thread = threading.Thread(
            target=self._print_receipt, args=(receipt, self.translator), name="receipt-print", daemon=True
        )
        thread.start()

    def _print_receipt(self, receipt: Receipt, translator: Any) -> None:
        from hardware.printer_receipt import print_receipt
        from kiosk.receipts import receipt_slip

        try:
            with self._printer_lock:
                if self.printer is None:
                    from hardware.factory import build_printer

                    self.printer = build_printer(self.settings.devices.printer)
                slip = receipt_slip(receipt, translator, self.settings.kiosk.device_name)
                print_receipt(self.printer, slip)
        except Exception as exc:
            key = getattr(exc, "message_key", None) or "hardware.printer_failed"
            log.warning("receipt not printed: %s (%s)", type(exc).__name__, key)
            if type(exc).__name__ == "PrinterUnavailable":
                self._drop_printer()  # opened again for the next receipt: it may be back
            notice = f"{self.t('codes.notice.receipt_not_printed')} {self.t(key)}"
            self._print_notices = {receipt.provisional_number: notice}  # the latest receipt only
            self.emit("receipt_print_failed", message_key=key, notice=notice)

    def print_notice(self, provisional_number: str) -> str:
        """Why this receipt's slip did not print ("" when it printed, is printing, or no printer)."""
        return self._print_notices.get(provisional_number, "")

    def _drop_printer(self) -> None:
        printer, self.printer = self.printer, None
        if printer is not None:
            try:
                printer.close()
            except Exception as exc:
                log.warning("closing the printer failed: %s", type(exc).__name__)
