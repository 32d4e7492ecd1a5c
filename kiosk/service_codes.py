"""The presenter's part for codes held up to the camera on the identify screen.

Mixed into ``kiosk.service.KioskService``. While the identify screen waits for a card,
``start_code_scan`` runs ``hardware.barcode_scanner.ContinuousScanner`` on the kiosk's
camera (its own worker thread; the UI never waits for a frame) and ``stop_code_scan``
ends it when the screen is left, before the capture screen's live scanner takes the
camera: one reader of the camera at a time.

What a code means (``kiosk.code_lookup``):

* status lookup + receipt QR or application number -> that application's status
  (``code_read`` with ``what`` "receipt"); a number the outbox does not know -> a notice;
* an ID-number barcode -> exactly as if the number had been typed (``enter_id_number``),
  in both modes (``code_read`` with ``what`` "id_number");
* anything else -> ``code_notice`` with a short friendly line, at most one per
  ``NOTICE_EVERY_S`` (a villager waving an unrelated QR gets no storm of messages).
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

NOTICE_EVERY_S = 4.0
STOP_WAIT_S = 1.0


class CodeReadingMixin:
    """Needs from the presenter: camera, clock, keeper, mode, queue, emit, t, enter_id_number."""

    _code_scanner: Any = None
    _lookup_number: str | None = None
    _notice_at: float = -1e9

    def start_code_scan(self) -> bool:
        """Scan the camera for codes on a worker thread; False when there is no camera."""
        camera = getattr(self, "camera", None)
        if camera is None:
            return False
        live = getattr(self, "_scanner", None)
        if live is not None and getattr(live, "running", False):
            live.stop()  # the capture screen's scanner must not read the camera at the same time
        if self._code_scanner is None:
            from hardware.barcode_scanner import ContinuousScanner

            self._code_scanner = ContinuousScanner(camera, self._on_codes, on_error=self._on_code_error)
        self._code_scanner.camera = camera
        self._code_scanner.start()
        return True

    def stop_code_scan(self) -> None:
        scanner = self._code_scanner
        if scanner is not None:
            scanner.stop(STOP_WAIT_S)

    @property
    def code_scanning(self) -> bool:
        return self._code_scanner is not None and self._code_scanner.running

    def _on_code_error(self, exc: Exception) -> None:
        log.info("code scan: camera %s", type(exc).__name__)

    def _on_codes(self, codes: list[Any]) -> None:
        """From the scanner's thread: the first code that means something wins."""
        from kiosk.code_lookup import ID_NUMBER, RECEIPT, classify
        from kiosk.staff import today_of

        session = self.keeper.current
        if session is None or self._identified():
            return
        for code in codes:
            meaning = classify(code.text, today=today_of(self.clock))
            log.info("code read at identify: %s %s", code.type, meaning.kind)
            if meaning.kind == RECEIPT:
                if self.mode != "status":
                    self._notice("lookup.receipt_in_apply")
                    return
                if not self.queue.by_number(meaning.value):
                    self._notice("lookup.number_unknown")
                    return
                self._lookup_number = meaning.value
                self.cancel_card_wait()
                session.touch(self.clock())
                self.emit("code_read", mode=self.mode, what=RECEIPT)
                return
            if meaning.kind == ID_NUMBER:
                try:
                    result = self.enter_id_number(meaning.value)
                except Exception as exc:
                    self._notice(getattr(exc, "message_key", "lookup.code_unusable"))
                    return
                self.emit("code_read", mode=result["mode"], what=ID_NUMBER)
                return
        self._notice("lookup.code_unusable")

    def _identified(self) -> bool:
        """The villager is already known (card, social security card, typed number or a receipt)."""
        session = self.keeper.current
        return bool(getattr(self, "_applicant_tag", None) or self._lookup_number
                    or getattr(session, "card", None) is not None
                    or getattr(self, "_manual_id_number", None))

    def _notice(self, key: str) -> None:
        now = self.clock()
        if now - self._notice_at < NOTICE_EVERY_S:
            return
        self._notice_at = now
        self.emit("code_notice", message_key=key, text=self.t(key))

    def _status_entries(self) -> list[Any]:
        """The applications the status screen shows: the villager's, or the one on the receipt."""
        tag = getattr(self, "_applicant_tag", None)
        if tag is not None:
            return list(self.queue.by_applicant(tag))
        if self._lookup_number:
            return list(self.queue.by_number(self._lookup_number))
        return []
