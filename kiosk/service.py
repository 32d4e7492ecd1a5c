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

import functools
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from kiosk.errors import KioskError, NoActiveSession
from kiosk.service_codes import CodeReadingMixin
from kiosk.service_staff import SmartCardMixin

log = logging.getLogger(__name__)

MODE_APPLY = "apply"
MODE_STATUS = "status"
UNEXPECTED_KEY = "kiosk.unexpected"
CARD_POLL_S = 0.5
PREVIEW_MAX_WIDTH = 960
THUMB_MAX_WIDTH = 320
JPEG_QUALITY = 85

# Queue state -> (wording key, colour name). Screens map colour names to RGBA.
STATE_LOOK: dict[str, tuple[str, str]] = {
    "sealed": ("status.state.waiting", "grey"),
    "uploading": ("status.state.waiting", "grey"),
    "submitted": ("status.state.submitted", "blue"),
    "accepted": ("status.state.accepted", "green"),
    "correction_needed": ("status.state.correction_needed", "amber"),
    "completed": ("status.state.completed", "green"),
    "rejected": ("status.state.rejected", "red"),
    "failed": ("status.state.failed", "red"),
}
UNKNOWN_STATE_LOOK = ("status.state.unknown", "grey")


class ActionFailed(KioskError):
    """What a screen may meet: shows ``t(message_key)``; ``errors`` maps field ids to keys."""

    message_key = "kiosk.error"

    def __init__(self, message_key: str, detail: str = "", errors: dict[str, str] | None = None) -> None:
        self.message_key = message_key
        self.errors = dict(errors or {})
        super().__init__(detail or message_key)


F = TypeVar("F", bound=Callable[..., Any])


def guarded(method: F) -> F:
    """Translate every exception into ``ActionFailed`` with a message key; never personal data."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ActionFailed:
            raise
        except Exception as exc:
            raise as_action_failed(exc, method.__name__) from exc

    return wrapper  # type: ignore[return-value]


def as_action_failed(exc: BaseException, where: str = "") -> ActionFailed:
    key = getattr(exc, "message_key", None)
    if isinstance(key, str) and key:
        log.warning("%s failed: %s (%s)", where, type(exc).__name__, key)
        return ActionFailed(key, f"{type(exc).__name__} in {where}", getattr(exc, "errors", None))
    log.error("unexpected %s in %s", type(exc).__name__, where)  # no str(exc): it may hold data
    return ActionFailed(UNEXPECTED_KEY, f"{type(exc).__name__} in {where}")


@dataclass(frozen=True)
class Image:
    """Pixels for a screen: RGB, top row first."""

    width: int
    height: int
    rgb: bytes


@dataclass(frozen=True)
class ScanPreview:
    """The capture screen's live picture: RGB image, the page outline in its pixels, advice."""

    image: Image
    outline: tuple[tuple[float, float], ...]  # four corners, clockwise from top-left; () = none
    message_key: str
    guidance: str           # translated advice
    ok: bool                # every check passes
    progress: float         # 0–1, the hold before auto-capture
    fire: bool              # auto-capture: take the page now
    stalled: bool


@dataclass(frozen=True)
class FormRow:
    field: Any  # kiosk.catalog.FormField
    label: str
    value: str
    from_card: bool
    error: str  # translated message, "" when fine
    choices: tuple[tuple[str, str], ...]  # (value, translated label)


@dataclass(frozen=True)
class MaterialRow:
    id: str
    name: str
    required: bool
    count: int
    pages: int
    e_certificate: bool


@dataclass(frozen=True)
class ReviewLine:
    label: str
    value: str


@dataclass(frozen=True)
class Receipt:
    provisional_number: str
    qr_text: str
    service_name: str
    created_at: str
    visits_needed: int
    agent: str = ""  # the grid worker's id when one applied on the villager's behalf (代办)


@dataclass(frozen=True)
class StatusRow:
    service_name: str
    provisional_number: str
    official_number: str
    state: str
    state_text: str
    colour: str
    reason: str
    created_at: str


def mask_name(name: str) -> str:
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _mask_id(number: str) -> str:
    try:
        from kiosk.idnumber import mask_id_number

        return mask_id_number(number)
    except Exception:
        return number[:2] + "*" * max(0, len(number) - 4) + number[-2:]


