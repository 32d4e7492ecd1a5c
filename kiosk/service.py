"""The presenter the screens bind to: one villager's visit, from card to receipt.

``KioskService`` owns the session keeper, the catalog, the translator, the devices, the
offline queue and the sync worker. Screens call its methods and listen to its named
events; they never reach into storage or devices themselves. It imports no Kivy.

Events: an observer registered with ``bind(obj)`` gets ``obj.on_event_<name>(**payload)``
for every event it has a handler for. Events may come from worker threads (card polling,
sync); the UI side moves them onto its own thread. Event payloads never hold personal
data beyond what the screen shows (a masked name and ID number).

==================  ============================================================
event               payload
==================  ============================================================
card_read           mode ("apply" | "status"), name (masked), id_number (masked)
card_failed         message_key
session_expired     (none)
language_changed    lang
queue_changed       (none)
sync                what (the sync worker's event name), payload (its dict)
receipt_print_failed message_key, notice: the receipt did not print (the application is
                    queued all the same); ``notice`` is the translated line to show
scan_guidance       message_key, text: the capture screen's advice changed (a hook
                    for a voice prompt: speak ``text``)
page_taken          index, material_id, auto (True when auto-capture took it)
sync_progress       fraction (0…1, or -1 when no sync runs), text (for the grid worker)
code_read           mode, what ("receipt" | "id_number"): a code held up to the camera
                    identified the villager or the application (``kiosk.service_codes``)
code_notice         message_key, text: a short friendly line (an unusable code, a card
                    read at the wrong moment); at most one per few seconds
staff_card          worker_id: a grid worker's staff card was read; ask its PIN
staff_changed       worker_id ("" when signed out), reason (login | logout | idle)
==================  ============================================================

Errors: every method a screen calls raises only ``ActionFailed`` (a ``KioskError``) whose
``message_key`` is the lower layer's key, or ``kiosk.unexpected`` for anything untyped.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from datetime import date
from typing import Any

from kiosk.errors import NoActiveSession
from kiosk.presentation import (  # screens and tests import these names from here
    CARD_POLL_S,
    MODE_APPLY,
    MODE_STATUS,
    STATE_LOOK,
    UNEXPECTED_KEY,
    UNKNOWN_STATE_LOOK,
    ActionFailed,
    FormRow,
    Receipt,
    ReviewLine,
    StatusRow,
    _mask_id,
    _short_time,
    as_action_failed,
    guarded,
    mask_name,
)
from kiosk.service_capture import CaptureMixin
from kiosk.service_codes import CodeReadingMixin
from kiosk.service_printing import ReceiptPrintingMixin
from kiosk.service_staff import SmartCardMixin

log = logging.getLogger(__name__)

__all__ = ["STATE_LOOK", "UNEXPECTED_KEY", "ActionFailed", "KioskService", "Receipt", "mask_name"]


class KioskService(CaptureMixin, ReceiptPrintingMixin, CodeReadingMixin, SmartCardMixin):
    """One village kiosk's presenter; see the module docstring."""

    def __init__(
        self,
        *,
        settings: Any,
        catalog: Any,
        translator: Any,
        id_reader: Any,
        camera: Any,
        queue: Any,
        identity: Any | None,
        sync_worker: Any | None = None,
        clock: Callable[[], float] = time.time,
        keeper: Any | None = None,
        translator_factory: Callable[[str], Any] | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.translator = translator
        self.id_reader = id_reader
        self.camera = camera
        self.queue = queue
        self.identity = identity
        self.sync_worker = sync_worker
        self.clock = clock
        if keeper is None:
            from kiosk.session import SessionKeeper

            keeper = SessionKeeper(settings.kiosk.idle_timeout_s, clock)
        self.keeper = keeper
        self._translators = {getattr(translator, "lang", settings.kiosk.language): translator}
        self._translator_factory = translator_factory
        self._observers: list[weakref.ref[Any]] = []
        self._lock = threading.Lock()
        self.mode = MODE_APPLY
        self._card_cancel = threading.Event()
        self._card_thread: threading.Thread | None = None
        self._applicant_tag: str | None = None
        self._material_index = 0
        self._last_frame: Any = None
        self.printer: Any = None  # opened on the first receipt when [devices.printer] names one
        self._printer_lock = threading.Lock()
        self._print_notices: dict[str, str] = {}  # provisional number -> why its slip did not print
        self._scanner: Any = None
        self._guidance_key = ""
        self.smart_cards: Any = None  # kiosk.staff.SmartCardDesk when [devices.pcsc] is enabled
        self.staff: Any = None  # kiosk.staff.StaffLogin while a grid worker is signed in (代办)
        self._code_scanner: Any = None
        self._lookup_number: str | None = None

    # -- events ---------------------------------------------------------------------

    def bind(self, observer: Any) -> None:
        with self._lock:
            self._observers.append(weakref.ref(observer))

    def unbind(self, observer: Any) -> None:
        with self._lock:
            self._observers = [r for r in self._observers if r() not in (None, observer)]

    def emit(self, event: str, /, **payload: Any) -> None:
        with self._lock:
            observers = [r() for r in self._observers]
        for obs in observers:
            handler = getattr(obs, f"on_event_{event}", None) if obs is not None else None
            if handler is None:
                continue
            try:
                handler(**payload)
            except Exception as exc:
                log.error("observer failed on event %s: %s", event, type(exc).__name__)

    def attach_sync(self, worker: Any) -> None:
        """Set the sync worker after construction (it is built with ``on_event=service.on_sync_event``)."""
        self.sync_worker = worker

    def on_sync_event(self, what: str, payload: dict[str, Any] | None = None) -> None:
        """The callback to hand to ``SyncWorker(on_event=…)``: forwards as ``sync``, and a
        ``progress`` as ``sync_progress`` (fraction 0…1 and a line for the grid worker)."""
        payload = dict(payload or {})
        self.emit("sync", what=what, payload=payload)
        if what == "progress":
            self.emit("sync_progress", **self._progress_view(payload))
        elif what == "sync_finished":
            self.emit("sync_progress", fraction=-1.0, text="")
        if what in ("status_changed", "sync_finished"):
            self.emit("queue_changed")

    def _progress_view(self, payload: dict[str, Any]) -> dict[str, Any]:
        total, done = int(payload.get("total") or 0), int(payload.get("done") or 0)
        bytes_total, bytes_done = int(payload.get("bytes_total") or 0), int(payload.get("bytes_done") or 0)
        if total <= 0:
            return {"fraction": -1.0, "text": ""}
        fraction = bytes_done / bytes_total if bytes_total > 0 else done / total
        shown = min(total, done + (1 if done < total else 0))
        return {"fraction": max(0.0, min(1.0, fraction)), "text": self.t("queue.notice.sending", done=shown,
                                                                          total=total)}

    # -- language -------------------------------------------------------------------

    def t(self, key: str, **fmt: Any) -> str:
        try:
            return self.translator.t(key, **fmt)
        except Exception:
            log.warning("translation failed for %s", key)
            return key

    @property
    def language(self) -> str:
        return getattr(self.translator, "lang", self.settings.kiosk.language)

    def set_language(self, lang: str) -> None:
        if lang == self.language:
            return
        translator = self._translators.get(lang)
        if translator is None:
            if self._translator_factory is not None:
                translator = self._translator_factory(lang)
            else:
                translator = type(self.translator).load(lang=lang)
            self._translators[lang] = translator
        self.translator = translator
        self.emit("language_changed", lang=lang)

    def toggle_language(self) -> str:
        self.set_language("en" if self.language == "zh" else "zh")
        return self.language

    # -- home -----------------------------------------------------------------------

    def queue_health(self) -> Any:
        """``offline_queue.health.Health`` of the outbox under the configured limits (budget,
        free disk, oldest unsent, last contact): decided here, on the home screen, before a
        villager starts."""
        from offline_queue.health import QueueLimits, assess

        return assess(self.queue.summary(), QueueLimits.from_settings(self.settings.queue))

    def notices(self) -> list[str]:
        """Plain translated warnings for the home screen, most serious first."""
        out: list[str] = []
        if self.identity is None:
            out.append(self.t("home.notice.not_enrolled"))
        try:
            out.extend(self.t(n.message_key, **n.values) for n in self.queue_health().notices)
        except Exception as exc:
            log.warning("queue summary failed: %s", type(exc).__name__)
            out.append(self.t("home.notice.queue_broken"))
        if self.id_reader is None:
            out.append(self.t("home.notice.no_reader"))
        if self.camera is None:
            out.append(self.t("home.notice.no_camera"))
        return out

    def can_start(self) -> bool:
        if self.identity is None or self.id_reader is None:
            return False
        try:
            return self.queue_health().can_take_applications
        except Exception:
            return False

    def waiting_count(self) -> int:
        try:
            counts = self.queue.summary().counts
        except Exception:
            return 0
        return sum(n for s, n in counts.items() if s in ("sealed", "uploading"))

    def queue_line(self) -> str:
        """For the grid worker: how many wait to be sent and how old the oldest is ("" if none)."""
        from offline_queue.health import age_words

        try:
            summary = self.queue.summary()
        except Exception:
            return ""
        if not summary.waiting or summary.oldest_unsent_age_s is None:
            return ""
        key, values = age_words(summary.oldest_unsent_age_s)
        return self.t("queue.notice.waiting", count=summary.waiting, age=self.t(key, **values))

    # -- session --------------------------------------------------------------------

    @property
    def session(self) -> Any:
        return self.keeper.current

    def _need_session(self) -> Any:
        session = self.keeper.current
        if session is None:
            raise NoActiveSession("no session")
        return session

    @guarded
    def start_application(self) -> None:
        self._begin(MODE_APPLY)

    @guarded
    def start_status_lookup(self) -> None:
        self._begin(MODE_STATUS)

    def _begin(self, mode: str) -> None:
        if mode == MODE_APPLY and not self.can_start():
            key = "home.notice.not_enrolled" if self.identity is None else "home.notice.cannot_start"
            raise ActionFailed(key, "cannot start")
        self._wipe()
        self.mode = mode
        self.keeper.start()
        self._stamp_agent()  # a signed-in grid worker applies on the villager's behalf

    def touch(self) -> None:
        self._touch_staff()
        session = self.keeper.current
        if session is not None:
            session.touch(self.clock())

    def expire_if_idle(self) -> bool:
        try:
            expired = bool(self.keeper.expire_if_idle())
        except Exception as exc:
            log.warning("idle check failed: %s", type(exc).__name__)
            return False
        if expired:
            self._reset()
            self.emit("session_expired")
        self._expire_staff()
        return expired

    def finish(self) -> None:
        self.cancel_card_wait()
        try:
            if self.keeper.current is not None:
                self.keeper.finish()
        finally:
            self._reset()

    def cancel(self) -> None:
        self.cancel_card_wait()
        try:
            if self.keeper.current is not None:
                self.keeper.cancel()
        finally:
            self._reset()

    def _wipe(self) -> None:
        self.cancel_card_wait()
        if self.keeper.current is not None:
            self.keeper.cancel()
        self._reset()

    def _reset(self) -> None:
        self._applicant_tag = None
        self._lookup_number = None
        self._manual_id_number = None
        self._material_index = 0
        self._last_frame = None
        self.mode = MODE_APPLY

    # -- the card -------------------------------------------------------------------

    def wait_for_card(self) -> None:
        """Poll the reader on a worker thread until a card is read or the wait is cancelled."""
        self.cancel_card_wait()
        cancel = threading.Event()
        self._card_cancel = cancel
        thread = threading.Thread(target=self._poll_card, args=(cancel,), name="card-wait", daemon=True)
        self._card_thread = thread
        thread.start()

    def cancel_card_wait(self) -> None:
        self._card_cancel.set()
        thread = self._card_thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=CARD_POLL_S * 3)
        self._card_thread = None

    def _poll_card(self, cancel: threading.Event) -> None:
        while not cancel.is_set():
            try:
                card = self.id_reader.read_card(timeout=CARD_POLL_S)
            except Exception as exc:
                if cancel.is_set():
                    return
                failed = as_action_failed(exc, "read_card")
                self.emit("card_failed", message_key=failed.message_key)
                cancel.wait(1.0)  # let the villager take the card away; then keep waiting
                continue
            if card is None or cancel.is_set():
                continue
            try:
                self._accept_card(card)
            except Exception as exc:
                self.emit("card_failed", message_key=as_action_failed(exc, "accept_card").message_key)
                cancel.wait(1.0)
                continue
            self.emit("card_read", mode=self.mode, name=mask_name(card.name),
                      id_number=_mask_id(card.id_number))
            return

    def _accept_card(self, card: Any) -> None:
        session = self._need_session()
        if card.is_expired(date.fromtimestamp(self.clock())):
            raise ActionFailed("identify.card_expired", "card expired")
        if self.mode == MODE_STATUS:
            self._applicant_tag = self._tag_for(card.id_number)
            return  # the status lookup keeps nothing else of the card
        session.card = card
        session.touch(self.clock())

    def _tag_for(self, id_number: str) -> str:
        from kiosk.privacy import applicant_tag

        return applicant_tag(id_number, self.settings.data_dir)

    @guarded
    def enter_id_number(self, text: str) -> dict[str, str]:
        """The manual path for a villager whose card will not read: the number typed on the keypad.

        Validated as GB 11643 (structure, date, check character; an unknown division is only
        a warning). In a status lookup it finds the villager's applications; in an
        application it fills the form's ID-number field. Returns the mode and the masked number.
        """
        from kiosk.idnumber import normalize_id_number, validate_id_number

        session = self._need_session()
        number = normalize_id_number(text)
        validate_id_number(number, today=date.fromtimestamp(self.clock()))
        self.cancel_card_wait()
        if self.mode == MODE_STATUS:
            self._applicant_tag = self._tag_for(number)
        else:
            self._manual_id_number = number
        session.touch(self.clock())
        return {"mode": self.mode, "id_number": _mask_id(number)}

    def device_notice(self, step: str) -> str:
        """A friendly translated notice when a device ``step`` needs is missing, else ""."""
        device = {"identify": ("id_reader", self.id_reader), "capture": ("camera", self.camera)}.get(step)
        if device is None or device[1] is not None:
            return ""
        return self.t("devices.notice_missing", device=self.t(f"devices.name.{device[0]}"))

    def card_summary(self) -> dict[str, str]:
        """Masked name and ID number of the card in the session, for a greeting."""
        session = self.keeper.current
        card = getattr(session, "card", None)
        if card is None:
            return {"name": "", "id_number": ""}
        return {"name": mask_name(card.name), "id_number": _mask_id(card.id_number)}

    # -- the service item -----------------------------------------------------------

    def catalog_items(self) -> list[tuple[str, str, str]]:
        """(code, name, department) for each item, in the current language."""
        lang = self.language
        return [(i.code, i.name.get(lang), i.department.get(lang)) for i in self.catalog.items()]

    @guarded
    def choose_service(self, code: str) -> None:
        session = self._need_session()
        item = self.catalog.get(code)
        if getattr(session, "identity_source", "") == "social_security_card":
            from kiosk.staff import needs_address

            if needs_address(item):  # not on the card, and there is no keyboard to type it
                raise ActionFailed("staff.needs_id_card", "address needed")
        session.service_code = item.code
        if session.card is not None:
            from kiosk.applications import prefill_fields

            session.fields.clear()
            session.fields.update(prefill_fields(item, session.card))
        elif getattr(self, "_manual_id_number", None):  # typed on the identify screen's keypad
            session.fields.clear()
            typed = self._manual_id_number
            session.fields.update({f.id: typed for f in item.fields if f.kind == "id_number"})
        session.pages.clear()
        self._material_index = 0
        session.touch(self.clock())

    @property
    def current_item(self) -> Any | None:
        session = self.keeper.current
        code = getattr(session, "service_code", None)
        return self.catalog.get(code) if code else None

    def _need_item(self) -> Any:
        item = self.current_item
        if item is None:
            raise NoActiveSession("no service chosen")
        return item

    @guarded
    def guide(self) -> dict[str, Any]:
        """The plain-language guide of the chosen item, translated."""
        item, lang = self._need_item(), self.language
        return {
            "name": item.name.get(lang),
            "department": item.department.get(lang),
            "guide": item.guide.get(lang),
            "conditions": [c.get(lang) for c in item.conditions],
            "materials": [self._material_line(m) for m in item.materials],
            "promised_days": item.promised_days,
            "days_text": self.t("kiosk.days", days=item.promised_days),
            "fee": item.fee.get(lang),
            "visits_needed": item.visits_needed,
            "visits_text": self.t(f"kiosk.visits.{min(item.visits_needed, 2)}"),
        }

    def _material_line(self, material: Any) -> str:
        """"居民户口簿（原件）", "Resident ID card (original, 2 copies)": what to bring, plainly."""
        parts = [self.t(f"kiosk.material.{material.form}")]
        if material.count > 1:
            parts.append(self.t("kiosk.material.count", count=material.count))
        if not material.required:
            parts.append(self.t("kiosk.material.optional"))
        if self.language == "zh":
            return f"{material.name.get('zh')}（{'，'.join(parts)}）"
        return f"{material.name.get(self.language)} ({', '.join(parts)})"

    # -- the form -------------------------------------------------------------------

    @guarded
    def form_rows(self, errors: dict[str, str] | None = None) -> list[FormRow]:
        session, item, lang = self._need_session(), self._need_item(), self.language
        errors = errors or {}
        rows = []
        for f in item.fields:
            from_card = bool(f.source) and session.card is not None
            value = session.fields.get(f.id, "")
            if from_card and f.source == "card.id_number":
                value = _mask_id(value)  # a public screen: as on the review screen, masked
            rows.append(FormRow(
                field=f, label=f.label.get(lang), value=value, from_card=from_card,
                error=self.t(errors[f.id]) if f.id in errors else "",
                choices=tuple((c.value, c.label.get(lang)) for c in f.choices),
            ))
        return rows

    @guarded
    def set_field(self, field_id: str, value: str) -> None:
        session, item = self._need_session(), self._need_item()
        spec = next((f for f in item.fields if f.id == field_id), None)
        if spec is None:
            raise ActionFailed("kiosk.unknown_field", "unknown field")
        if spec.source and session.card is not None:
            raise ActionFailed("form.read_only", "field comes from the card")
        if spec.max_length is not None:
            value = value[: spec.max_length]
        session.fields[field_id] = value
        session.touch(self.clock())

    @guarded
    def validate_form(self) -> dict[str, str]:
        """Field id -> message key; empty when the form is complete."""
        from kiosk.applications import validate_fields

        session, item = self._need_session(), self._need_item()
        return dict(validate_fields(item, dict(session.fields)))

    # -- review and confirm ---------------------------------------------------------

    @guarded
    def review(self) -> list[ReviewLine]:
        session, item, lang = self._need_session(), self._need_item(), self.language
        lines = [ReviewLine(self.t("review.service"), item.name.get(lang))]
        for f in item.fields:
            value = session.fields.get(f.id, "")
            if f.kind == "id_number" and value:
                value = _mask_id(value)
            elif f.choices:
                value = next((c.label.get(lang) for c in f.choices if c.value == value), value)
            lines.append(ReviewLine(f.label.get(lang), value))
        count = len(session.pages)
        lines.append(ReviewLine(self.t("review.pages"), self.t("review.pages_count", count=count)))
        return lines

    @guarded
    def confirm(self) -> Receipt:
        from kiosk.intake import enqueue_session

        session, item = self._need_session(), self._need_item()
        if self.identity is None:
            raise ActionFailed("home.notice.not_enrolled", "not enrolled")
        errors = self.validate_form()
        if errors:
            raise ActionFailed("kiosk.application_invalid", "form invalid", errors)
        entry = enqueue_session(session, item, queue=self.queue, identity=self.identity,
                                county=self.settings.kiosk.county, data_dir=self.settings.data_dir,
                                clock=self.clock)
        self._wake_sync()
        self.emit("queue_changed")
        base = self.settings.hall.url.rstrip("/")
        receipt = Receipt(provisional_number=entry.provisional_number,
                          qr_text=f"{base}/track/{entry.provisional_number}",
                          service_name=item.name.get(self.language), created_at=_short_time(entry.created_at),
                          visits_needed=item.visits_needed,
                          agent=(getattr(session, "agent", None) or {}).get("worker_id", ""))
        self._print_in_background(receipt)
        return receipt

    def _wake_sync(self) -> None:
        worker = self.sync_worker
        for name in ("wake", "trigger", "poke"):
            fn = getattr(worker, name, None)
            if callable(fn):
                try:
                    fn()
                except Exception as exc:
                    log.warning("waking the sync failed: %s", type(exc).__name__)
                return

    # -- status ---------------------------------------------------------------------

    @guarded
    def my_applications(self) -> list[StatusRow]:
        lang = self.language
        rows = []
        for e in self._status_entries():  # by the villager's tag, or the receipt's number
            key, colour = STATE_LOOK.get(e.state, UNKNOWN_STATE_LOOK)
            try:
                name = self.catalog.get(e.service_code).name.get(lang)
            except Exception:
                name = e.service_code
            rows.append(StatusRow(service_name=name, provisional_number=e.provisional_number,
                                  official_number=e.official_number or "", state=e.state,
                                  state_text=self.t(key), colour=colour, reason=e.reason or "",
                                  created_at=_short_time(e.created_at)))
        return rows

    def close(self) -> None:
        self.cancel()
        self.stop_code_scan()
        self.stop_smart_cards()
