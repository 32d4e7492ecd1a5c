"""Status: the villager's applications (found by the applicant tag), or the one on a receipt QR."""

from __future__ import annotations

import logging

from kiosk.presentation import STATE_LOOK, UNKNOWN_STATE_LOOK, StatusRow, guarded, short_time
from kiosk.steps.context import Step
from kiosk.steps.table import STATUS
from offline_queue.outbox import QueueEntry

log = logging.getLogger(__name__)


class StatusStep(Step):
    name = STATUS

    def enter(self) -> None:
        visit = self.ctx.visit
        if visit is not None:
            visit.finished = True  # the villager has what they came for: no wipe notice after it

    @guarded
    def my_applications(self) -> list[StatusRow]:
        lang = self.language
        rows = []
        for e in self._entries():
            key, colour = STATE_LOOK.get(e.state, UNKNOWN_STATE_LOOK)
            try:
                name = self.ctx.catalog.get(e.service_code).name.get(lang)
            except Exception:  # an item the catalog no longer has: its code says enough
                name = e.service_code
            rows.append(StatusRow(service_name=name, provisional_number=e.provisional_number,
                                  official_number=e.official_number or "", state=e.state,
                                  state_text=self.t(key), colour=colour, reason=e.reason or "",
                                  created_at=short_time(e.created_at)))
        return rows

    def _entries(self) -> list[QueueEntry]:
        visit = self.ctx.visit
        if visit is None:
            return []
        if visit.applicant_tag is not None:
            return list(self.ctx.queue.by_applicant(visit.applicant_tag))
        if visit.lookup_number:
            return list(self.ctx.queue.by_number(visit.lookup_number))
        return []
