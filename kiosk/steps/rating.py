"""Rating (好差评): after the receipt, five big faces from 非常满意 to 非常不满意, a reason from a
short list when unhappy, or skip. The rating is queued as its own record
(``offline_queue.ratings``, never inside the sealed application) and the sync worker is
woken to send it; it names the application by the provisional number on the receipt.

Events: ``rating_prompt`` (prompt_key ``voice.rating``) when the step is entered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk.presentation import ActionFailed, guarded
from kiosk.steps.confirm import SyncWaker
from kiosk.steps.context import Step, StepContext
from kiosk.steps.table import RATING
from offline_queue.ratings import REASONS, SCORES, UNHAPPY, RatingQueue

log = logging.getLogger(__name__)

RATING_PROMPT = "voice.rating"
# score -> colour name of the face (screens map names to colours): green happy … red unhappy
SCORE_COLOURS = {5: "green", 4: "green", 3: "amber", 2: "red", 1: "red"}


@dataclass(frozen=True)
class RatingChoice:
    score: int
    text: str
    colour: str


class RatingStep(Step):
    name = RATING

    def __init__(self, ctx: StepContext, sync: SyncWaker | None = None) -> None:
        super().__init__(ctx)
        self.sync = sync
        self._queue: RatingQueue | None = None

    @property
    def queue(self) -> RatingQueue:
        if self._queue is None:  # the file is made on the first rating
            self._queue = RatingQueue(self.ctx.queue.data_dir, self.ctx.clock)
        return self._queue

    def enter(self) -> None:
        self.ctx.events.emit("rating_prompt", prompt_key=RATING_PROMPT)

    def choices(self) -> list[RatingChoice]:
        return [RatingChoice(s, self.t(f"rating.score.{s}"), SCORE_COLOURS[s]) for s in SCORES]

    def reasons(self) -> list[tuple[str, str]]:
        return [(code, self.t(f"rating.reason.{code}")) for code in REASONS]

    @staticmethod
    def needs_reason(score: int) -> bool:
        return score in UNHAPPY

    @guarded
    def rate(self, score: int, reason: str = "") -> str:
        """Queue the villager's rating of the application just sealed; its id."""
        visit = self.ctx.need_visit()
        if not visit.submitted_number or not visit.service_code:
            raise ActionFailed("rating.nothing_to_rate", "no application in this visit")
        if visit.rated:
            raise ActionFailed("rating.already", "rated already")
        try:
            rating_id = self.queue.add(visit.submitted_number, visit.service_code, int(score), reason)
        except ValueError as exc:
            raise ActionFailed("rating.invalid", "score or reason out of the lists") from exc
        visit.rated = True
        if self.sync is not None:
            try:
                self.sync.wake()
            except Exception as exc:  # queued: the worker's next pass sends it
                log.warning("waking the sync failed: %s", type(exc).__name__)
        return rating_id

    def close(self) -> None:
        if self._queue is not None:
            self._queue.close()
