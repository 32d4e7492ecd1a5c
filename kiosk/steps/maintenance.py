"""Maintenance (the technician's, behind a PIN) and out of service (the county's lock).

``MaintenanceStep``: ``check_pin`` (``kiosk.maintenance_pin.PinGuard``: the hash from the
settings, a lockout after repeated wrong PINs) opens it; the screen then shows the device
self-test (``self_test`` on a one-shot job: ``hardware.health.check_devices`` with the
kiosk's own devices, event ``maintenance_devices``), the queue (counts per state, oldest
unsent age, space: never a name or a number of an application), the enrolment, and can
wake the sync (``sync_now``). Leaving it closes it: the next visit needs the PIN again.

``OutOfServiceStep``: the kiosk the county locked (``kiosk.agent``'s ``lock`` command,
heard as the ``fleet`` event, or the lock saved in ``agent.json`` at start) shows only the
county's notice. The sync and the agent go on; ``unlock`` brings home back (event
``service_state``: locked, notice).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from hardware.device_health import CAMERA, ID_READER, PCSC_READER, PRINTER
from kiosk.maintenance_pin import PIN_STATE_FILE, PinGuard
from kiosk.steps.confirm import ReviewStep
from kiosk.steps.context import Step, StepContext
from kiosk.steps.table import MAINTENANCE, OUT_OF_SERVICE
from offline_queue.health import age_words

log = logging.getLogger(__name__)

DEVICE_ORDER = (ID_READER, CAMERA, PRINTER, PCSC_READER)


@dataclass(frozen=True)
class PinAnswer:
    """What the PIN keypad shows: ``ok``, or a plain ``message`` (``blocked`` while locked out)."""

    ok: bool
    message: str = ""
    blocked: bool = False


@dataclass(frozen=True)
class DeviceLine:
    """One device in the self-test: its name, its state's words, and advice when it is not ok."""

    device: str
    name: str
    state: str  # ok | degraded | missing
    words: str


class MaintenanceStep(Step):
    name = MAINTENANCE

    def __init__(self, ctx: StepContext, review: ReviewStep) -> None:
        super().__init__(ctx)
        self.review = review  # its ``sync`` is the sync worker (set after the steps are built)
        cfg = ctx.settings.maintenance
        self.guard = PinGuard(cfg.pin_hash, cfg.max_tries, cfg.lockout_s,
                              state_path=ctx.settings.data_dir / PIN_STATE_FILE)
        self.open = False
        self.devices: list[DeviceLine] = []

    def leave(self) -> None:
        self.open = False  # the next technician types the PIN again

    # -- the PIN --------------------------------------------------------------------------

    def check_pin(self, pin: str) -> PinAnswer:
        verdict = self.guard.check(pin)
        if verdict.ok:
            self.open = True
            return PinAnswer(True)
        if verdict.no_pin:
            return PinAnswer(False, self.t("maint.pin_not_set"), blocked=True)
        if verdict.locked_for_s > 0:
            minutes = max(1, round(verdict.locked_for_s / 60))
            return PinAnswer(False, self.t("maint.pin_locked", minutes=minutes), blocked=True)
        return PinAnswer(False, self.t("maint.pin_wrong", tries=verdict.tries_left))

    # -- what the screen shows ----------------------------------------------------------------

    def queue_lines(self) -> list[str]:
        """Counts per state, the oldest unsent, the space used: no personal data."""
        try:
            summary = self.ctx.queue.summary()
        except Exception as exc:
            log.warning("queue summary failed: %s", type(exc).__name__)
            return [self.t("home.notice.queue_broken")]
        counts = "  ".join(f"{self.t(f'maint.state.{state}')} {n}"
                           for state, n in sorted(summary.counts.items()) if n)
        lines = [self.t("maint.queue_counts", counts=counts or self.t("maint.queue_empty"))]
        if summary.oldest_unsent_age_s is not None:
            key, values = age_words(summary.oldest_unsent_age_s)
            lines.append(self.t("maint.queue_oldest", age=self.t(key, **values)))
        mb = 1024 * 1024
        lines.append(self.t("maint.queue_space", used=round(summary.bytes_used / mb, 1),
                            budget=round(summary.budget_bytes / mb)))
        return lines

    def enrolment_line(self) -> str:
        identity = self.ctx.identity
        if identity is None:
            return self.t("maint.not_enrolled")
        return self.t("maint.enrolled", device=identity.device_id, county=identity.county,
                      hall=identity.hall_url)

    # -- what the technician does ---------------------------------------------------------------

    def self_test(self) -> None:
        """Probe every device on a one-shot job; ``maintenance_devices`` (lines) when done."""
        self.ctx.jobs.submit("maintenance self-test", self._self_test)

    def _self_test(self) -> None:
        from hardware.health import check_devices

        lease = self.ctx.camera
        camera = lease.lend(self)  # nobody else uses it while maintenance shows
        try:
            report = check_devices(self.ctx.settings.devices, id_reader=self.ctx.id_reader, camera=camera)
        finally:
            lease.release(self)
        found = {h.device: h for h in report.devices}
        lines = []
        for device in DEVICE_ORDER:
            health = found.get(device)
            if health is None:
                continue
            words = self.t(f"devices.state.{health.state}")
            if health.state != "ok" and health.reason:
                words += " — " + self.t(f"devices.reason.{health.reason}")
            lines.append(DeviceLine(device, self.t(f"devices.name.{device}"), health.state, words))
        self.devices = lines
        if self.ctx.devices is not None:
            self.ctx.devices.check()  # what the catalog and the receipt know follows
        self.ctx.events.emit("maintenance_devices", lines=lines)

    def give_back(self) -> None:
        """The self-test's probe is short; nothing to stop."""

    def sync_now(self) -> str:
        sync = self.review.sync
        if sync is None:
            return self.t("maint.no_sync")
        try:
            sync.wake()
        except Exception as exc:
            log.warning("waking the sync failed: %s", type(exc).__name__)
            return self.t("maint.no_sync")
        return self.t("maint.sync_started")


class OutOfServiceStep(Step):
    name = OUT_OF_SERVICE

    def __init__(self, ctx: StepContext, locked: bool = False, notice: str = "") -> None:
        super().__init__(ctx)
        self.locked = locked
        self.county_notice = notice
        ctx.events.bind(self)  # the agent's ``fleet`` events come through the shared events

    def on_event_fleet(self, what: str, payload: dict[str, Any]) -> None:
        if what == "locked":
            self.locked, self.county_notice = True, str(payload.get("notice", ""))[:500]
        elif what == "unlocked":
            self.locked, self.county_notice = False, ""
        else:
            return
        log.info("kiosk %s by the county", "locked" if self.locked else "unlocked")
        if self.locked:
            self.ctx.keeper.cancel()  # a villager at the kiosk: their visit is wiped, as on going home
        self.ctx.events.emit("service_state", locked=self.locked)

    def notice(self) -> str:
        """The county's words, or the standard ones when it sent none."""
        return self.county_notice.strip() or self.t("maint.out_of_service_default")
