"""Is this frame good enough to take? Sharpness, glare, exposure, coverage, stability.

``assess(frame, detection, stability, thresholds)`` measures each and returns a
``Quality`` whose ``problems`` lists the failures, most important first, each with the
translation key of a plain instruction (``scan.guide.<problem>``). Thresholds come from
the ``[scan]`` settings (any object with the attributes of ``Thresholds``).

* sharpness — variance of the Laplacian inside the page (on a 640-pixel-wide copy)
* glare     — share of the page's pixels that are blown out (all channels ≥ 250)
* exposure  — the page's median brightness: too dark or too bright
* coverage  — the page's share of the frame (too small: move it closer), and a
              corner touching the frame's edge (cut off)
* stability — how far the corners moved over the last frames, in % of the frame's width
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from hardware.docscan.detect import Detection

PROBLEMS = ("no_page", "cut_off", "too_small", "too_dark", "too_bright", "glare", "blurred", "moving")


@dataclass(frozen=True)
class Thresholds:
    min_sharpness: float = 60.0
    max_glare: float = 0.02
    min_brightness: float = 70.0
    max_brightness: float = 250.0
    min_coverage: float = 0.2
    max_motion: float = 1.0
    edge_margin: float = 0.01


@dataclass(frozen=True)
class Quality:
    sharpness: float = 0.0
    glare: float = 0.0
    brightness: float = 0.0
    coverage: float = 0.0
    motion: float = 0.0
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def message_key(self) -> str:
        return f"scan.guide.{self.problems[0]}" if self.problems else "scan.guide.hold_still"


def assess(frame: np.ndarray, detection: Detection | None, motion: float, thresholds: object) -> Quality:
    """Measure ``frame`` with its page outline; ``motion`` from the tracker (% of width)."""
    get = lambda name: float(getattr(thresholds, name, getattr(Thresholds, name)))  # noqa: E731
    if detection is None:
        return Quality(problems=("no_page",))
    h, w = frame.shape[:2]
    scale = min(1.0, 640 / w)
    small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else frame
    mask = np.zeros(small.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, np.round(detection.quad * scale).astype(np.int32), 255)
    inner = cv2.erode(mask, np.ones((9, 9), np.uint8))
    if not inner.any():
        inner = mask
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    sharpness = float(cv2.Laplacian(grey, cv2.CV_32F)[inner > 0].var())
    blown = (small.min(axis=2) >= 250)[inner > 0]
    glare = float(blown.mean()) if blown.size else 0.0
    brightness = float(np.median(grey[inner > 0]))
    coverage = float(detection.coverage)
    margin = get("edge_margin") * max(w, h)
    q = detection.quad
    touching = bool((q[:, 0] < margin).any() or (q[:, 1] < margin).any()
                    or (q[:, 0] > w - 1 - margin).any() or (q[:, 1] > h - 1 - margin).any())
    problems = []
    if touching:
        problems.append("cut_off")
    if coverage < get("min_coverage"):
        problems.append("too_small")
    if brightness < get("min_brightness"):
        problems.append("too_dark")
    if brightness > get("max_brightness"):
        problems.append("too_bright")
    if glare > get("max_glare"):
        problems.append("glare")
    if sharpness < get("min_sharpness"):
        problems.append("blurred")
    if motion > get("max_motion"):
        problems.append("moving")
    return Quality(sharpness=round(sharpness, 1), glare=round(glare, 4), brightness=round(brightness, 1),
                   coverage=round(coverage, 3), motion=round(motion, 2), problems=tuple(problems))
