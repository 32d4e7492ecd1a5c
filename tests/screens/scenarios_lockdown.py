"""The locked-down kiosk window and its watchdog pings, in the real app (``test_lockdown.py``).

``build_app`` is the GUI tests' app with ``display.fullscreen`` on (a kiosk): under test
the window stays a window, but every lock applies. The scenario presses the keys that
leave or open things in a plain Kivy app, asks the window to close as Alt-F4 does, and
then, told by the parent test, holds the UI thread still so that the pings stop.
"""

from __future__ import annotations

import time
from typing import Any

from tests.screens import scenarios

KEYS = {"escape": 27, "f1": 282, "menu": 319, "f12": 293}


def build_app(params: dict[str, Any]) -> Any:
    from kiosk.app import KioskApp

    service = scenarios.build_service(params)
    settings = service.settings.with_overrides({"display.fullscreen": True})
    return KioskApp(service=service, settings=settings)


def _window_state(app: Any) -> dict[str, Any]:
    from kivy.base import EventLoop
    from kivy.core.window import Window

    return {"running": EventLoop.status == "started", "screen": app.nav.current,
            "borderless": bool(Window.borderless), "cursor": bool(Window.show_cursor),
            "locked_down": app.locked_down,
            "panels": sorted(type(w).__name__ for w in Window.children
                             if type(w).__name__ != "ScreenManager")}


def lockdown_and_watchdog(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    from kivy.core.window import Window

    d.wait_for_screen("home")
    before = d.call(_window_state, d.app)
    for key in KEYS.values():  # the keyboard path of a real key press: key down, then keyboard
        d.call(lambda k=key: (Window.dispatch("on_key_down", k, 0, "", []),
                              Window.dispatch("on_keyboard", k, 0, "", [])))
    alt_f4 = d.call(lambda: Window.dispatch("on_request_close"))  # what SDL sends for Alt-F4 / close
    d.wait_frames(5)
    after = d.call(_window_state, d.app)
    d.send(ready=True)
    command = d.receive(timeout=60)
    d.call(time.sleep, command["hang_s"], timeout=command["hang_s"] + 30)  # the UI thread hangs
    d.send(hung=True)
    d.receive(timeout=60)  # the parent saw the pings come back
    return {"before": before, "after": after, "close_refused": bool(alt_f4)}
