"""Status: the villager's applications (found by the applicant tag), or the one on a receipt QR.

A correction shows the materials the county named (their catalog names) and the clerk's
reason — sealed in the outbox to the applicant, opened only with the card's tag — and
offers 补交材料 (``start_supplement``: the capture of those materials, ``kiosk.steps.supplement``).
"""

from __future__ import annotations

import logging

from kiosk.presentation import (
    STATE_LOOK,
    UNKNOWN_STATE_LOOK,
    ActionFailed,
    Image,
    StatusRow,
    guarded,
    short_time,
)
from kiosk.steps.context import Step, StepContext
from kiosk.steps.result import ResultDesk
from kiosk.steps.supplement import (
    CorrectionDoor,
    SupplementStep,
    can_supplement,
    correction_materials,
    supplement_pending,
)
from kiosk.steps.table import STATUS
from offline_queue.outbox import QueueEntry
from offline_queue.store import CORRECTION_NEEDED

log = logging.getLogger(__name__)


class StatusStep(CorrectionDoor):
    name = STATUS

    def __init__(self, ctx: StepContext, supplement: SupplementStep | None = None,
                 results: ResultDesk | None = None) -> None:
        super().__init__(ctx)
        self.supplement = supplement
        self.results = results

    def enter(self) -> None:
        super().enter()
        visit = self.ctx.visit
        if visit is not None:
            visit.finished = True  # the villager has what they came for: no wipe notice after it

    @guarded
    def my_applications(self) -> list[StatusRow]:
        return [status_row(self, e) for e in self._entries()]

    @guarded
    def start_supplement(self, entry_id: str) -> bool:
        """补交材料: the capture of the named materials of one of this villager's applications."""
        entry = next((e for e in self._entries() if e.id == entry_id), None)
        if entry is None or self.supplement is None:
            raise ActionFailed("supplement.not_needed", "not one of this villager's applications")
        self.supplement.begin(entry)
        return True

    @guarded
    def fetch_result(self, entry_id: str) -> bool:
        """打印结果: fetch the result off the UI thread; ``result_ready`` or ``result_failed`` follows."""
        visit = self.ctx.need_visit()
        entry = next((e for e in self._entries() if e.id == entry_id), None)
        if entry is None or self.results is None:
            raise ActionFailed("result.none", "not one of this villager's applications")
        self.results.fetch(visit, entry)
        return True

    def result_pictures(self) -> list[Image]:
        """The fetched result's pages as pictures for the screen (none for a PDF it cannot show)."""
        return self.results.pictures(self.ctx.visit) if self.results is not None else []

    def _entries(self) -> list[QueueEntry]:
        visit = self.ctx.visit
        if visit is None:
            return []
        if visit.applicant_tag is not None:
            return list(self.ctx.queue.by_applicant(visit.applicant_tag))
        if visit.lookup_number:
            return list(self.ctx.queue.by_number(visit.lookup_number))
        return []


def status_row(step: Step, e: QueueEntry) -> StatusRow:
    """One application as the status screen and the worklist show it (names from the catalog)."""
    ctx, lang = step.ctx, step.language
    key, colour = STATE_LOOK.get(e.state, UNKNOWN_STATE_LOOK)
    item = ctx.catalog.get(e.service_code) if e.service_code in ctx.catalog else None
    name = item.name.get(lang) if item is not None else e.service_code  # an item the catalog no longer has
    materials: tuple[str, ...] = ()
    if e.state == CORRECTION_NEEDED and item is not None:
        materials = tuple(item.material(m).name.get(lang) for m in correction_materials(item, e))
    correction = e.state == CORRECTION_NEEDED
    return StatusRow(service_name=name, provisional_number=e.provisional_number,
                     official_number=e.official_number or "", state=e.state, state_text=step.t(key),
                     colour=colour, reason=e.reason or "", created_at=short_time(e.created_at),
                     entry_id=e.id, materials=materials,
                     can_supplement=correction and can_supplement(ctx, e),
                     supplement_sent=correction and supplement_pending(ctx, e), results=e.results)
