"""The kiosk's core, without a window: the visit keeper, the words, the events and the steps.

``KioskService`` builds the parts every step shares (``kiosk.steps.StepContext``: the
``VisitKeeper``, the words, the events, the outbox, the camera's ``DeviceLease``, the
one-shot jobs) and one controller per step (``kiosk.steps.Steps``). Screens talk each to
its own step; the app and the navigator talk to this object for what spans the steps:
language, the idle timeout, finish and cancel (both wipe the ``Visit`` whole), the sync
worker's events, shutting down. It imports no Kivy.

Events: an observer registered with ``bind(obj)`` gets ``obj.on_event_<name>(**payload)``
for every event it has a handler for. Events may come from worker threads (card polling,
sync); the UI side moves them onto its own thread. Event payloads never hold personal
data beyond what the screen shows (a masked name and ID number).

==================  ============================================================
event               payload
==================  ============================================================
card_read           mode ("apply" | "status"), name (masked), id_number (masked)
card_failed         message_key
session_expired     (none): the idle timeout wiped an abandoned visit (show "已经清除")
idle_warning        seconds_left, prompt_key ("voice.idle_warning"): the idle timeout is
                    near; show the countdown (``idle_seconds_left()``) and speak the prompt
idle_warning_cleared (none): a touch (or the visit's end) took the warning away
visit_closed        (none): the idle timeout closed a visit that had ended well (a receipt
                    or the status shown): home, quietly, no wipe notice
take_card_reminder  prompt_key ("voice.take_card"): a finished visit's ID card still lies on
                    the reader: show 请取回身份证 big (``kiosk.take_card``)
take_card_done      reason ("taken" | "timeout" | "next_visit"): the reminder goes away
consent_prompt      prompt_key ("voice.consent"), text: the consent is shown; read it out
signature_prompt    prompt_key ("voice.signature"): agreed; ask for the signature
rating_prompt       prompt_key ("voice.rating"): the 好差评 screen is shown
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
                    identified the villager or the application
code_notice         message_key, text: a short friendly line (an unusable code, a card
                    read at the wrong moment); at most one per few seconds
staff_card          worker_id: a grid worker's staff card was read; ask its PIN
staff_pin_checked   ok, message, blocked: the answer to the PIN typed
staff_changed       worker_id ("" when signed out), reason (login | logout | idle)
worklist_reasons    (none): the staff card opened the worklist's reasons (or could not): redraw
==================  ============================================================

Errors: every step method a screen calls raises only ``ActionFailed`` (a ``KioskError``)
whose ``message_key`` is the lower layer's key, or ``kiosk.unexpected`` for anything untyped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from hardware.interfaces import Camera, IdCardReader
from kiosk.catalog import Catalog
from kiosk.devices import DeviceLease
from kiosk.i18n import Translator
from kiosk.idle import IdleWatch
from kiosk.jobs import OneShotJobs
from kiosk.presentation import (  # screens and tests import these names from here
    STATE_LOOK,
    UNEXPECTED_KEY,
    ActionFailed,
    Receipt,
    mask_name,
)
from kiosk.settings import Settings
from kiosk.staff import SmartCardDesk, StaffLogin
from kiosk.steps import StepContext, Steps
from kiosk.steps.confirm import SyncWaker
from kiosk.steps.context import Events, Words
from kiosk.take_card import TakeCardReminder
from kiosk.visit import MODE_APPLY, Visit, VisitKeeper
from offline_queue.identity import DeviceIdentity
from offline_queue.outbox import OfflineQueue

log = logging.getLogger(__name__)

__all__ = ["STATE_LOOK", "UNEXPECTED_KEY", "ActionFailed", "KioskService", "Receipt", "mask_name"]


class KioskService:
    """One village kiosk's core; see the module docstring."""

    def __init__(
        self,
        *,
        settings: Settings,
        catalog: Catalog,
        translator: Translator,
        id_reader: IdCardReader | None,
        camera: Camera | None,
        queue: OfflineQueue,
        identity: DeviceIdentity | None,
        sync_worker: SyncWaker | None = None,
        clock: Callable[[], float] = time.time,
        keeper: VisitKeeper | None = None,
        translator_factory: Callable[[str], Translator] | None = None,
    ) -> None:
        self.ctx = StepContext(
            settings=settings, catalog=catalog, queue=queue, identity=identity, id_reader=id_reader,
            words=Words(translator, translator_factory),
            keeper=keeper if keeper is not None else VisitKeeper(settings.kiosk.idle_timeout_s, clock),
            events=Events(), camera=DeviceLease("camera", camera), jobs=OneShotJobs(), clock=clock,
        )
        self.steps = Steps.build(self.ctx, sync_worker)
        self.idle = IdleWatch(self.ctx.keeper, settings.kiosk.idle_warning_s, self.ctx.events.emit)
        self.take_card = TakeCardReminder(id_reader, self.ctx.keeper, self.ctx.events.emit)

    # -- what the runtime and the tests wire --------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def queue(self) -> OfflineQueue:
        return self.ctx.queue

    @property
    def keeper(self) -> VisitKeeper:
        return self.ctx.keeper

    @property
    def clock(self) -> Callable[[], float]:
        return self.ctx.clock

    @property
    def identity(self) -> DeviceIdentity | None:
        return self.ctx.identity

    @identity.setter
    def identity(self, identity: DeviceIdentity | None) -> None:
        self.ctx.identity = identity

    @property
    def id_reader(self) -> IdCardReader | None:
        return self.ctx.id_reader

    @property
    def camera(self) -> Camera | None:
        return self.ctx.camera.device

    @camera.setter
    def camera(self, camera: Camera | None) -> None:
        """Swap the camera (reopened, or a test's): whoever borrows it next gets this one."""
        self.ctx.camera.take_back()
        self.ctx.camera.device = camera

    @property
    def sync_worker(self) -> SyncWaker | None:
        return self.steps.review.sync

    @sync_worker.setter
    def sync_worker(self, worker: SyncWaker | None) -> None:
        self.steps.review.sync = worker
        self.steps.rating.sync = worker

    def watch_smart_cards(self, desk: SmartCardDesk) -> bool:
        return self.steps.staff.watch(desk)

    @property
    def staff(self) -> StaffLogin | None:
        """The grid worker signed in (代办), or None."""
        return self.steps.staff.login

    # -- events ---------------------------------------------------------------------------

    def bind(self, observer: object) -> None:
        self.ctx.events.bind(observer)

    def unbind(self, observer: object) -> None:
        self.ctx.events.unbind(observer)

    def emit(self, event: str, /, **payload: Any) -> None:
        self.ctx.events.emit(event, **payload)

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
        return {"fraction": max(0.0, min(1.0, fraction)),
                "text": self.t("queue.notice.sending", done=shown, total=total)}

    # -- language -------------------------------------------------------------------------

    def t(self, key: str, **fmt: Any) -> str:
        return self.ctx.t(key, **fmt)

    @property
    def language(self) -> str:
        return self.ctx.language

    def set_language(self, lang: str) -> None:
        self.ctx.set_language(lang)

    def toggle_language(self) -> str:
        return self.ctx.toggle_language()

    # -- the visit ------------------------------------------------------------------------

    @property
    def visit(self) -> Visit | None:
        """The villager being served (everything personal is in it), or None."""
        return self.ctx.keeper.current

    @property
    def mode(self) -> str:
        visit = self.ctx.keeper.current
        return visit.mode if visit is not None else MODE_APPLY

    def touch(self) -> None:
        """A tap anywhere: the visit and a signed-in grid worker are active."""
        self.steps.staff.touch()
        self.ctx.touch_visit()

    def expire_if_idle(self) -> bool:
        """The app's timer (every second): warn, clear the warning or wipe (``kiosk.idle``)."""
        remind = self._card_to_take()
        try:
            expired = self.idle.check()
        except Exception as exc:
            log.warning("idle check failed: %s", type(exc).__name__)
            return False
        if expired:
            self.steps.identify.cancel_card_wait()
            if remind:
                self.take_card.start()
        self.steps.staff.expire_if_idle()
        return expired

    def idle_seconds_left(self) -> float | None:
        """Seconds until the visit is wiped for idleness (the warning's countdown); None without one."""
        return self.idle.seconds_left()

    def finish(self) -> None:
        """The visit is done (receipt or status seen): wipe it; remind to take the ID card."""
        visit = self.ctx.keeper.current
        remind = visit is not None and visit.used_id_reader
        self.steps.identify.cancel_card_wait()
        self.ctx.keeper.finish()
        if remind:
            self.take_card.start()

    def _card_to_take(self) -> bool:
        """The current visit ended well with an ID card read: its idle close reminds to take it."""
        visit = self.ctx.keeper.current
        return visit is not None and visit.finished and visit.used_id_reader

    def cancel(self) -> None:
        """The villager gave up, went home, or something broke: wipe the visit."""
        self.steps.identify.cancel_card_wait()
        self.ctx.keeper.cancel()

    def hold_jobs(self) -> None:
        """One-shot jobs wait until ``warm_up`` (the app: while it builds its first frame)."""
        self.ctx.jobs.hold()

    def warm_up(self) -> Future[None]:
        """Import what the home screen did not need (``kiosk.warmup``) on the job pool, let the
        jobs held since ``hold_jobs`` run, then build the catalog's search; the app calls it once
        its first frame is drawn. Building the search reads pypinyin's data files (a fraction of a
        second, ≈ 3 MB kept: ``kiosk.input.readings``) that the first villager's 开始 used to wait
        for; the handwriting model is only mapped when someone writes. Then what those jobs freed
        is given back to the system (``kiosk.warmup.give_back_after``)."""
        from kiosk.warmup import give_back_after, warm_up

        imports = warm_up(self.ctx.jobs)
        self.ctx.jobs.release()
        search = self.steps.catalog.load_search()
        give_back_after(self.ctx.jobs, (imports, search))
        return imports

    def close(self) -> None:
        self.cancel()
        self.take_card.close()
        self.steps.close()
        self.ctx.jobs.close()
