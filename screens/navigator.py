"""The one place that changes screens; it follows the step table (``kiosk.steps.table``).

Screens come from ``screens.table``, loaded on first use, each handed its own step
controller; those a screen lets go (``DROPPED_WHEN_SHOWN``: the catalog, guide and form
while the capture screen shows) are dropped and built again if the villager goes back, as
their steps keep what they showed. ``forward()`` asks the current step where forward leads and checks the move
against the table; ``back()`` and ``home()`` are allowed everywhere, ``finish()`` ends the
visit. Leaving a screen calls its step's ``leave()`` (devices stopped, the camera given
back), showing one calls ``enter()``.
"""

from __future__ import annotations

import gc
import importlib
import logging
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.service import KioskService
from kiosk.steps.table import MAINTENANCE, NO_WAY_BACK, NOT_RETURNED_TO, OUT_OF_SERVICE, check_move
from kiosk.warmup import give_back_free_memory
from screens.base import KioskScreen
from screens.fonts import close_unused
from screens.table import DROPPED_WHEN_SHOWN, HOME, SCREENS

log = logging.getLogger(__name__)

# A screen that drops those behind it gives free memory back twice: after its first frame (what the
# dropped screens held) and once it has settled (its own start-up's temporaries: the scanner's first
# detections, the textures Kivy deletes a few frames late), ≈ 10-16 MB of [heap] the allocator kept
# free on the capture screen otherwise (docs/scanning.md, "Less memory held").
SETTLED_GIVE_BACK_S = 2.5
WIPED_NOTICE_S = 8.0  # the "wiped" notice is for the one who walked away, not for the next person


def take_apart(widget: Any) -> int:
    """Detach every widget under ``widget`` from its parent, deepest first; how many were detached.

    A dropped screen is freed only once nothing refers to any of its widgets: each child refers to
    its parent, so one reference left somewhere to any one of them (a callback still scheduled, a
    touch kept a while by Kivy's input, an effect) keeps the whole screen alive, with every label's
    texture (≈ 6.6 MB for the catalog at 1920 × 1080, one capture run in three, docs/scanning.md).
    Taken apart, such a reference keeps only its own widget."""
    detached = 0
    for child in list(widget.children):
        detached += take_apart(child)
        widget.remove_widget(child)
        detached += 1
    return detached


