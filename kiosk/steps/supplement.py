"""Answering a correction: photograph exactly the materials the county named, seal, queue.

The county's clerk asked for some materials again (``correction_needed`` with material
ids, docs/protocol.md 11). From the status screen (the villager's card placed) or the
grid worker's worklist, ``begin(entry)`` turns the visit into a short capture of those
materials only: the capture step and screen are the ordinary ones, in their supplement
mode (``CaptureStep.supplementing``), and forward then leads here. ``send()`` seals the
new pages to the hall's key and queues them as a supplement of the application
(``OfflineQueue.enqueue_supplement``: sent exactly once by the sync, joined to the same
application on the hall) and wakes the sync; the confirmation says "已补交，请等待县里审核".

Pages live in the ``Visit`` (wiped with it); this step keeps nothing of the villager.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from kiosk.applications import PlainAttachment
from kiosk.catalog import ServiceItem
from kiosk.presentation import ActionFailed, guarded
from kiosk.steps.confirm import ReviewStep
from kiosk.steps.context import Step, StepContext
from kiosk.steps.table import SUPPLEMENT, MoveRefused
from offline_queue.outbox import QueueEntry
from offline_queue.store import CORRECTION_NEEDED

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Supplement:
    """What the outbox seals (``offline_queue.outbox.SupplementLike``)."""

    id: str
    created_at: str
    document: dict[str, str]
    attachments: tuple[PlainAttachment, ...]

    def __repr__(self) -> str:
        return f"Supplement(id={self.id!r}, {len(self.attachments)} pages)"


@dataclass(frozen=True)
class SupplementSent:
    """The confirmation screen's words: which application, what was added."""

    service_name: str
    number: str
    materials: tuple[str, ...]
    pages: int


class CorrectionDoor(Step):
    """A screen from which 补交材料 begins a correction's capture: the status screen and the
    grid worker's worklist. Coming back to it drops a capture left half done (nothing is
    sent), and forward leads only into a capture that was begun."""

    def enter(self) -> None:
        visit = self.ctx.visit
        if visit is not None:
            visit.supplement_for = None

    def next_step(self) -> str:
        visit = self.ctx.visit
        if visit is None or not visit.supplement_for:
            raise MoveRefused(f"{self.name!r} leads on only to answer a correction")
        return super().next_step()


def correction_materials(item: ServiceItem, entry: QueueEntry) -> tuple[str, ...]:
    """The material ids to photograph again: those the correction named that the item has;
    when it named none (an older hall, a clerk's CLI), the item's materials to photograph."""
    known = {m.id for m in item.materials}
    named = tuple(m for m in entry.materials if m in known)
    if named:
        return named
    return tuple(m.id for m in item.capture_materials()) or tuple(
        m.id for m in item.materials if not m.covered_by_card)


def supplement_pending(ctx: StepContext, entry: QueueEntry) -> bool:
    """Pages were added for the latest correction and the county has not answered since."""
    return any(s.updated_at >= entry.updated_at for s in ctx.queue.supplements_of(entry.id))


def can_supplement(ctx: StepContext, entry: QueueEntry) -> bool:
    return (entry.state == CORRECTION_NEEDED and entry.kind == "application"
            and entry.service_code in ctx.catalog and not supplement_pending(ctx, entry))


class SupplementStep(Step):
    name = SUPPLEMENT

    def __init__(self, ctx: StepContext, review: ReviewStep) -> None:
        super().__init__(ctx)
        self.review = review  # holds the sync worker to wake (the service swaps it there)

    @property
    def ready(self) -> bool:
        """A correction is being answered in this visit (else the screen has nothing to send)."""
        visit = self.ctx.visit
        return visit is not None and visit.supplement_for is not None

    @guarded
    def begin(self, entry: QueueEntry) -> None:
        """Turn the visit into the capture of ``entry``'s named materials (the caller found
        ``entry`` among the applications the card or the signed-in worker may see)."""
        visit = self.ctx.need_visit()
        if entry.state != CORRECTION_NEEDED or entry.kind != "application":
            raise ActionFailed("supplement.not_needed", "no correction waiting")
        if supplement_pending(self.ctx, entry):
            raise ActionFailed("supplement.already_sent", "pages already added")
        if entry.service_code not in self.ctx.catalog:
            raise ActionFailed("supplement.unknown_item", "item not in the catalog")
        if not self.ctx.camera_usable():
            raise ActionFailed("supplement.no_camera", "no camera")
        if self.ctx.identity is None:
            raise ActionFailed("home.notice.not_enrolled", "not enrolled")
        item = self.ctx.catalog.get(entry.service_code)
        visit.clear_application()
        visit.service_code = entry.service_code
        visit.supplement_for = entry.id
        visit.supplement_materials = correction_materials(item, entry)
        visit.supplement_sent = None
        visit.finished = False  # pages being taken: walking away now warns before the wipe
        visit.touch(self.ctx.clock())

    @guarded
    def send(self) -> SupplementSent:
        """Seal the pages and queue them as the application's supplement (once per visit)."""
        visit, item, ctx = self.ctx.need_visit(), self.ctx.need_item(), self.ctx
        parent = ctx.queue.get(visit.supplement_for or "")
        if parent is None:
            raise ActionFailed("supplement.not_needed", "application not in the outbox")
        pages = [p for p in visit.pages if p.material_id in visit.supplement_materials]
        if visit.supplement_sent is None:
            if ctx.identity is None:
                raise ActionFailed("home.notice.not_enrolled", "not enrolled")
            missing = set(visit.supplement_materials) - {p.material_id for p in pages}
            if missing:
                raise ActionFailed("capture.missing", "a named material has no page")
            supplement_id = str(uuid.uuid4())
            supplement = Supplement(
                id=supplement_id,
                created_at=datetime.fromtimestamp(ctx.clock(), UTC).isoformat().replace("+00:00", "Z"),
                document={"id": supplement_id, "application_id": parent.id},
                attachments=tuple(PlainAttachment(material=p.material_id, data=bytes(p.data),
                                                  media_type=p.media_type) for p in pages),
            )
            entry = ctx.queue.enqueue_supplement(parent, supplement, ctx.identity.hall_seal_public_key)
            del supplement
            visit.supplement_sent = entry.id
            visit.finished = True  # queued: an idle timeout now closes the visit quietly
            log.info("supplement queued for %s (%d pages)", parent.provisional_number, len(pages))
            self._wake_sync()
            ctx.events.emit("queue_changed")
        lang = self.language
        names = tuple(item.material(m).name.get(lang) for m in visit.supplement_materials)
        return SupplementSent(service_name=item.name.get(lang),
                              number=parent.official_number or parent.provisional_number,
                              materials=names, pages=len(pages))

    def _wake_sync(self) -> None:
        sync = self.review.sync
        if sync is None:
            return
        try:
            sync.wake()
        except Exception as exc:  # queued all the same: the worker's next pass sends it
            log.warning("waking the sync failed: %s", type(exc).__name__)
