"""The live scanner: camera → detection → steady outline → quality gate → auto-capture.

It runs on its own thread (a ``workers.BackgroundLoop``: a frame whose processing raises
is logged and the next one tried), so the screen never waits for the camera or for detection:
the screen asks ``latest()`` for the newest ``LiveView`` and gets it at once. A camera
that returns nothing or stalls shows as ``stalled`` after ``stall_s`` seconds (the read
itself may hang inside a driver: the thread is a daemon and is left behind on stop).
An error from the camera is counted and reported by its ``message_key``, never raised
into the screen. The clock is injected.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hardware.docscan.autocapture import AutoCapture
from hardware.docscan.detect import Detection, detect_page
from hardware.docscan.quality import Quality, Thresholds, assess
from hardware.docscan.tracker import OutlineTracker
from workers.loop import BackgroundLoop

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveView:
    """What the screen shows now. ``frame`` is the full BGR frame (None before the first)."""

    frame: np.ndarray | None
    outline: Detection | None
    quality: Quality
    fire: bool              # auto-capture says: take this page now (reported once)
    progress: float         # 0–1, how far the hold before auto-capture is
    stalled: bool           # no frame for a while
    error_key: str          # the camera's last error's message_key ("" when fine)
    sequence: int           # counts frames processed
    taken: bool = False     # this page was just taken; waiting for the next one

    @property
    def message_key(self) -> str:
        if self.error_key:
            return self.error_key
        if self.stalled:
            return "scan.guide.no_camera"
        if self.taken and self.quality.ok:
            return "scan.guide.taken"  # not "hold still" while the taken page still lies there
        return self.quality.message_key


EMPTY_VIEW = LiveView(None, None, Quality(problems=("no_page",)), False, 0.0, False, "", 0)


class LiveScanner:
    def __init__(self, camera: Any, thresholds: Any = None, *, auto_capture: bool = True,
                 hold_s: float = 1.2, fps: float = 12.0, stall_s: float = 3.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.camera = camera
        self.thresholds = thresholds if thresholds is not None else Thresholds()
        self.fps = fps
        self.stall_s = stall_s
        self.clock = clock
        self.tracker = OutlineTracker()
        self.auto = AutoCapture(hold_s=hold_s, enabled=auto_capture)
        self._lock = threading.Lock()
        self._view = EMPTY_VIEW
        self._fire_pending = False
        self.loop = self._new_loop()
        self._last_frame_at = clock()
        self._sequence = 0
        self._error_key = ""

    def _new_loop(self) -> BackgroundLoop:
        # a pass that raises (a detection or quality bug) is logged and the next frame is tried
        return BackgroundLoop("live-scanner", self._one_frame, interval_s=0.0, crash_backoff_s=0.5)

    @property
    def running(self) -> bool:
        return self.loop.running

    def start(self) -> None:
        if self.running:
            return
        if self.loop.alive:  # the last camera read still hangs in its driver: leave that thread behind
            self.loop = self._new_loop()
        self.tracker.reset()
        self.auto.reset()
        self._last_frame_at = self.clock()
        self.loop.start()

    def stop(self, timeout: float = 1.0) -> None:
        if not self.loop.stop(timeout):
            log.warning("live scanner: the camera read did not return; thread left behind")

    def latest(self) -> LiveView:
        """The newest view, at once; ``fire`` is True only in the first view after it fired."""
        with self._lock:
            view = self._view
            fire, self._fire_pending = self._fire_pending, False
        stalled = self.clock() - self._last_frame_at > self.stall_s
        if fire != view.fire or stalled != view.stalled:
            view = LiveView(view.frame, view.outline, view.quality, fire, view.progress, stalled,
                            view.error_key, view.sequence, view.taken)
        return view

    def rearm(self) -> None:
        """After a page was taken by hand: no auto-capture of the same page."""
        self.auto.reset()
        self.auto.update(True, self.clock())
        self.auto._armed = False  # wait for the page to change
        self.auto._fired_at = self.clock()

    def step(self, frame: np.ndarray | None) -> LiveView:
        """Process one frame (the thread calls this; tests may call it directly)."""
        now = self.clock()
        if frame is None or not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.size == 0:
            with self._lock:
                return self._view
        self._last_frame_at = now
        self._sequence += 1
        try:
            last = self.tracker.current
            found = detect_page(frame, prior=None if last is None else last.quad)
        except Exception as exc:  # a bad frame: no page, and say why in the log
            log.warning("live scanner: detection failed on a frame (%s)", type(exc).__name__)
            found = None
        outline = self.tracker.update(found, frame.shape[1])
        quality = assess(frame, outline if found is not None else None, self.tracker.motion,
                         self.thresholds)
        fire = self.auto.update(quality.ok, now)
        view = LiveView(frame, outline, quality, fire, self.auto.progress(now), False, self._error_key,
                        self._sequence, self.auto.waiting_for_change)
        with self._lock:
            self._view = view
            if fire:
                self._fire_pending = True
        return view

    def _one_frame(self) -> float:
        """Read one frame and process it; returns how long to wait before the next."""
        started = time.monotonic()
        try:
            frame = self.camera.read_frame()
            self._error_key = ""
        except Exception as exc:  # reported on the screen by its message_key, never raised into it
            key = getattr(exc, "message_key", "hardware.camera_failed")
            if key != self._error_key:
                log.warning("live scanner: camera read failed (%s)", type(exc).__name__)
            self._error_key = key
            return 0.5
        if frame is None:
            return 0.05
        self.step(frame)
        period = 1.0 / self.fps if self.fps else 0.0
        return max(0.0, period - (time.monotonic() - started))