class Navigator:
    """Shows screens by step, keeps the way back, and shows errors."""

    def __init__(self, service: KioskService, manager: ScreenManager | None = None,
                 table: dict[str, tuple[str, str]] = SCREENS) -> None:
        from screens import widgets

        widgets.load()
        self.service = service
        self.steps = service.steps
        self.manager = manager or ScreenManager(transition=NoTransition())
        self.table = table
        self.history: list[str] = []
        self.popup: Any = None
        self.idle_warning: Any = None  # the countdown overlay while it shows
        self.take_card: Any = None  # the take-your-card reminder while it shows
        self.wiped_notice_s = WIPED_NOTICE_S
        self.input_engines: Any = None  # kiosk.input.engines.InputEngines, handed in by the app
        self.voice: Any = None  # screens.widgets.voice_controls.VoiceControls: told each screen and error

    @property
    def current(self) -> str:
        return self.manager.current

    @property
    def current_screen(self) -> KioskScreen:
        return self.manager.current_screen

    def screen(self, name: str) -> KioskScreen:
        """The screen called ``name``, built (module imported, kv read) on first use."""
        if self.manager.has_screen(name):
            return self.manager.get_screen(name)
        module_name, class_name = self.table[name]
        module = importlib.import_module(module_name)
        kv = Path(module.__file__).with_suffix(".kv")
        if kv.exists() and str(kv) not in Builder.files:
            Builder.load_file(str(kv))
        screen = getattr(module, class_name)(name=name, step=self.steps.by_name(name), nav=self,
                                             lang=self.service.language)
        self.manager.add_widget(screen)
        return screen

    def forward(self, **params: Any) -> KioskScreen:
        """Where the current step says forward leads (a move in the step table)."""
        current = self.current
        target = self.steps.by_name(current).next_step()
        check_move(current, target)
        if target in NO_WAY_BACK:
            self.history.clear()  # no way back into a sent application
        remember = target not in NO_WAY_BACK and current not in NOT_RETURNED_TO
        return self._show(target, remember=remember, **params)

    def _show(self, name: str, remember: bool = True, **params: Any) -> KioskScreen:
        old = self.manager.current_screen if self.manager.screens else None
        screen = self.screen(name)
        if old is not None and old is not screen:
            old.leave()
            self.steps.by_name(old.name).leave()
            if remember and old.name != name:
                self.history.append(old.name)
        screen.lang = self.service.language
        screen.prepare(**params)
        screen.refresh()
        self.manager.current = name
        if old is not screen:
            if self.voice is not None:  # before enter(): a card read at once is heard after this prompt
                self.voice.screen_shown(name)  # cuts off what the last screen was saying
            self.steps.by_name(name).enter()
            if DROPPED_WHEN_SHOWN.get(name):
                Clock.schedule_once(self._drop_hidden, 0)  # once the screen change is complete
        return screen

    def _drop_hidden(self, _dt: float = 0) -> None:
        """Drop the screens that the screen now shown lets go (``screens.table.DROPPED_WHEN_SHOWN``):
        out of the screen manager, their widgets and label textures freed, built again by ``screen()``
        if the villager goes back. What they showed lives in their steps, so nothing typed is lost."""
        transition = self.manager.transition
        if transition.is_active:
            Clock.schedule_once(self._drop_hidden, 0)
            return
        dropped = 0
        for name in DROPPED_WHEN_SHOWN.get(self.current, ()):
            if name == self.current or not self.manager.has_screen(name):
                continue
            screen = self.manager.get_screen(name)  # not forget(): its place in the visit is kept by its step
            self.manager.remove_widget(screen)
            if screen.parent is self.manager:  # still a child: remove_widget only unlists a hidden screen
                self.manager.real_remove_widget(screen)
            if transition.screen_out is screen:  # the finished transition would keep it alive
                transition.screen_out = self.manager.current_screen
            take_apart(screen)
            dropped += 1
        if dropped:
            Clock.schedule_once(self._give_back, 0)  # after the next frame has released their textures
            Clock.schedule_once(self._give_back_settled, SETTLED_GIVE_BACK_S)

    def _give_back(self, _dt: float = 0) -> None:
        """Free the cycles of what was dropped or forgotten, close the font sizes no label on display
        uses (``screens.fonts``: ≈ 2.5 MB each; a screen shown again opens what it draws anew, a few
        ms a size), and let glibc return the free pages (kiosk.warmup)."""
        from kivy.core.window import Window

        gc.collect()
        closed = close_unused(Window.children)  # the screen shown (the manager's one child) and any popup
        if closed:
            log.debug("closed %d font sizes no screen shown uses", closed)
        give_back_free_memory()

    def _give_back_settled(self, _dt: float = 0) -> None:
        """glibc's trim alone (no collection: no pause in the preview), off the UI thread."""

        def job() -> None:
            give_back_free_memory()

        self.service.ctx.jobs.submit("give back free memory", job)

    def back(self) -> None:
        """One screen back; leaving the visit's first screen goes home (and wipes)."""
        while self.history:
            name = self.history.pop()
            if name == HOME:
                break
            self._show(name, remember=False)
            return
        self.home()

    def home(self) -> None:
        """Wipe the visit and show home."""
        self.service.cancel()
        self._forget_visit()

    def finish(self) -> None:
        """The visit is done: wipe it and show home."""
        self.service.finish()
        self._forget_visit()

    def start(self) -> None:
        """Home, when the app starts (the out-of-service notice, when the county locked the kiosk)."""
        self._show(self._resting(), remember=False)

    def _resting(self) -> str:
        """Where the kiosk waits between visits: home, or only the notice while the county's lock holds."""
        return OUT_OF_SERVICE if self.steps.out_of_service.locked else HOME

    def open(self, name: str) -> KioskScreen | None:
        """A screen outside the visit (maintenance), by a move in the step table; None if refused."""
        if name == MAINTENANCE and not self.steps.maintenance.open:
            return None  # only after the PIN
        check_move(self.current, name)
        self.history.clear()
        return self._show(name, remember=False)

    def _forget_visit(self) -> None:
        self.hide_idle_warning()
        self.history.clear()
        self._show(self._resting(), remember=False)
        for screen in self.manager.screens:
            screen.forget()  # what the screens showed of the villager goes with the visit
        # what the visit freed (its photographs, the forms' widgets) goes back to the system, not
        # kept by the allocator for the next one (18-36 MB at home after a visit, docs/scanning.md)
        Clock.schedule_once(self._give_back, 0)

    def show_error(self, message_key: str, then_home: bool = False) -> Any:
        from screens.widgets.error_popup import ErrorPopup

        if self.popup is not None:
            self.popup.dismiss()
        popup = ErrorPopup(message=self.service.t(message_key), ok_text=self.service.t("common.ok"))
        self.popup = popup

        def closed(*_args: Any) -> None:
            if self.popup is popup:
                self.popup = None

        popup.bind(on_dismiss=closed)
        popup.open()
        if self.voice is not None:
            self.voice.error_shown(message_key)
        if then_home:
            self.home()
        return popup

    # -- the idle timeout (kiosk.idle) ------------------------------------------------------

    def on_event_idle_warning(self, **_payload: Any) -> None:
        self.show_idle_warning()

    def on_event_idle_warning_cleared(self) -> None:
        self.hide_idle_warning()

    def on_event_session_expired(self) -> None:
        if self.current != HOME or self.idle_warning is not None:
            self.home()  # the keeper has wiped the visit already; this drops what the screens show
            self.show_wiped_notice()  # abandoned, not finished: say why the work is gone

    def on_event_visit_closed(self) -> None:
        self.home()  # a finished visit: quietly, no notice

    def show_idle_warning(self) -> Any:
        from screens.widgets.idle_warning import IdleWarning

        if self.idle_warning is None:
            t = self.service.t
            warning = IdleWarning(seconds_left=self.service.idle_seconds_left, title=t("idle.warning.title"),
                                  countdown_text=t("idle.warning.countdown"),
                                  continue_text=t("idle.warning.continue"))
            warning.bind(on_dismiss=lambda *_a: setattr(self, "idle_warning", None))
            self.idle_warning = warning
            warning.open()
        return self.idle_warning

    def hide_idle_warning(self) -> None:
        if self.idle_warning is not None:
            self.idle_warning.dismiss()
            self.idle_warning = None

    def show_wiped_notice(self) -> Any:
        from screens.widgets.idle_warning import WipedNotice

        if self.popup is not None:
            self.popup.dismiss()
        t = self.service.t
        notice = WipedNotice(message=t("kiosk.session_expired"), ok_text=t("common.ok"),
                             show_s=self.wiped_notice_s)
        self.popup = notice

        def closed(*_args: Any) -> None:
            if self.popup is notice:
                self.popup = None

        notice.bind(on_dismiss=closed)
        notice.open()
        return notice

    # -- the take-your-card reminder (kiosk.take_card) -------------------------------------

    def on_event_take_card_reminder(self, **_payload: Any) -> None:
        from screens.widgets.take_card import TakeCardOverlay

        if self.take_card is None:
            t = self.service.t
            overlay = TakeCardOverlay(title=t("take_card.title"), text=t("take_card.text"),
                                      ok_text=t("take_card.ok"))
            overlay.bind(on_dismiss=lambda *_a: setattr(self, "take_card", None))
            self.take_card = overlay
            overlay.open()

    def on_event_take_card_done(self, **_payload: Any) -> None:
        if self.take_card is not None:
            self.take_card.dismiss()
            self.take_card = None

    def dispatch_event(self, name: str, payload: dict[str, Any]) -> None:
        """Hand a core event (already on the UI thread) to the navigator's overlays or the screens."""
        own = getattr(self, f"on_event_{name}", None)
        if own is not None:
            own(**payload)
            return
        if name == "language_changed":
            for screen in self.manager.screens:
                screen.on_event_language_changed(**payload)
            self.current_screen.refresh()  # the others refresh when they are shown
            return
        if name == "service_state" and self.current != MAINTENANCE:
            self.home()  # locked: only the notice; unlocked: home again (the visit is wiped either way)
            return
        handler = getattr(self.current_screen, f"on_event_{name}", None)
        if handler is not None:
            handler(**payload)


