"""A completed application's result for the villager whose card is placed: printed, or shown.

``ResultDesk.fetch(visit, entry)`` asks the hall on a one-shot job (the UI never waits for
the network; ``kiosk.jobs``) with the applicant's proof (``kiosk.result_proof``, from the
card's tag: a receipt QR proves nothing, so a lookup by number gets no result). The bytes
live in the visit (``Visit.result_page``, wiped with it), never on disk. A picture is
printed on the receipt printer as a slip (``hardware.printer_result``); with no printer, or
for a PDF (not rendered on the kiosk), the screen shows what it can and says where to get
the paper. Event ``result_ready`` (entry_id, printed, picture, message) or ``result_failed``
(message_key, message).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from hardware.printer_result import print_result, result_picture
from kiosk.presentation import ActionFailed, Image, to_image
from kiosk.result_proof import result_proof
from kiosk.steps.confirm import ReceiptStep
from kiosk.steps.context import StepContext
from kiosk.visit import Page, Visit
from offline_queue.identity import DeviceIdentity
from offline_queue.outbox import QueueEntry
from offline_queue.store import COMPLETED

log = logging.getLogger(__name__)

RESULT_MATERIAL = "result"


def _hall_client(identity: DeviceIdentity, timeout_s: float) -> Any:
    from offline_queue.transport import HallClient

    return HallClient(identity, timeout_s=timeout_s)


class ResultDesk:
    def __init__(self, ctx: StepContext, receipt: ReceiptStep,
                 client_factory: Callable[[DeviceIdentity, float], Any] = _hall_client) -> None:
        self.ctx = ctx
        self.receipt = receipt
        self.client_factory = client_factory

    def fetch(self, visit: Visit, entry: QueueEntry) -> None:
        if entry.state != COMPLETED or entry.results <= 0:
            raise ActionFailed("result.none", "no result on the hall")
        if not visit.applicant_tag:
            raise ActionFailed("result.card_needed", "only the card proves the applicant")
        identity = self.ctx.identity
        if identity is None:
            raise ActionFailed("home.notice.not_enrolled", "not enrolled")
        proof = result_proof(visit.applicant_tag, entry.id)
        timeout = float(self.ctx.settings.hall.timeout_s)
        service_name = (self.ctx.catalog.get(entry.service_code).name.get(self.ctx.language)
                        if entry.service_code in self.ctx.catalog else entry.service_code)
        lines = [service_name, entry.official_number or entry.provisional_number]
        self.ctx.jobs.submit("result fetch",
                             lambda: self._fetch(identity, visit, entry.id, proof, timeout, lines))

    def _fetch(self, identity: DeviceIdentity, visit: Visit, entry_id: str, proof: str, timeout: float,
               lines: list[str]) -> None:
        events = self.ctx.events
        try:
            found = self.client_factory(identity, timeout).fetch_result(entry_id, 0, proof)
        except Exception as exc:
            log.warning("result fetch failed: %s", type(exc).__name__)
            events.emit("result_failed", message_key="result.unavailable",
                        message=self.ctx.t("result.unavailable"))
            return
        if self.ctx.visit is not visit or visit.wiped:
            return  # the villager left meanwhile: nothing of it is kept
        if visit.result_page is not None:
            visit.result_page.wipe()
        visit.result_page = Page(material_id=RESULT_MATERIAL, data=found.data, media_type=found.media_type)
        picture = result_picture(found.data, found.media_type)
        printed = False
        if picture is not None and self.ctx.printer_usable():
            try:
                printed = self.receipt.with_printer(lambda printer: print_result(printer, lines, picture))
            except Exception as exc:
                log.warning("result slip not printed: %s", type(exc).__name__)
        key = "result.printed" if printed else ("result.no_printer" if picture is not None else "result.pdf")
        events.emit("result_ready", entry_id=entry_id, printed=printed, picture=picture is not None,
                    message=self.ctx.t(key), message_key=key)

    def picture(self, visit: Visit | None, max_width: int = 1400) -> Image | None:
        """The fetched result as pixels for the screen (zoomed by the screen), None for a PDF."""
        page = visit.result_page if visit is not None else None
        if page is None or page.media_type not in ("image/png", "image/jpeg"):
            return None
        import cv2
        import numpy as np

        frame = cv2.imdecode(np.frombuffer(bytes(page.data), np.uint8), cv2.IMREAD_COLOR)
        return None if frame is None else to_image(frame, max_width)