class KioskService(CodeReadingMixin, SmartCardMixin):
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
            "materials": [m.name.get(lang) for m in item.materials],
            "promised_days": item.promised_days,
            "days_text": self.t("kiosk.days", days=item.promised_days),
            "fee": item.fee.get(lang),
            "visits_needed": item.visits_needed,
            "visits_text": self.t(f"kiosk.visits.{min(item.visits_needed, 2)}"),
        }

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

    # -- the camera -----------------------------------------------------------------

    def camera_frame(self, max_width: int = PREVIEW_MAX_WIDTH) -> Image | None:
        """The next preview frame as RGB, or None when the camera has nothing now (never waits long)."""
        if self.camera is None:
            return None
        if self._scanner is not None and self._scanner.running:
            frame = self._scanner.latest().frame
        else:
            from hardware.camera import read_within

            try:
                frame = read_within(self.camera, 2.0)
            except Exception as exc:
                log.warning("camera frame failed: %s", type(exc).__name__)
                return None
        if frame is None:
            return None
        self._last_frame = frame
        return _to_image(frame, max_width)

    def start_scanning(self) -> None:
        """Start the live scanner (camera, page outline, quality checks) on its own thread."""
        if self.camera is None:
            return
        self.stop_code_scan()  # one reader of the camera at a time
        if self._scanner is None:
            from hardware.docscan.live import LiveScanner

            scan = self.settings.scan
            self._scanner = LiveScanner(self.camera, scan, auto_capture=scan.auto_capture, hold_s=scan.hold_s)
        self._guidance_key = ""
        self._scanner.start()

    def stop_scanning(self) -> None:
        if self._scanner is not None:
            self._scanner.stop()

    def scan_preview(self, max_width: int = PREVIEW_MAX_WIDTH) -> ScanPreview | None:
        """The newest live view for the screen, at once; None before the first frame."""
        if self._scanner is None:
            return None
        view = self._scanner.latest()
        if view.frame is None:
            key = view.message_key if view.stalled or view.error_key else "scan.guide.waiting"
            self._announce(key)
            return None
        image = _to_image(view.frame, max_width)
        scale = image.width / view.frame.shape[1]
        outline = () if view.outline is None else tuple(
            (float(x) * scale, float(y) * scale) for x, y in view.outline.quad)
        key = view.message_key
        self._announce(key)
        return ScanPreview(image=image, outline=outline, message_key=key, guidance=self.t(key),
                           ok=view.quality.ok and not view.stalled, progress=view.progress,
                           fire=view.fire, stalled=view.stalled)

    def _announce(self, key: str) -> None:
        if key != self._guidance_key:
            self._guidance_key = key
            self.emit("scan_guidance", message_key=key, text=self.t(key))

    @guarded
    def capture_page(self, material_id: str | None = None, auto: bool = False) -> int:
        """Take the page in view: straightened, cleaned and compressed; returns its index."""
        from hardware.camera import read_within
        from hardware.docscan.page import scan_page
        from kiosk.session import Page

        session, item = self._need_session(), self._need_item()
        material_id = material_id or self.current_material_id()
        if hasattr(item, "material"):
            item.material(material_id)  # raises for a material the item does not have
        frame, quad = None, None
        if self._scanner is not None and self._scanner.running:
            view = self._scanner.latest()
            frame = view.frame
            quad = None if view.outline is None else view.outline.quad
        elif self.camera is not None:
            frame = read_within(self.camera, 2.0)
        if frame is None:
            frame = self._last_frame
        if frame is None:
            raise ActionFailed("capture.no_frame", "no frame")
        scan = self.settings.scan
        page = scan_page(frame, quad, mode=scan.mode, paper=scan.paper, long_side=scan.long_side,
                         target_bytes=scan.target_kb * 1000, formats=scan.formats)
        session.add_page(Page(material_id=material_id, data=page.data, media_type=page.media_type,
                              width=page.width, height=page.height))
        session.touch(self.clock())
        if self._scanner is not None and not auto:
            self._scanner.rearm()
        index = len(session.pages) - 1
        self.emit("page_taken", index=index, material_id=material_id, auto=auto)
        return index

    @property
    def pages(self) -> list[Any]:
        session = self.keeper.current
        return list(session.pages) if session is not None else []

    def page_thumbnail(self, index: int, max_width: int = THUMB_MAX_WIDTH) -> Image | None:
        import cv2
        import numpy as np

        pages = self.pages
        if not 0 <= index < len(pages):
            return None
        frame = cv2.imdecode(np.frombuffer(pages[index].data, np.uint8), cv2.IMREAD_COLOR)
        return None if frame is None else _to_image(frame, max_width)

    @guarded
    def delete_page(self, index: int) -> None:
        session = self._need_session()
        if 0 <= index < len(session.pages):
            session.remove_page(index)
        session.touch(self.clock())

    def materials_to_capture(self) -> list[MaterialRow]:
        item, lang = self.current_item, self.language
        if item is None:
            return []
        pages = self.pages
        must = {m.id for m in item.capture_materials()}
        return [
            MaterialRow(id=m.id, name=m.name.get(lang), required=m.id in must, count=max(1, m.count),
                        pages=sum(1 for p in pages if p.material_id == m.id),
                        e_certificate=bool(m.e_certificate))
            for m in item.materials
            if not m.covered_by_card
        ]

    def current_material_id(self) -> str:
        rows = self.materials_to_capture()
        if not rows:
            raise ActionFailed("capture.no_materials", "no materials")
        return rows[min(self._material_index, len(rows) - 1)].id

    @property
    def material_index(self) -> int:
        return self._material_index

    def select_material(self, index: int) -> None:
        rows = self.materials_to_capture()
        self._material_index = max(0, min(index, len(rows) - 1))

    def next_material(self) -> bool:
        """Move to the next material; False when the current one was the last."""
        rows = self.materials_to_capture()
        if self._material_index + 1 < len(rows):
            self._material_index += 1
            return True
        return False

    def missing_materials(self) -> list[str]:
        """Translated names of required materials with no page yet."""
        return [r.name for r in self.materials_to_capture() if r.required and r.pages == 0]

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

    def _print_in_background(self, receipt: Receipt) -> None:
        """Print the slip on a worker thread when a printer is configured; never raises.

        The application is already sealed and queued: a printer that is missing, out of
        paper or with its cover open only costs the slip, reported as
        ``receipt_print_failed`` (the receipt screen shows the number to write down).
        """
        cfg = getattr(getattr(self.settings, "devices", None), "printer", None)
        if self.printer is None and getattr(cfg, "driver", "none") == "none":
            return
        thread = threading.Thread(target=self._print_receipt, args=(receipt, self.translator),
                                  name="receipt-print", daemon=True)
        thread.start()

    def _print_receipt(self, receipt: Receipt, translator: Any) -> None:
        from hardware.printer_receipt import print_receipt
        from kiosk.receipts import receipt_slip

        try:
            with self._printer_lock:
                if self.printer is None:
                    from hardware.factory import build_printer

                    self.printer = build_printer(self.settings.devices.printer)
                slip = receipt_slip(receipt, translator, self.settings.kiosk.device_name)
                print_receipt(self.printer, slip)
        except Exception as exc:
            key = getattr(exc, "message_key", None) or "hardware.printer_failed"
            log.warning("receipt not printed: %s (%s)", type(exc).__name__, key)
            if type(exc).__name__ == "PrinterUnavailable":
                self._drop_printer()  # opened again for the next receipt: it may be back
            notice = f"{self.t('codes.notice.receipt_not_printed')} {self.t(key)}"
            self._print_notices = {receipt.provisional_number: notice}  # the latest receipt only
            self.emit("receipt_print_failed", message_key=key, notice=notice)

    def print_notice(self, provisional_number: str) -> str:
        """Why this receipt's slip did not print ("" when it printed, is printing, or no printer)."""
        return self._print_notices.get(provisional_number, "")

    def _drop_printer(self) -> None:
        printer, self.printer = self.printer, None
        if printer is not None:
            try:
                printer.close()
            except Exception as exc:
                log.warning("closing the printer failed: %s", type(exc).__name__)

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


def _to_image(frame: Any, max_width: int) -> Image:
    import cv2

    height, width = frame.shape[:2]
    if width > max_width:
        scale = max_width / width
        frame = cv2.resize(frame, (max_width, max(1, int(height * scale))), interpolation=cv2.INTER_AREA)
    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    return Image(width=rgb.shape[1], height=rgb.shape[0], rgb=rgb.tobytes())


def _short_time(stamp: Any) -> str:
    """China Standard Time, whatever the kiosk's clock zone: the villager's own time."""
    from kiosk.applications import CHINA_TIME

    if isinstance(stamp, int | float):
        return datetime.fromtimestamp(stamp, CHINA_TIME).strftime("%Y-%m-%d %H:%M")
    text = str(stamp)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text[:16]
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")
