"""Identify: who is at the kiosk — the ID card, a typed ID number, a code held up to the camera,
or a social security card on the PC/SC reader (routed here by the staff step).

While the step is entered, the card reader is polled on a ``BackgroundLoop`` and the
camera, borrowed from its ``DeviceLease``, is scanned for codes
(``hardware.barcode_scanner.ContinuousScanner``). What a code means (``kiosk.code_lookup``):

* status lookup + receipt QR or application number -> that application's status
  (``code_read`` with ``what`` "receipt"); a number the outbox does not know -> a notice;
* an ID-number barcode -> exactly as if the number had been typed (``enter_id_number``),
  in both modes (``code_read`` with ``what`` "id_number");
* anything else -> ``code_notice`` with a short friendly line, at most one per few seconds.

Everything learnt goes into the ``Visit``: the card, the typed number, the applicant tag
(status lookup) or the receipt's number. Events: ``card_read`` (mode, masked name and
number), ``card_failed`` (message_key), ``code_read`` (mode, what), ``code_notice``.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING

from hardware.interfaces import IdCard
from hardware.pcsc_cards import SocialSecurityCard
from kiosk.code_lookup import ID_NUMBER, RECEIPT, classify
from kiosk.idnumber import normalize_id_number, validate_id_number
from kiosk.presentation import CARD_POLL_S, ActionFailed, as_action_failed, guarded, mask_id, mask_name
from kiosk.privacy import applicant_tag
from kiosk.staff import id_card_from_social_security
from kiosk.steps.context import Step, StepContext
from kiosk.steps.table import CATALOG, IDENTIFY, STATUS
from kiosk.visit import FROM_SOCIAL_SECURITY_CARD, MODE_STATUS, Visit
from workers import BackgroundLoop
from workers.loop import PassResult

if TYPE_CHECKING:
    from hardware.barcode import Barcode
    from hardware.barcode_scanner import ContinuousScanner

# The code stack (OpenCV, zbar) is imported when the scanner starts, not on the way to the home screen's
# first frame; ``kiosk.warmup`` imports it off the UI thread once that frame is drawn.
DEFERRED_IMPORTS = ("hardware.barcode_scanner", "pyzbar.wrapper")  # pyzbar loads libzbar on the first decode

log = logging.getLogger(__name__)

CARD_RETRY_S = 1.0  # after a failed read: time for the villager to take the card away
STOP_WAIT_S = 2.0  # the scanner may be inside a frame decode; under load that takes a while


class IdentifyStep(Step):
    name = IDENTIFY

    def __init__(self, ctx: StepContext) -> None:
        super().__init__(ctx)
        # Polls the ID card reader while the step waits; ends itself when a card is taken.
        self._card_loop = BackgroundLoop("card-wait", self._card_pass, interval_s=0.0, crash_backoff_s=1.0)
        self._code_scanner: ContinuousScanner | None = None

    # -- the step ---------------------------------------------------------------------

    def enter(self) -> None:
        self.wait_for_card()
        self.start_code_scan()

    def leave(self) -> None:
        self.cancel_card_wait()
        self.stop_code_scan()

    def next_step(self) -> str:
        return STATUS if self.mode == MODE_STATUS else CATALOG

    @property
    def mode(self) -> str:
        visit = self.ctx.visit
        return visit.mode if visit is not None else "apply"

    @property
    def has_camera(self) -> bool:
        return self.ctx.camera.device is not None

    def device_notice(self) -> str:
        """A friendly line when there is no ID card reader, else ""."""
        if self.ctx.id_reader is not None:
            return ""
        return self.t("devices.notice_missing", device=self.t("devices.name.id_reader"))

    # -- the ID card --------------------------------------------------------------------

    def wait_for_card(self) -> None:
        """Poll the reader on a worker thread until a card is read or the wait is cancelled."""
        self.cancel_card_wait()
        if self.ctx.id_reader is not None:
            self._card_loop.start()

    def cancel_card_wait(self) -> None:
        self._card_loop.stop(CARD_POLL_S * 3)

    @property
    def waiting_for_card(self) -> bool:
        return self._card_loop.running

    def _card_pass(self) -> PassResult:
        """One read: STOP once a card is taken; a failure is said and the wait goes on."""
        assert self.ctx.id_reader is not None
        try:
            card = self.ctx.id_reader.read_card(timeout=CARD_POLL_S)
        except Exception as exc:
            if self._card_loop.stopping.is_set():
                return BackgroundLoop.STOP
            self.ctx.events.emit("card_failed", message_key=as_action_failed(exc, "read_card").message_key)
            return CARD_RETRY_S
        if card is None or self._card_loop.stopping.is_set():
            return 0
        try:
            self._accept_card(card)
        except Exception as exc:
            self.ctx.events.emit("card_failed", message_key=as_action_failed(exc, "accept_card").message_key)
            return CARD_RETRY_S
        self.ctx.events.emit("card_read", mode=self.mode, name=mask_name(card.name),
                             id_number=mask_id(card.id_number))
        return BackgroundLoop.STOP

    def _accept_card(self, card: IdCard) -> None:
        visit = self.ctx.need_visit()
        if card.is_expired(self._today()):
            raise ActionFailed("identify.card_expired", "card expired")
        visit.used_id_reader = True  # it lies on the reader: the end of the visit says to take it
        if visit.mode == MODE_STATUS:
            visit.applicant_tag = self._tag_for(card.id_number)
            return  # the status lookup keeps nothing else of the card
        visit.card = card
        visit.touch(self.ctx.clock())

    def _tag_for(self, id_number: str) -> str:
        return applicant_tag(id_number, self.ctx.settings.data_dir)

    def _today(self) -> date:
        return date.fromtimestamp(self.ctx.clock())

    # -- the typed number -----------------------------------------------------------------

    @guarded
    def enter_id_number(self, text: str) -> dict[str, str]:
        """The manual path for a villager whose card will not read: the number typed on the keypad.

        Validated as GB 11643 (structure, date, check character; an unknown division is only
        a warning). In a status lookup it finds the villager's applications; in an
        application it fills the form's ID-number field. Returns the mode and the masked number.
        """
        visit = self.ctx.need_visit()
        number = normalize_id_number(text)
        validate_id_number(number, today=self._today())
        self.cancel_card_wait()
        if visit.mode == MODE_STATUS:
            visit.applicant_tag = self._tag_for(number)
        else:
            visit.typed_id_number = number
        visit.touch(self.ctx.clock())
        return {"mode": visit.mode, "id_number": mask_id(number)}

    # -- the social security card (from the PC/SC reader, through the staff step) ----------

    def accept_social_security(self, card: SocialSecurityCard) -> None:
        visit = self.ctx.visit
        if visit is None or not self.waiting_for_card or visit.identified:
            self.ctx.notice("staff.ss_choose_first")
            return
        if card.is_expired(self._today()):
            self.ctx.events.emit("card_failed", message_key="identify.card_expired")
            return
        self.cancel_card_wait()
        if visit.mode == MODE_STATUS:
            visit.applicant_tag = self._tag_for(card.id_number)
        else:
            visit.card = id_card_from_social_security(card)
            visit.identity_source = FROM_SOCIAL_SECURITY_CARD
        visit.touch(self.ctx.clock())
        self.ctx.events.emit("card_read", mode=visit.mode, name=mask_name(card.name),
                             id_number=mask_id(card.id_number))

    def smart_card_failed(self, message_key: str) -> None:
        """The PC/SC reader failed: said on this screen while it waits, else a short notice."""
        if self.ctx.visit is not None and self.waiting_for_card:
            self.ctx.events.emit("card_failed", message_key=message_key)
        else:
            self.ctx.notice(message_key)

    # -- codes held up to the camera (the camera is borrowed) --------------------------------

    def start_code_scan(self) -> bool:
        """Scan the camera for codes on a worker thread; False when there is no camera."""
        camera = self.ctx.camera.lend(self)
        if camera is None:
            self.ctx.camera.release(self)
            return False
        if self._code_scanner is None:
            from hardware.barcode_scanner import ContinuousScanner

            self._code_scanner = ContinuousScanner(camera, self._on_codes, on_error=self._on_code_error)
        self._code_scanner.camera = camera
        self._code_scanner.start()
        return True

    def stop_code_scan(self) -> None:
        self.give_back()
        self.ctx.camera.release(self)

    def give_back(self) -> None:
        """The lease takes the camera back (or the step is left): stop reading it."""
        if self._code_scanner is not None:
            self._code_scanner.stop(STOP_WAIT_S)

    @property
    def code_scanning(self) -> bool:
        return self._code_scanner is not None and self._code_scanner.running

    def _on_code_error(self, exc: Exception) -> None:
        log.info("code scan: camera %s", type(exc).__name__)

    def _on_codes(self, codes: list[Barcode]) -> None:
        """From the scanner's thread: the first code that means something wins."""
        visit = self.ctx.visit
        if visit is None or visit.identified:
            return
        for code in codes:
            meaning = classify(code.text, today=self._today())
            log.info("code read at identify: %s %s", code.type, meaning.kind)
            if meaning.kind == RECEIPT:
                self._receipt_code(visit, meaning.value)
                return
            if meaning.kind == ID_NUMBER:
                try:
                    result = self.enter_id_number(meaning.value)
                except ActionFailed as exc:
                    self.ctx.notice(exc.message_key or "lookup.code_unusable")
                    return
                self.ctx.events.emit("code_read", mode=result["mode"], what=ID_NUMBER)
                return
        self.ctx.notice("lookup.code_unusable")

    def _receipt_code(self, visit: Visit, number: str) -> None:
        if visit.mode != MODE_STATUS:
            self.ctx.notice("lookup.receipt_in_apply")
            return
        if not self.ctx.queue.by_number(number):
            self.ctx.notice("lookup.number_unknown")
            return
        visit.lookup_number = number
        self.cancel_card_wait()
        visit.touch(self.ctx.clock())
        self.ctx.events.emit("code_read", mode=visit.mode, what=RECEIPT)

    def close(self) -> None:
        self.leave()
