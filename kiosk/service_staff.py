"""The presenter's part for the PC/SC reader: grid workers (代办) and social security cards.

Mixed into ``kiosk.service.KioskService``. ``watch_smart_cards()`` starts the
``kiosk.staff.SmartCardDesk`` (when ``[devices.pcsc] enabled``; ``kiosk.runtime`` builds
it). A staff card read -> ``staff_card`` (the home screen asks the PIN on a keypad);
``verify_staff_pin(pin)`` VERIFYs it on the card still in the reader and signs the
worker in (``staff_changed``). Applications started while signed in carry the worker
in the sealed document (``agent``); the login ends on ``staff_logout()`` or after the
idle timeout. A social security card read while the identify screen waits identifies
the villager like an ID card (status: the applicant tag; apply: name, sex, birth date
and ID number, but no address).

Events: ``staff_card`` (worker_id), ``staff_pin_checked`` (ok, message, blocked),
``staff_changed`` (worker_id, "" when signed out, reason), ``card_read`` / ``card_failed``
as for the ID card, ``code_notice``.
"""

from __future__ import annotations

import logging
from typing import Any

from kiosk.staff import SOCIAL_SECURITY_SOURCE, StaffLogin, id_card_from_social_security, pin_result, today_of

log = logging.getLogger(__name__)


class SmartCardMixin:
    """Needs from the presenter: keeper, clock, mode, settings, emit, t, cancel_card_wait."""

    smart_cards: Any = None
    staff: StaffLogin | None = None
    _pending_staff: Any = None

    def watch_smart_cards(self, desk: Any = None) -> bool:
        if desk is not None:
            self.smart_cards = desk
        if self.smart_cards is None:
            return False
        self.smart_cards.watch(self._on_smart_card, self._on_smart_card_error)
        return True

    def stop_smart_cards(self) -> None:
        if self.smart_cards is not None:
            self.smart_cards.close()

    # -- what the reader hands in (worker thread) ------------------------------------------

    def _on_smart_card(self, card: Any) -> None:
        kind = getattr(card, "card_type", "")
        if kind == "staff":
            self._pending_staff = card
            self.touch()
            self.emit("staff_card", worker_id=card.worker_id)
        elif kind == "social_security":
            self._accept_social_security(card)

    def _on_smart_card_error(self, exc: Exception) -> None:
        key = getattr(exc, "message_key", "") or "hardware.smartcard_failed"
        if key == "hardware.pcsc_unavailable":
            return  # the reader is not there: `kiosk doctor` says so; no message to a villager
        if self._waiting_for_card():
            self.emit("card_failed", message_key=key)
        else:
            self._notice(key)

    def _waiting_for_card(self) -> bool:
        return self.keeper.current is not None and getattr(self, "_card_thread", None) is not None

    def _accept_social_security(self, card: Any) -> None:
        from kiosk.presentation import _mask_id, mask_name

        session = self.keeper.current
        if session is None or not self._waiting_for_card() or self._identified():
            self._notice("staff.ss_choose_first")
            return
        if card.is_expired(today_of(self.clock)):
            self.emit("card_failed", message_key="identify.card_expired")
            return
        self.cancel_card_wait()
        if self.mode == "status":
            self._applicant_tag = self._tag_for(card.id_number)
        else:
            session.card = id_card_from_social_security(card)
            session.identity_source = SOCIAL_SECURITY_SOURCE
        session.touch(self.clock())
        self.emit("card_read", mode=self.mode, name=mask_name(card.name), id_number=_mask_id(card.id_number))

    # -- the grid worker ---------------------------------------------------------------------

    @property
    def staff_pending(self) -> str:
        """The worker id of a staff card waiting for its PIN ("" when none)."""
        return getattr(self._pending_staff, "worker_id", "") or ""

    def verify_staff_pin(self, pin: str) -> Any:
        """VERIFY the PIN on the staff card in the reader; a ``kiosk.staff.PinResult``."""
        pending = self._pending_staff
        if pending is None or self.smart_cards is None:
            return pin_result(RuntimeError("no card"), self.t)
        try:
            reading = self.smart_cards.check_pin(pin)
        except Exception as exc:
            log.info("staff PIN: %s", type(exc).__name__)
            result = pin_result(exc, self.t)
            if result.blocked:
                self._pending_staff = None
            return result
        if getattr(reading, "card_type", "") != "staff" or reading.worker_id != pending.worker_id:
            return pin_result(RuntimeError("another card"), self.t)
        now = self.clock()
        self._pending_staff = None
        self.staff = StaffLogin(worker_id=reading.worker_id, county=reading.county, role=reading.role,
                                since=now, last_active=now)
        log.info("grid worker signed in")
        self._stamp_agent()
        self.emit("staff_changed", worker_id=reading.worker_id, reason="login")
        return pin_result(None, self.t)

    def check_staff_pin(self, pin: str) -> None:
        """``verify_staff_pin`` on a worker thread (the card answers in a moment, but the UI
        never waits for a device): the answer comes as ``staff_pin_checked``."""
        import threading

        def run() -> None:
            try:
                result = self.verify_staff_pin(pin)
            except Exception as exc:  # never let the worker die silently
                log.error("staff PIN check failed: %s", type(exc).__name__)
                result = pin_result(exc, self.t)
            self.emit("staff_pin_checked", ok=result.ok, message=result.message, blocked=result.blocked)

        threading.Thread(target=run, name="staff-pin", daemon=True).start()

    def cancel_staff_pin(self) -> None:
        self._pending_staff = None

    def staff_logout(self, reason: str = "logout") -> None:
        if self.staff is None:
            return
        self.staff = None
        session = self.keeper.current
        if session is not None:
            session.agent = None
        log.info("grid worker signed out (%s)", reason)
        self.emit("staff_changed", worker_id="", reason=reason)

    def staff_line(self) -> str:
        """For the home screen: "网格员 <id> 代办中" ("" when nobody is signed in)."""
        return self.t("staff.acting", worker_id=self.staff.worker_id) if self.staff is not None else ""

    def _stamp_agent(self) -> None:
        session = self.keeper.current
        if session is not None:
            session.agent = self.staff.agent() if self.staff is not None else None

    def _touch_staff(self) -> None:
        if self.staff is not None:
            self.staff.last_active = self.clock()

    def _expire_staff(self) -> bool:
        staff = self.staff
        if staff is None:
            return False
        if self.clock() - staff.last_active < float(self.settings.kiosk.idle_timeout_s):
            return False
        self.staff_logout("idle")
        return True
