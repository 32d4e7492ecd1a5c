"""The grid worker's worklist (代办, issue 10 part 4): the applications they made here.

A signed-in grid worker (``kiosk.steps.staff``) sees the applications the outbox knows
they made (``OfflineQueue.by_agent``: the visit's ``agent``, stamped at sign-in, is kept as
a keyed digest), newest first: waiting, submitted, correction requested with the
materials the county named, done. No villager's name or ID number is there: the outbox
has none in the clear, and the item, number and date tell the worker which one it is.

The county's reason is sealed to the applicant and, for an application made with a staff
card that has a key pair, to that card too (``OfflineQueue.by_agent``, docs/security.md).
``rows()`` never waits for the card: it shows the rows at once and, when the signed-in
worker's card (``StaffLogin.card``, verified with the PIN) can open reasons not opened
yet, asks it on a one-shot job; the reasons it opened are kept in memory for the list
(keyed by entry and reason, dropped when the worklist is left or another worker
signs in) and ``worklist_reasons`` redraws it. A row whose reason stays closed says why
in ``reason_note``: the card is needed (it left the reader, or it is not the card the
reason was sealed to), or — an application made before, or with an older card — the
villager's card opens it. No shared secret outlives the job; nothing of a reason is logged.

A correction is answered on the spot (``start_supplement``): a visit for the pages is
started, stamped with the worker, and the supplement step captures exactly the named
materials — the same path as the villager's own 补交材料, sent once, joined on the hall.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from kiosk.presentation import ActionFailed, StatusRow, guarded
from kiosk.staff import CardKey
from kiosk.steps.context import StepContext
from kiosk.steps.staff import StaffStep
from kiosk.steps.status import status_row
from kiosk.steps.supplement import CorrectionDoor, SupplementStep
from kiosk.steps.table import WORKLIST
from kiosk.visit import MODE_APPLY
from offline_queue.outbox import QueueEntry
from offline_queue.store import CORRECTION_NEEDED, REJECTED

log = logging.getLogger(__name__)

MAX_ROWS = 200  # a worker's list on one screen; older ones are in the county's console
REASON_STATES = (CORRECTION_NEEDED, REJECTED)  # the states whose card shows the county's words
NOTE_OPENING = "worklist.reason_opening"
NOTE_NEEDS_CARD = "worklist.reason_needs_card"
NOTE_VILLAGER_CARD = "worklist.reason_villager_card"


class WorklistStep(CorrectionDoor):
    name = WORKLIST

    def __init__(self, ctx: StepContext, staff: StaffStep, supplement: SupplementStep) -> None:
        super().__init__(ctx)
        self.staff = staff
        self.supplement = supplement
        self._lock = threading.Lock()
        self._login: object | None = None  # the login the opened reasons belong to
        self._opened: dict[tuple[str, str], str] = {}  # (entry id, reason digest) -> reason ("" = closed)
        self._opening = False

    def leave(self) -> None:
        self.forget_reasons()

    def forget_reasons(self) -> None:
        """Drop the reasons the card opened (the worklist is left, or the worker changed)."""
        with self._lock:
            self._opened = {}
            self._login = None

    @property
    def worker_id(self) -> str:
        login = self.staff.login
        return login.worker_id if login is not None else ""

    @guarded
    def rows(self) -> list[StatusRow]:
        entries = self._entries()
        login = self.staff.login
        card = login.card if login is not None else None
        with self._lock:
            if self._login is not login:
                self._opened, self._login = {}, login
            opened = dict(self._opened)
            opening = self._opening
        usable = card is not None and card.usable
        rows, to_open = [], []
        for entry in entries:
            row, wants_card = self._row(entry, opened, usable)
            rows.append(row)
            if wants_card:
                to_open.append((entry.id, entry.reason_digest))
        if to_open and card is not None and not opening:
            self._open_later(login, card, to_open)
        return rows

    def _row(self, e: QueueEntry, opened: dict[tuple[str, str], str],
             usable: bool) -> tuple[StatusRow, bool]:
        """One row with the reason the card opened, or a note why it is closed; and whether
        the card should be asked for it."""
        row = status_row(self, e)
        if e.state not in REASON_STATES or not (e.reason_sealed or e.agent_reason_sealed):
            return row, False
        key = (e.id, e.reason_digest)
        reason = opened.get(key, "")
        if reason:
            return replace(row, reason=reason, reason_note=""), False
        if not e.agent_reason_sealed:  # made before the card key, or with an older card
            return replace(row, reason="", reason_note=self.t(NOTE_VILLAGER_CARD)), False
        if usable and key not in opened:
            return replace(row, reason="", reason_note=self.t(NOTE_OPENING)), True
        return replace(row, reason="", reason_note=self.t(NOTE_NEEDS_CARD)), False

    def _open_later(self, login: object, card: CardKey, wanted: list[tuple[str, str]]) -> None:
        """Ask the card for the reasons on a one-shot job (the UI never waits for a device).

        Each reason is asked once: what did not open (the card left, another
        card) is remembered as "" and its row says the card is needed."""
        worker = self.worker_id
        with self._lock:
            self._opening = True

        def run() -> None:
            opened: dict[tuple[str, str], str] = dict.fromkeys(wanted, "")
            try:
                ids = {entry_id for entry_id, _ in wanted}  # not the ones opened already
                for e in self.ctx.queue.by_agent(worker, card.agree, card_public=card.public_key, only=ids):
                    if (e.id, e.reason_digest) in opened:
                        opened[(e.id, e.reason_digest)] = e.reason  # "": not for this card: asked once
            except Exception as exc:  # the card left the reader, or wants its PIN again
                log.info("worklist: the staff card did not open the reasons (%s)", type(exc).__name__)
                opened = dict.fromkeys(wanted, "")
            finally:
                with self._lock:
                    self._opening = False
                    if self._login is login:
                        self._opened.update(opened)
                self.ctx.events.emit("worklist_reasons")

        self.ctx.jobs.submit("worklist reasons", run)

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
