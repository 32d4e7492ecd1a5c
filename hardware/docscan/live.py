"""The live scanner: camera → detection → steady outline → quality gate → auto-capture.

Cheap enough for a low-end kiosk: every frame is published for the preview at once, but
the page is looked for only when the picture moved since the last look (a frame
difference on a tiny grey copy, in buffers kept from frame to frame) or every
``detect_every`` frames at the latest (light creeps, a page slides slowly). Between looks
the tracker keeps the outline and the quality found at the last look stands (with the
stability measure brought up to date), so a page lying still costs a look a second or so.

It runs on its own thread (a ``workers.BackgroundLoop``: a frame whose processing raises
is logged and the next one tried), so the screen never waits for the camera or for detection:
the screen asks ``latest()`` for the newest ``LiveView`` and gets it at once. A camera
that returns nothing or stalls shows as ``stalled`` after ``stall_s`` seconds (the read
itself may hang inside a driver: the thread is a daemon and is left behind on stop).
An error from the camera is counted and reported by its ``message_key``, never raised
into the screen. The clock is injected.
"""

from __future__ import annotations

import ctypes
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from hardware.docscan.autocapture import AutoCapture
from hardware.docscan.detect import Detection, detect_page
from hardware.docscan.quality import Quality, Thresholds, assess
from hardware.docscan.tracker import OutlineTracker
from workers.loop import BackgroundLoop

log = logging.getLogger(__name__)

# frames read (and offered to the preview) a second at most. 15 drawn a second looks smooth for a page
# lying under a fixed camera; the loop's own pauses and the odd detection keep it a little under the
# rate it aims at (14.5 drawn at 15), so it aims at 18. A new frame alone redraws only the picture's box
# (screens/widgets/live_region.py: ≈ 16 ms of CPU a frame under a software renderer, ≈ 40 for a whole
# window; docs/scanning.md "Live capture"), so frames above that would be paid for and not seen.
PREVIEW_FPS = 18.0
DETECT_EVERY = 10      # frames: look for the page at least this often though nothing moved
# the preview's width: the screen shows it at up to 800 px wide (screens/capture.py MAX_PICTURE_PIXELS),
# magnified; a wider preview would cost more upload and memory, not less drawing (llvmpipe's cost is
# per window pixel of the picture, whatever the texture's size: docs/scanning.md, "capview")
PREVIEW_WIDTH = 640
PREVIEW_BUFFERS = 3    # the screen draws the newest while the next ones are written
MOTION_WIDTH = 96      # the tiny grey copy the frame difference is taken on (≈13-pixel cells at 1280)
MOTION_LEVEL = 14.0    # a cell changing more than this (0–255) is movement: an edge moving ≈2 px
UNSEEN_WAIT_S = 0.25   # paced: the longest wait for the screen to fetch a frame before reading anyway
# Buffers this big or bigger come straight from the system and go straight back (glibc's
# M_MMAP_THRESHOLD, set once when a scanner first starts). Each frame read is a new 2.7 MB array
# (1280×720 BGR); glibc's own threshold rises past that after the first such buffer is freed, and
# from then on the frames are carved out of the scanner thread's arena, which kept ≈ 9-10 MB more
# resident than in use (a plain process running the scanner: +30.4 → +21.4 MB; the app on the
# capture screen: anonymous memory +34-37 → +24 MB, docs/scanning.md "Less memory held").
MMAP_THRESHOLD = 1 << 20


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
    preview: np.ndarray | None = None  # the frame scaled for the screen, RGB (one of a few reused buffers)

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


M_MMAP_THRESHOLD = -3  # malloc.h
_threshold_set = False


