"""A completed application's results for the villager whose card is placed: printed, or shown.

``ResultDesk.fetch(visit, entry)`` asks the hall on a one-shot job (the UI never waits for
the network; ``kiosk.jobs``) with the applicant's proof (``kiosk.result_proof``, from the
card's tag: a receipt QR proves nothing, so a lookup by number gets no result). It fetches
every result of the application, page by page: the hall renders a PDF's pages to images
once when the clerk attaches it (docs/protocol.md 11.3), because the kiosk has no PDF
engine. The bytes live in the visit (``Visit.result_pages``, wiped with it), never on disk.
Each page is printed on the receipt printer as a slip of its own (``hardware.printer_result``,
"page 1 of 3" under the number); with no printer the screen shows the pages big and says
where to get the paper. A PDF from a hall that renders no pages cannot be shown: the kiosk
says where to get the letter. Event ``result_ready`` (entry_id, printed, picture, message)
or ``result_failed`` (message_key, message).
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
MAX_PAGES = 40  # every result's pages together: a slip roll and a villager's patience are finite


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
            found = self._fetch_pages(self.client_factory(identity, timeout), entry_id, proof)
        except Exception as exc:
            log.warning("result fetch failed: %s", type(exc).__name__)
            events.emit("result_failed", message_key="result.unavailable",
                        message=self.ctx.t("result.unavailable"))
            return
        if self.ctx.visit is not visit or visit.wiped:
            return  # the villager left meanwhile: nothing of it is kept
        for page in visit.result_pages:
            page.wipe()
        visit.result_pages = [Page(material_id=RESULT_MATERIAL, data=f.data, media_type=f.media_type)
                              for f in found]
        pictures = [p for p in (result_picture(f.data, f.media_type) for f in found) if p is not None]
        printed = False
        if pictures and self.ctx.printer_usable():
            try:
                printed = all(self._print_page(lines, n, pictures) for n in range(len(pictures)))
            except Exception as exc:
                log.warning("result slip not printed: %s", type(exc).__name__)
        key = "result.printed" if printed else ("result.no_printer" if pictures else "result.pdf")
        events.emit("result_ready", entry_id=entry_id, printed=printed, picture=bool(pictures),
                    message=self.ctx.t(key), message_key=key)

    def _print_page(self, lines: list[str], n: int, pictures: list[Any]) -> bool:
        """One slip a page, "page 2 of 3" under the number when there are several."""
        if len(pictures) > 1:
            lines = [*lines, self.ctx.t("result.page", page=n + 1, pages=len(pictures))]
        return self.receipt.with_printer(lambda printer: print_result(printer, lines, pictures[n]))

    @staticmethod
    def _fetch_pages(client: Any, entry_id: str, proof: str) -> list[Any]:
        """Every page of every result (``ResultFile``s), in order; a hall that renders no pages
        answers each result whole (a picture, or a PDF the kiosk cannot show)."""
        found: list[Any] = []
        count = 1
        index = 0
        while index < count and len(found) < MAX_PAGES:
            first = client.fetch_result(entry_id, index, proof, page=0)
            count = first.count
            found.append(first)
            if first.page is not None:
                for page in range(1, min(first.pages, MAX_PAGES - len(found) + 1)):
                    found.append(client.fetch_result(entry_id, index, proof, page=page))
            index += 1
        return found

    def pictures(self, visit: Visit | None, max_width: int = 1400) -> list[Image]:
        """The fetched pages as pixels for the screen (zoomed by the screen); none for a PDF."""
        import cv2
        import numpy as np

        shown: list[Image] = []
        for page in visit.result_pages if visit is not None else []:
            if page.media_type not in ("image/png", "image/jpeg"):
                continue
            frame = cv2.imdecode(np.frombuffer(bytes(page.data), np.uint8), cv2.IMREAD_COLOR)
            if frame is not None:
                shown.append(to_image(frame, max_width))
        return shown
