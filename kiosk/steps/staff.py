"""Staff sign-in: grid workers (代办) on the PC/SC reader, and the reader's other cards.

``watch()`` starts the ``kiosk.staff.SmartCardDesk`` (when ``[devices.pcsc] enabled``;
``kiosk.runtime`` builds it), which watches the reader on a ``BackgroundLoop``. A staff
card read -> ``staff_card`` (the home screen asks the PIN on a keypad); ``check_pin(pin)``
VERIFYs it on the card still in the reader, on a one-shot job, and signs the worker in
(``staff_pin_checked``, ``staff_changed``). Visits started meanwhile carry the worker as
``agent`` (in the sealed document); the login ends on ``logout()`` or after the idle
timeout. A social security card goes to the identify step, which takes it while it waits.

The grid worker is not the villager: the login outlives visits, the ``agent`` stamped on
a visit is wiped with it. A staff card with a key pair stays connected, verified, for the
login (``StaffLogin.card``: the worklist opens the county's reasons with it); logout and
the idle timeout let go of it.
"""

from __future__ import annotations

import logging

from hardware.pcsc_cards import SocialSecurityCard, StaffCardReading
from kiosk.staff import PinResult, SmartCardDesk, StaffLogin, pin_result
from kiosk.steps.context import Step, StepContext
from kiosk.steps.identify import IdentifyStep

log = logging.getLogger(__name__)


class StaffStep(Step):
    name = "staff"

    def __init__(self, ctx: StepContext, identify: IdentifyStep, desk: SmartCardDesk | None = None) -> None:
        super().__init__(ctx)
        self.identify = identify
        self.desk = desk
        self.login: StaffLogin | None = None
        self._pending: StaffCardReading | None = None

    # -- the reader ---------------------------------------------------------------------

    def watch(self, desk: SmartCardDesk | None = None) -> bool:
        if desk is not None:
            self.desk = desk
        if self.desk is None:
            return False
        self.desk.watch(self._on_card, self._on_error)
        return True

    def close(self) -> None:
        if self.desk is not None:
            self.desk.close()

    def _on_card(self, card: object) -> None:
        """From the reader's thread: a staff card asks for its PIN; a social security card identifies."""
        if isinstance(card, StaffCardReading):
            self._pending = card
            self.touch()
            self.ctx.events.emit("staff_card", worker_id=card.worker_id)
        elif isinstance(card, SocialSecurityCard):
            self.identify.accept_social_security(card)

    def _on_error(self, exc: Exception) -> None:
        key = getattr(exc, "message_key", "") or "hardware.smartcard_failed"
        if key == "hardware.pcsc_unavailable":
            return  # the reader is not there: `kiosk doctor` says so; no message to a villager
        self.identify.smart_card_failed(key)

    # -- the PIN ----------------------------------------------------------------------------

    @property
    def pending(self) -> str:
        """The worker id of a staff card waiting for its PIN ("" when none)."""
        return self._pending.worker_id if self._pending is not None else ""

    def verify_pin(self, pin: str) -> PinResult:
        """VERIFY the PIN on the staff card in the reader."""
        pending = self._pending
        if pending is None or self.desk is None:
            return pin_result(RuntimeError("no card"), self.t)
        try:
            reading = self.desk.check_pin(pin)
        except Exception as exc:
            log.info("staff PIN: %s", type(exc).__name__)
            result = pin_result(exc, self.t)
            if result.blocked:
                self._pending = None
            return result
        card = self.desk.take_verified()  # a card with a key pair, kept verified for the worklist
        if not isinstance(reading, StaffCardReading) or reading.worker_id != pending.worker_id:
            if card is not None:
                card.close()
            return pin_result(RuntimeError("another card"), self.t)
        now = self.ctx.clock()
        self._pending = None
        if self.login is not None:
            self.login.end()  # signed in again: the new card session replaces the old one
        self.login = StaffLogin(worker_id=reading.worker_id, county=reading.county, role=reading.role,
                                since=now, last_active=now, card=card)
        log.info("grid worker signed in (%s)", "card key" if card is not None else "no card key")
        self.stamp_agent()
        self.ctx.events.emit("staff_changed", worker_id=reading.worker_id, reason="login")
        return pin_result(None, self.t)

    def check_pin(self, pin: str) -> None:
        """``verify_pin`` on a one-shot job (the UI never waits for a device): ``staff_pin_checked``."""

        def run() -> None:
            try:
                result = self.verify_pin(pin)
            except Exception as exc:  # the keypad must hear an answer, whatever happened
                log.error("staff PIN check failed: %s", type(exc).__name__)
                result = pin_result(exc, self.t)
            self.ctx.events.emit("staff_pin_checked", ok=result.ok, message=result.message,
                                 blocked=result.blocked)

        self.ctx.jobs.submit("staff PIN check", run)

    def cancel_pin(self) -> None:
        self._pending = None

    # -- the login --------------------------------------------------------------------------

    def logout(self, reason: str = "logout") -> None:
        if self.login is None:
            return
        login, self.login = self.login, None
        login.end()
        visit = self.ctx.visit
        if visit is not None:
            visit.agent = None
        log.info("grid worker signed out (%s)", reason)
        self.ctx.events.emit("staff_changed", worker_id="", reason=reason)

    def line(self) -> str:
        """For the home screen: "网格员 <id> 代办中" ("" when nobody is signed in)."""
        return self.t("staff.acting", worker_id=self.login.worker_id) if self.login is not None else ""

    def stamp_agent(self) -> None:
        """A signed-in grid worker applies on the villager's behalf: the visit says so."""
        visit = self.ctx.visit
        if visit is not None:
            visit.agent = self.login.agent() if self.login is not None else None

    def touch(self) -> None:
        if self.login is not None:
            self.login.last_active = self.ctx.clock()

    def expire_if_idle(self) -> bool:
        login, timeout = self.login, float(self.ctx.settings.kiosk.idle_timeout_s)
        if login is None or self.ctx.clock() - login.last_active < timeout:
            return False
        self.logout("idle")
        return True