def bound_mmap_threshold(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at ``threshold`` bytes (once per process; False: not glibc, or
    refused). Fixing it also stops glibc from raising it by itself, for every thread."""
    global _threshold_set
    if _threshold_set:
        return True
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # another C library: its allocator is left as it is
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _threshold_set = bool(mallopt(M_MMAP_THRESHOLD, threshold))
    return _threshold_set


class LiveScanner:
    def __init__(self, camera: Any, thresholds: Any = None, *, auto_capture: bool = True,
                 hold_s: float = 1.2, fps: float = PREVIEW_FPS, stall_s: float = 3.0,
                 detect_every: int = DETECT_EVERY, clock: Callable[[], float] = time.monotonic,
                 paced: bool = False) -> None:
        self.camera = camera
        self.thresholds = thresholds if thresholds is not None else Thresholds()
        self.fps = fps
        self.stall_s = stall_s
        self.detect_every = max(1, detect_every)
        self.clock = clock
        # paced: a frame is read only once the screen fetched the last one (``latest``), or after
        # UNSEEN_WAIT_S: a screen drawing 5 frames a second costs 5 camera reads, not 20, while
        # detection and auto-capture still see a frame every quarter second with no screen at all
        self.paced = paced
        self.unseen_wait_s = UNSEEN_WAIT_S
        self._fetched = 0
        self._read_at = -1e9
        self.tracker = OutlineTracker()
        self.auto = AutoCapture(hold_s=hold_s, enabled=auto_capture)
        self._lock = threading.Lock()
        self._view = EMPTY_VIEW
        self._fire_pending = False
        self.loop = self._new_loop()
        self._last_frame_at = clock()
        self._sequence = 0
        self._error_key = ""
        self.looks = 0  # detections run (the rest of the frames reused the last one)
        self._since_look = 0
        self._found: Detection | None = None   # the last look's own result (before the tracker)
        self._quality: Quality | None = None   # … and its quality (None: look at the next frame)
        self._previews: list[np.ndarray] = []   # reused in turn, never allocated per frame
        self._next_preview = 0
        self._scaled_buffer: np.ndarray | None = None
        self._small: np.ndarray | None = None  # the frame difference's buffers, reused
        self._grey: np.ndarray | None = None
        self._grey_looked: np.ndarray | None = None

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
        self._quality = None
        self._last_frame_at = self.clock()
        bound_mmap_threshold()
        self.loop.start()

    def stop(self, timeout: float = 1.0) -> None:
        if not self.loop.stop(timeout):
            log.warning("live scanner: the camera read did not return; thread left behind")

    def latest(self) -> LiveView:
        """The newest view, at once; ``fire`` is True only in the first view after it fired."""
        with self._lock:
            view = self._view
            fire, self._fire_pending = self._fire_pending, False
            self._fetched = view.sequence
        stalled = self.clock() - self._last_frame_at > self.stall_s
        if fire != view.fire or stalled != view.stalled:
            view = dataclasses.replace(view, fire=fire, stalled=stalled)  # keeps every other field
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
        preview = self._preview(frame)
        if self._needs_look(frame if preview is None else preview):
            found = self._look(frame)
            outline = self.tracker.update(found, frame.shape[1])
            quality = assess(frame, outline if found is not None else None, self.tracker.motion,
                             self.thresholds)
            self._found, self._quality = found, quality
            self._remember_look()  # only now: a pass that raised looks again at the next frame
        else:  # the picture did not change: the last look stands, the stability measure goes on
            outline = self.tracker.update(self._found, frame.shape[1])
            quality = self._with_motion(self._quality, self.tracker.motion)
        fire = self.auto.update(quality.ok, now)
        view = LiveView(frame, outline, quality, fire, self.auto.progress(now), False, self._error_key,
                        self._sequence, self.auto.waiting_for_change, preview)
        with self._lock:
            self._view = view
            if fire:
                self._fire_pending = True
        return view

    def _preview(self, frame: np.ndarray) -> np.ndarray | None:
        """The frame scaled to the preview's width and turned RGB, into the next reused buffer."""
        if frame.dtype != np.uint8 or frame.shape[2] != 3:
            return None
        h, w = frame.shape[:2]
        width = min(w, PREVIEW_WIDTH)
        shape = (max(1, round(h * width / w)), width, 3)
        if not self._previews or self._previews[0].shape != shape:
            self._previews = [np.empty(shape, np.uint8) for _ in range(PREVIEW_BUFFERS)]
        out = self._previews[self._next_preview]
        self._next_preview = (self._next_preview + 1) % len(self._previews)
        if width == w:
            cv2.cvtColor(frame, cv2.COLOR_BGR2RGB, dst=out)
        else:
            cv2.resize(frame, (shape[1], shape[0]), dst=self._scaled(shape), interpolation=cv2.INTER_AREA)
            cv2.cvtColor(self._scaled(shape), cv2.COLOR_BGR2RGB, dst=out)
        return out

    def _scaled(self, shape: tuple[int, ...]) -> np.ndarray:
        if self._scaled_buffer is None or self._scaled_buffer.shape != shape:
            self._scaled_buffer = np.empty(shape, np.uint8)
        return self._scaled_buffer

    def _look(self, frame: np.ndarray) -> Detection | None:
        self.looks += 1
        try:
            last = self.tracker.current
            return detect_page(frame, prior=None if last is None else last.quad)
        except Exception as exc:  # a bad frame: no page, and say why in the log
            log.warning("live scanner: detection failed on a frame (%s)", type(exc).__name__)
            return None

    def _needs_look(self, frame: np.ndarray) -> bool:
        """Shrink the frame into the reused grey buffer; True when it moved since the last look."""
        self._since_look += 1
        if frame.dtype != np.uint8 or frame.shape[2] != 3:
            self._grey = None  # an odd frame: detection converts or refuses it; compare afresh after it
            return True
        h, w = frame.shape[:2]
        size = (MOTION_WIDTH, max(1, round(h * MOTION_WIDTH / w)))
        if self._small is None or self._grey is None or self._grey.shape != (size[1], size[0]):
            self._small = np.empty((size[1], size[0], 3), np.uint8)
            self._grey = np.empty((size[1], size[0]), np.uint8)
            self._grey_looked = None
        cv2.resize(frame, size, dst=self._small, interpolation=cv2.INTER_AREA)
        # (from the RGB preview the weights of red and blue swap: alike on every frame, which is all
        # a difference needs)
        cv2.cvtColor(self._small, cv2.COLOR_BGR2GRAY, dst=self._grey)
        if self._quality is None or self._grey_looked is None or self._since_look >= self.detect_every:
            return True
        return cv2.norm(self._grey, self._grey_looked, cv2.NORM_INF) > MOTION_LEVEL

    def _remember_look(self) -> None:
        self._since_look = 0
        if self._grey is None:
            return
        if self._grey_looked is None or self._grey_looked.shape != self._grey.shape:
            self._grey_looked = self._grey.copy()
        else:
            np.copyto(self._grey_looked, self._grey)

    def _with_motion(self, quality: Quality | None, motion: float) -> Quality:
        """The last look's quality with the stability measure as it is now."""
        if quality is None:
            return EMPTY_VIEW.quality
        if "no_page" in quality.problems:
            return quality
        moving = motion > float(getattr(self.thresholds, "max_motion", Thresholds.max_motion))
        problems = tuple(p for p in quality.problems if p != "moving") + (("moving",) if moving else ())
        if problems == quality.problems and quality.motion == round(motion, 2):
            return quality
        return dataclasses.replace(quality, motion=round(motion, 2), problems=problems)

    def _one_frame(self) -> float:
        """Read one frame and process it; returns how long to wait before the next."""
        started = time.monotonic()
        if self.paced and self._fetched < self._sequence and started - self._read_at < self.unseen_wait_s:
            return 0.01  # the screen has not drawn the last frame yet: reading the next is wasted
        self._read_at = started
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
