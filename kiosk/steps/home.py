"""Home: whether the kiosk can take applications now, the waiting queue, starting a visit.

Decided here, before a villager starts: a kiosk that is not enrolled, has no card reader,
or whose outbox is nearly full (``offline_queue.health``) says so and does not start.
"""

from __future__ import annotations

import logging

from kiosk.presentation import ActionFailed, guarded
from kiosk.steps.context import Step, StepContext
from kiosk.steps.staff import StaffStep
from kiosk.steps.table import HOME
from kiosk.visit import MODE_APPLY, MODE_STATUS
from offline_queue.health import Health, QueueLimits, age_words, assess

log = logging.getLogger(__name__)


class HomeStep(Step):
    name = HOME

    def __init__(self, ctx: StepContext, staff: StaffStep) -> None:
        super().__init__(ctx)
        self.staff = staff  # the grid worker's sign-in happens on the home screen

    def enter(self) -> None:
        """Known before anyone starts: is the camera there, will a slip print (``kiosk.readiness``)."""
        if self.ctx.devices is not None:
            self.ctx.devices.check_if_stale()

    def queue_health(self) -> Health:
        """The outbox under the configured limits (budget, free disk, oldest unsent, last contact)."""
        return assess(self.ctx.queue.summary(), QueueLimits.from_settings(self.ctx.settings.queue))

    def notices(self) -> list[str]:
        """Plain translated warnings for the home screen, most serious first."""
        out: list[str] = []
        if self.ctx.identity is None:
            out.append(self.t("home.notice.not_enrolled"))
        try:
            out.extend(self.t(n.message_key, **n.values) for n in self.queue_health().notices)
        except Exception as exc:
            log.warning("queue summary failed: %s", type(exc).__name__)
            out.append(self.t("home.notice.queue_broken"))
        if self.ctx.id_reader is None:
            out.append(self.t("home.notice.no_reader"))
        if not self.ctx.camera_usable():
            out.append(self.t("home.notice.no_camera"))
        return out

    def can_start(self) -> bool:
        if self.ctx.identity is None or self.ctx.id_reader is None:
            return False
        try:
            return self.queue_health().can_take_applications
        except Exception:
            return False

    def queue_line(self) -> str:
        """For the grid worker: how many wait to be sent and how old the oldest is ("" if none)."""
        try:
            summary = self.ctx.queue.summary()
        except Exception:
            return ""
        if not summary.waiting or summary.oldest_unsent_age_s is None:
            return ""
        key, values = age_words(summary.oldest_unsent_age_s)
        return self.t("queue.notice.waiting", count=summary.waiting, age=self.t(key, **values))

    @guarded
    def start_application(self) -> bool:
        """A new visit to apply for an item; True when it started."""
        if not self.can_start():
            key = "home.notice.not_enrolled" if self.ctx.identity is None else "home.notice.cannot_start"
            raise ActionFailed(key, "cannot start")
        return self._begin(MODE_APPLY)

    @guarded
    def start_status_lookup(self) -> bool:
        """A new visit to see how applications are going (needs no enrolment)."""
        return self._begin(MODE_STATUS)

    def _begin(self, mode: str) -> bool:
        self.ctx.keeper.start(mode)  # wipes any visit left over
        self.staff.stamp_agent()  # a signed-in grid worker applies on the villager's behalf
        return True

    def toggle_language(self) -> str:
        return self.ctx.toggle_language()
