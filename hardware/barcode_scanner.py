"""Continuous scanning: frames from a ``Camera`` decoded on a worker thread.

``ContinuousScanner(camera, on_codes)`` reads a frame, decodes it, and calls
``on_codes(codes)`` with the codes it has not reported in the last ``repeat_after``
seconds (a villager holding a slip up to the camera is reported once, not thirty times
a second). Nothing runs on the caller's thread: ``start`` returns at once, and the
callbacks come from the worker, so a UI moves them onto its own thread (Kivy:
``Clock.schedule_once``). ``stop`` waits for the worker to finish its current frame.

The worker is a ``workers.BackgroundLoop``: a frame that fails in any way never ends it.
Camera errors go to ``on_error(exc)`` (when given) and the scanner keeps trying after
``error_backoff`` seconds; a camera that says it has no frame now is polled again after
``idle_interval``. Log lines carry error types only, never a code's text.

At most ``max_rate`` frames a second are decoded (the rest are not even read): a slip held
up to the camera is read within a fifth of a second all the same, and a kiosk waiting on the
identify screen does not spend a whole core decoding the same empty desk thirty times a
second. For the same reason each frame gets the decoder's first (cheap) pass and ONE of its
costly ones, in turn: a code only a costly pass can read is found within a few frames, and an
empty desk costs two passes a frame rather than all of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from hardware.barcode import Barcode, BarcodeDecoder
from hardware.errors import HardwareError
from hardware.interfaces import Camera
from workers.loop import BackgroundLoop

log = logging.getLogger(__name__)


class ContinuousScanner:
    def __init__(
        self,
        camera: Camera,
        on_codes: Callable[[list[Barcode]], None],
        *,
        decoder: BarcodeDecoder | None = None,
        on_error: Callable[[Exception], None] | None = None,
        repeat_after: float = 3.0,
        idle_interval: float = 0.05,
        error_backoff: float = 1.0,
        max_rate: float = 6.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.camera = camera
        self.on_codes = on_codes
        self.on_error = on_error
        self.decoder = decoder or BarcodeDecoder()
        self.repeat_after = repeat_after
        self.idle_interval = idle_interval
        self.error_backoff = error_backoff
        self.min_period = 1.0 / max_rate if max_rate > 0 else 0.0
        self.clock = clock
        self.frames = 0  # frames decoded since start, for health reports and tests
        self._last_seen: dict[tuple[str, str], float] = {}
        self._turn = 0  # which costly pass this frame gets
        # a decoder bug that raises is logged by the loop, which tries again after error_backoff
        self.loop = BackgroundLoop("barcode-scan", self._one_frame, interval_s=0.0,
                                   crash_backoff_s=error_backoff)

    @property
    def running(self) -> bool:
        return self.loop.running

    def start(self) -> None:
        if self.running:
            return
        self._last_seen.clear()
        self.loop.start()

    def stop(self, timeout: float = 2.0) -> None:
        self.loop.stop(timeout)

    def __enter__(self) -> ContinuousScanner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _one_frame(self) -> float:
        """Read and decode one frame; returns how long to wait before the next."""
        started = time.monotonic()
        try:
            frame = self.camera.read_frame()
        except HardwareError as exc:
            self._report_error(exc)
            return self.error_backoff
        except Exception as exc:  # a camera driver's untyped failure: keep scanning
            log.warning("camera read failed: %s", type(exc).__name__)
            self._report_error(exc)
            return self.error_backoff
        if frame is None:
            return self.idle_interval
        try:
            codes = list(self.decoder.decode_detailed(frame, self._passes_now()).codes)
        except HardwareError as exc:
            self._report_error(exc)
            return self.error_backoff
        self.frames += 1
        fresh = self._fresh(codes)
        if fresh and not self.loop.stopping.is_set():
            try:
                self.on_codes(fresh)
            except Exception as exc:
                log.error("barcode callback failed: %s", type(exc).__name__)
        return max(0.0, self.min_period - (time.monotonic() - started))

    def _passes_now(self) -> tuple[str, ...]:
        first, *costly = self.decoder.passes
        if not costly:
            return (first,)
        self._turn = (self._turn + 1) % len(costly)
        return (first, costly[self._turn])

    def _fresh(self, codes: list[Barcode]) -> list[Barcode]:
        now = self.clock()
        self._last_seen = {k: t for k, t in self._last_seen.items() if now - t < self.repeat_after}
        fresh = []
        for code in codes:
            key = (code.type, code.text)
            if key not in self._last_seen:
                fresh.append(code)
            self._last_seen[key] = now  # still in view: keep it quiet
        return fresh

    def _report_error(self, exc: Exception) -> None:
        if self.on_error is None:
            return
        try:
            self.on_error(exc)
        except Exception as cb_exc:
            log.error("barcode error callback failed: %s", type(cb_exc).__name__)
