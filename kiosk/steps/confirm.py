"""Review, confirm and receipt: what will be sent, sending it to the outbox, the slip.

``ReviewStep.confirm`` is the confirm step: the visit's application is validated, sealed
to the hall's key and queued (``kiosk.intake.enqueue_session``, the one path from a visit
to the outbox), the sync worker is woken, and the receipt step prints the slip on a
one-shot job — never at the application's cost: a printer out of paper or with its cover
open only costs a friendly notice (event ``receipt_print_failed``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol

from hardware.device_health import DeviceHealth
from hardware.errors import PrinterUnavailable
from hardware.factory import build_printer
from hardware.printer import EscposPrinter
from hardware.printer_receipt import print_receipt
from kiosk.certificates import covered_materials
from kiosk.i18n import Translator
from kiosk.intake import enqueue_session
from kiosk.presentation import ActionFailed, Receipt, ReviewLine, guarded, mask_id, short_time
from kiosk.receipts import receipt_slip
from kiosk.steps.context import Step, StepContext
from kiosk.steps.table import RECEIPT, REVIEW

log = logging.getLogger(__name__)


class SyncWaker(Protocol):
    """The sync worker, as the confirm step sees it: woken to send a new application now."""

    def wake(self) -> None: ...


class ReceiptStep(Step):
    """The receipt screen's step, and the receipt printer's one user."""

    name = RECEIPT

    def __init__(self, ctx: StepContext, printer: EscposPrinter | None = None) -> None:
        super().__init__(ctx)
        self.printer = printer  # opened on the first receipt when [devices.printer] names one
        self._printer_lock = threading.Lock()
        self._print_notices: dict[str, str] = {}  # provisional number -> why its slip did not print
        self.last_print: Future[None] | None = None  # the latest slip's job: shutdown and tests wait on it

    def print_in_background(self, receipt: Receipt) -> None:
        """Print the slip on a one-shot job when a printer is configured; never raises."""
        if self.printer is None and self.ctx.settings.devices.printer.driver == "none":
            return
        translator = self.ctx.words.translator
        self.last_print = self.ctx.jobs.submit("receipt printing", lambda: self._print(receipt, translator))

    def _print(self, receipt: Receipt, translator: Translator) -> None:
        try:
            with self._printer_lock:
                if self.printer is None:
                    self.printer = build_printer(self.ctx.settings.devices.printer)
                if self.printer is None:  # no driver named: nothing to print on
                    return
                slip = receipt_slip(receipt, translator, self.ctx.settings.kiosk.device_name)
                print_receipt(self.printer, slip)
        except Exception as exc:
            key = getattr(exc, "message_key", None) or "hardware.printer_failed"
            log.warning("receipt not printed: %s (%s)", type(exc).__name__, key)
            if isinstance(exc, PrinterUnavailable):
                self.close()  # opened again for the next receipt: it may be back
            notice = f"{self.t('codes.notice.receipt_not_printed')} {self.t(key)}"
            self._print_notices = {receipt.provisional_number: notice}  # the latest receipt only
            self.ctx.events.emit("receipt_print_failed", message_key=key, notice=notice)

    def with_printer(self, job: Callable[[EscposPrinter], None]) -> bool:
        """Run ``job`` on the receipt printer (opened if needed; another slip waits); False without one."""
        with self._printer_lock:
            if self.printer is None:
                self.printer = build_printer(self.ctx.settings.devices.printer)
            if self.printer is None:
                return False
            try:
                job(self.printer)
            except PrinterUnavailable:
                self.close()  # opened again for the next slip: it may be back
                raise
            return True

    def printer_health(self) -> DeviceHealth:
        """The printer's status, asked on the printer this step holds (or one opened for the probe)."""
        from hardware.health import probe_printer

        with self._printer_lock:
            return probe_printer(self.ctx.settings.devices.printer, self.printer)

    def keep_line(self, provisional_number: str, qr_below: bool = False) -> str:
        """"请保管好回执单" when a slip prints; otherwise: note the number or scan the QR code, which
        the screen shows on the right, or below the number on an upright screen (``qr_below``)."""
        if self.ctx.printer_usable() and not self.print_notice(provisional_number):
            return self.t("receipt.keep")
        return self.t("receipt.keep_no_printer_upright" if qr_below else "receipt.keep_no_printer")

    def print_notice(self, provisional_number: str) -> str:
        """Why this receipt's slip did not print ("" when it printed, is printing, or no printer)."""
        return self._print_notices.get(provisional_number, "")

    def close(self) -> None:
        printer, self.printer = self.printer, None
        if printer is not None:
            try:
                printer.close()
            except Exception as exc:
                log.warning("closing the printer failed: %s", type(exc).__name__)


class ReviewStep(Step):
    name = REVIEW

    def __init__(self, ctx: StepContext, receipt: ReceiptStep, sync: SyncWaker | None = None) -> None:
        super().__init__(ctx)
        self.receipt = receipt
        self.sync = sync

    @guarded
    def lines(self) -> list[ReviewLine]:
        visit, item, lang = self.ctx.need_visit(), self.ctx.need_item(), self.language
        lines = [ReviewLine(self.t("review.service"), item.name.get(lang))]
        for f in item.fields:
            value = visit.fields.get(f.id, "")
            if f.kind == "id_number" and value:
                value = mask_id(value)
            elif f.choices:
                value = next((c.label.get(lang) for c in f.choices if c.value == value), value)
            lines.append(ReviewLine(f.label.get(lang), value))
        lines.append(ReviewLine(self.t("review.pages"), self.t("review.pages_count", count=len(visit.pages))))
        used = covered_materials(item, visit.certificates)
        if used:  # the e-certificates the villager agreed to use instead of photographs
            names = sorted({c.type_name(lang) for c in used.values()})
            lines.append(ReviewLine(self.t("certificates.review"), "、".join(names)))
        return lines

    @guarded
    def confirm(self) -> Receipt:
        """Seal and queue the application; the receipt to show (its slip prints meanwhile)."""
        from kiosk.applications import validate_fields

        visit, item, ctx = self.ctx.need_visit(), self.ctx.need_item(), self.ctx
        if ctx.identity is None:
            raise ActionFailed("home.notice.not_enrolled", "not enrolled")
        errors = dict(validate_fields(item, dict(visit.fields)))
        if errors:
            raise ActionFailed("kiosk.application_invalid", "form invalid", errors)
        entry = enqueue_session(visit, item, queue=ctx.queue, identity=ctx.identity,
                                county=ctx.settings.kiosk.county, data_dir=ctx.settings.data_dir,
                                clock=ctx.clock)
        visit.finished = True  # sealed and queued: an idle timeout now closes it quietly
        visit.submitted_number = entry.provisional_number  # what a rating names
        self._wake_sync()
        ctx.events.emit("queue_changed")
        base = ctx.settings.hall.url.rstrip("/")
        receipt = Receipt(provisional_number=entry.provisional_number,
                          qr_text=f"{base}/track/{entry.provisional_number}",
                          service_name=item.name.get(self.language), created_at=short_time(entry.created_at),
                          visits_needed=item.visits_needed, agent=(visit.agent or {}).get("worker_id", ""))
        self.receipt.print_in_background(receipt)
        return receipt

    def _wake_sync(self) -> None:
        if self.sync is None:
            return
        try:
            self.sync.wake()
        except Exception as exc:  # the application is queued; the worker's next pass sends it
            log.warning("waking the sync failed: %s", type(exc).__name__)
