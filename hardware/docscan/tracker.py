"""A steady outline across frames.

Each new detection close to the current outline is blended in (exponential smoothing, so
the overlay does not jitter); one far from it replaces it (the page was moved). A missed
frame or two keep the last outline (no flicker); after ``hold_frames`` misses it is gone.
``motion`` is how far the corners moved per frame lately, in % of the frame's width: the
stability measure of the quality gate.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from hardware.docscan.detect import Detection


class OutlineTracker:
    def __init__(self, smoothing: float = 0.5, hold_frames: int = 3, jump: float = 0.06,
                 window: int = 4) -> None:
        self.smoothing = smoothing
        self.hold_frames = hold_frames
        self.jump = jump  # a corner moving more than this share of the width: a new page
        self._current: Detection | None = None
        self._misses = 0
        self._moves: deque[float] = deque(maxlen=window)
        self.width = 1.0

    @property
    def current(self) -> Detection | None:
        return self._current

    @property
    def motion(self) -> float:
        """Largest per-frame corner movement lately, in % of the frame's width (100 when unknown)."""
        if self._current is None or len(self._moves) < (self._moves.maxlen or 0):
            return 100.0
        return max(self._moves)

    def reset(self) -> None:
        self._current = None
        self._misses = 0
        self._moves.clear()

    def update(self, detection: Detection | None, frame_width: int) -> Detection | None:
        self.width = float(max(1, frame_width))
        if detection is None:
            self._misses += 1
            self._moves.append(100.0)
            if self._misses > self.hold_frames:
                self._current = None
            return self._current
        self._misses = 0
        if self._current is None:
            self._current = detection
            self._moves.append(100.0)
            return detection
        move = float(np.abs(detection.quad - self._current.quad).max())
        self._moves.append(100.0 * move / self.width)
        if move > self.jump * self.width:
            self._current = detection
            self._moves.clear()
            self._moves.append(100.0)
            return detection
        a = self.smoothing
        quad = (a * detection.quad + (1 - a) * self._current.quad).astype(np.float32)
        self._current = Detection(quad=quad, score=detection.score, coverage=detection.coverage)
        return self._current
