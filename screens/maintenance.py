"""Maintenance: device tests, the queue, sync now, the enrolment, and the ways out.

Reached only through the PIN (``screens.maintenance_door``); it shows nothing of any
villager. Left alone for the kiosk's idle timeout it closes itself. ``maint_quit`` stops
the app (the technician's way out to the system; a watchdog or the session starts it
again).
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import StringProperty

from screens.base import KioskScreen


class MaintenanceScreen(KioskScreen):
    devices_text = StringProperty("")
    queue_text = StringProperty("")
    enrolment_text = StringProperty("")
    message = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._idle = Clock.create_trigger(lambda _dt: self.exit(), self._idle_timeout())

    def _idle_timeout(self) -> float:
        step = self.step
        return float(step.ctx.settings.kiosk.idle_timeout_s) if step is not None else 120.0

    def refresh(self) -> None:
        self.queue_text = "\n".join(self.step.queue_lines())
        self.enrolment_text = self.step.enrolment_line()
        lines = self.step.devices
        self.devices_text = self._device_text(lines) if lines else self.tr("maint.not_tested")
        self._idle()

    def leave(self) -> None:
        self._idle.cancel()
        self.message = ""

    def on_touch_down(self, touch: Any) -> bool:
        self._idle()  # still someone at it: the idle close starts over
        return bool(super().on_touch_down(touch))

    @staticmethod
    def _device_text(lines: list[Any]) -> str:
        marks = {"ok": "✓", "degraded": "!", "missing": "×"}
        return "\n".join(f"{marks.get(line.state, '?')}  {line.name}：{line.words}" for line in lines)

    def self_test(self) -> None:
        self.devices_text = self.tr("maint.testing")
        self.step.self_test()

    def on_event_maintenance_devices(self, lines: list[Any]) -> None:
        self.devices_text = self._device_text(lines)

    def sync_now(self) -> None:
        self.message = self.step.sync_now()

    def on_event_queue_changed(self) -> None:
        self.queue_text = "\n".join(self.step.queue_lines())

    def exit(self) -> None:
        self._idle.cancel()
        if self.nav is not None and self.nav.current == self.name:
            self.nav.home()

    def quit_app(self) -> None:
        app = App.get_running_app()
        leave = getattr(app, "leave_kiosk", None)  # the locked-down kiosk's one way out
        (leave or app.stop)()
