"""What every step controller shares: the visit keeper, the words, the events, the outbox.

``StepContext`` is built once by ``kiosk.service.KioskService`` and handed to each step;
a step keeps nothing of the villager itself (that is the ``Visit``'s) and reaches the
devices only through what the context lends (``camera`` is a ``DeviceLease``).

Events: an observer registered with ``Events.bind(obj)`` gets ``obj.on_event_<name>(**payload)``
for every event it has a handler for. Events may come from worker threads; the UI side
moves them onto its own thread (``kiosk.app.UiRelay``).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hardware.interfaces import Camera, IdCardReader
from kiosk.catalog import Catalog, ServiceItem
from kiosk.devices import DeviceLease
from kiosk.errors import NoActiveSession
from kiosk.i18n import Translator
from kiosk.jobs import OneShotJobs
from kiosk.readiness import DeviceReadiness
from kiosk.settings import Settings
from kiosk.steps.table import MOVES, MoveRefused
from kiosk.visit import Visit, VisitKeeper
from offline_queue.identity import DeviceIdentity
from offline_queue.outbox import OfflineQueue

log = logging.getLogger(__name__)

NOTICE_EVERY_S = 4.0  # at most one friendly line per few seconds (a villager waving a QR)


class Events:
    """Named events to weakly held observers (``on_event_<name>``); a failing observer is logged."""

    def __init__(self) -> None:
        self._observers: list[weakref.ref[Any]] = []
        self._lock = threading.Lock()

    def bind(self, observer: object) -> None:
        with self._lock:
            self._observers.append(weakref.ref(observer))

    def unbind(self, observer: object) -> None:
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


class Words:
    """The translator of the current language; switching loads the other one once."""

    def __init__(self, translator: Translator, factory: Callable[[str], Translator] | None = None) -> None:
        self.translator = translator
        self._factory = factory or (lambda lang: Translator.load(lang=lang))
        self._loaded = {self.language: translator}

    @property
    def language(self) -> str:
        return self.translator.lang

    def t(self, key: str, **fmt: Any) -> str:
        try:
            return self.translator.t(key, **fmt)
        except Exception:
            log.warning("translation failed for %s", key)
            return key

    def switch(self, lang: str) -> bool:
        """Use ``lang``; False when it was the language already."""
        if lang == self.language:
            return False
        translator = self._loaded.get(lang)
        if translator is None:
            translator = self._loaded[lang] = self._factory(lang)
        self.translator = translator
        return True


@dataclass
class StepContext:
    """The parts every step uses; see the module docstring."""

    settings: Settings
    catalog: Catalog
    words: Words
    keeper: VisitKeeper
    events: Events
    queue: OfflineQueue
    identity: DeviceIdentity | None
    camera: DeviceLease[Camera]
    id_reader: IdCardReader | None
    jobs: OneShotJobs
    clock: Callable[[], float] = time.time
    devices: DeviceReadiness | None = None  # the camera's and printer's health (``Steps.build`` sets it)
    _notice_at: float = field(default=-1e9, repr=False)

    def camera_usable(self) -> bool:
        """A camera is there and its last check did not find it missing."""
        return self.devices.camera_ok if self.devices is not None else self.camera.device is not None

    def printer_usable(self) -> bool:
        """A printer is configured and its last check did not find it missing."""
        return self.devices is not None and self.devices.printer_ok

    def t(self, key: str, **fmt: Any) -> str:
        return self.words.t(key, **fmt)

    @property
    def language(self) -> str:
        return self.words.language

    def set_language(self, lang: str) -> None:
        if self.words.switch(lang):
            self.events.emit("language_changed", lang=lang)

    def toggle_language(self) -> str:
        self.set_language("en" if self.language == "zh" else "zh")
        return self.language

    @property
    def visit(self) -> Visit | None:
        return self.keeper.current

    def need_visit(self) -> Visit:
        visit = self.keeper.current
        if visit is None:
            raise NoActiveSession("no visit")
        return visit

    def need_item(self) -> ServiceItem:
        item = self.current_item
        if item is None:
            raise NoActiveSession("no service chosen")
        return item

    @property
    def current_item(self) -> ServiceItem | None:
        visit = self.keeper.current
        code = visit.service_code if visit is not None else None
        return self.catalog.get(code) if code else None

    def touch_visit(self) -> None:
        visit = self.keeper.current
        if visit is not None:
            visit.touch(self.clock())

    def notice(self, key: str) -> None:
        """A short friendly line (``code_notice``), at most one per ``NOTICE_EVERY_S``."""
        now = self.clock()
        if now - self._notice_at < NOTICE_EVERY_S:
            return
        self._notice_at = now
        self.events.emit("code_notice", message_key=key, text=self.t(key))


class Step:
    """A step controller: ``enter()`` when its screen shows, ``leave()`` when another takes over.

    Steps that use a device start it in ``enter`` and stop it in ``leave``; ``next_step``
    names where forward leads (one of the moves in ``kiosk.steps.table``).
    """

    name = ""

    def __init__(self, ctx: StepContext) -> None:
        self.ctx = ctx

    def enter(self) -> None:
        """The step's screen is shown."""

    def leave(self) -> None:
        """Another step's screen takes over."""

    def next_step(self) -> str:
        """The step forward leads to: the first move in the table (a step with none ends the visit)."""
        moves = MOVES.get(self.name, ())
        if not moves:
            raise MoveRefused(f"{self.name!r} has no way forward: it ends the visit")
        return moves[0]

    def t(self, key: str, **fmt: Any) -> str:
        return self.ctx.t(key, **fmt)

    @property
    def language(self) -> str:
        return self.ctx.language
