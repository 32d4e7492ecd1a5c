"""The grid worker's worklist (代办, issue 10 part 4): the applications they made here.

A signed-in grid worker (``kiosk.steps.staff``) sees the applications the outbox knows
they made (``OfflineQueue.by_agent``: the visit's ``agent``, stamped at sign-in, is kept as
a keyed digest), newest first: waiting, submitted, correction requested with the
materials the county named, done. No villager's name or ID number is there: the outbox
has none in the clear, and the item, number and date tell the worker which one it is.
The county's reason is sealed to the applicant (docs/security.md): it opens on the status
screen when the villager's card is placed, not here.

A correction is answered on the spot (``start_supplement``): a visit for the pages is
started, stamped with the worker, and the supplement step captures exactly the named
materials — the same path as the villager's own 补交材料, sent once, joined on the hall.
"""

from __future__ import annotations

from kiosk.presentation import ActionFailed, StatusRow, guarded
from kiosk.steps.context import StepContext
from kiosk.steps.staff import StaffStep
from kiosk.steps.status import status_row
from kiosk.steps.supplement import CorrectionDoor, SupplementStep
from kiosk.steps.table import WORKLIST
from kiosk.visit import MODE_APPLY
from offline_queue.outbox import QueueEntry

MAX_ROWS = 200  # a worker's list on one screen; older ones are in the county's console


class WorklistStep(CorrectionDoor):
    name = WORKLIST

    def __init__(self, ctx: StepContext, staff: StaffStep, supplement: SupplementStep) -> None:
        super().__init__(ctx)
        self.staff = staff
        self.supplement = supplement

    @property
    def worker_id(self) -> str:
        login = self.staff.login
        return login.worker_id if login is not None else ""

    @guarded
    def rows(self) -> list[StatusRow]:
        return [status_row(self, e) for e in self._entries()]

    @guarded
    def start_supplement(self, entry_id: str) -> bool:
        """Add the missing page of one of this worker's applications, now."""
        entry = next((e for e in self._entries() if e.id == entry_id), None)
        if entry is None:
            raise ActionFailed("supplement.not_needed", "not one of this worker's applications")
        self.ctx.keeper.start(MODE_APPLY)  # the pages live in a visit, wiped with it
        self.staff.stamp_agent()
        self.supplement.begin(entry)
        return True

    def _entries(self) -> list[QueueEntry]:
        worker = self.worker_id
        if not worker:
            raise ActionFailed("worklist.signed_out", "no grid worker signed in")
        self.staff.touch()
        return self.ctx.queue.by_agent(worker)[:MAX_ROWS]
