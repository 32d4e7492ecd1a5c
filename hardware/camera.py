"""Cameras: files replayed through OpenCV, and real cameras; plus JPEG encoding for capture.

Both classes implement ``hardware.interfaces.Camera``: ``read_frame()`` returns an H×W×3
uint8 BGR array, or None when no frame is available now. Log lines never name a file (a
file name can carry a person's name); they give its position and kind.
"""

from __future__ import annotations

import glob
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hardware.errors import CameraError, CameraUnavailable, ImageUnreadable
from hardware.images import load_or_none, probe, read_bounded

if TYPE_CHECKING:  # OpenCV is imported where a frame is read or encoded, not on the way to the first frame
    import cv2

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mjpg", ".mjpeg"})
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


class ReplayCamera:
    """Serves image files (a folder, a glob or a list) or one video file as camera frames.

    Images are served in name order; with ``loop`` the sequence starts over at the end,
    otherwise ``read_frame`` returns None once it is exhausted. ``fps`` paces the frames
    (``read_frame`` sleeps until the next frame is due); None serves them as fast as asked.
    Unreadable files are skipped with a warning; when nothing is readable the constructor
    raises ``CameraUnavailable``. Decoded pictures are kept (up to ``CACHE_BYTES``) and served
    as copies: a replayed file is decoded once, not thirty times a second, and a file that
    changes or goes away on disk is noticed by its size and time.
    """

    CACHE_BYTES = 64 * 1024 * 1024

    def __init__(
        self, source: str | Path | Sequence[str | Path], loop: bool = True, fps: float | None = None
    ) -> None:
        self.loop = loop
        self.fps = fps
        self._next_due = 0.0
        self._video: cv2.VideoCapture | None = None
        self._images: list[Path] = []
        self._index = 0
        self._decoded: OrderedDict[Path, tuple[tuple[int, int], np.ndarray]] = OrderedDict()
        paths = self._expand(source)
        if len(paths) == 1 and paths[0].suffix.lower() in VIDEO_SUFFIXES:
            self._open_video(paths[0])
        else:
            self._images = [p for i, p in enumerate(paths) if self._probe(i, p)]
            if not self._images:
                raise CameraUnavailable("replay source holds no readable image")

    @staticmethod
    def _expand(source: str | Path | Sequence[str | Path]) -> list[Path]:
        if isinstance(source, (str, Path)):
            text = str(source)
            if isinstance(source, str) and _is_glob(text):
                return [Path(p) for p in sorted(glob.glob(text))]
            path = Path(source)
            if path.is_dir():
                return sorted(
                    p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES
                )
            if not path.exists():
                raise CameraUnavailable("replay source does not exist")
            return [path]
        return [Path(p) for p in source]

    @staticmethod
    def _probe(index: int, path: Path) -> bool:
        if path.suffix.lower() in VIDEO_SUFFIXES:
            log.warning("replay camera: skipping video file #%d among images", index)
            return False
        try:
            probe(read_bounded(path))  # the header only: decoding waits for the first frame asked for
        except ImageUnreadable:
            log.warning(
                "replay camera: skipping unreadable file #%d (%s)", index, path.suffix.lower() or "no suffix"
            )
            return False
        return True

    def _open_video(self, path: Path) -> None:
        import cv2

        video = cv2.VideoCapture(str(path))
        if not video.isOpened():
            video.release()
            raise CameraUnavailable("replay video cannot be opened")
        ok, _ = video.read()
        if not ok:
            video.release()
            raise CameraUnavailable("replay video has no readable frame")
        video.set(cv2.CAP_PROP_POS_FRAMES, 0)
        self._video = video

    @property
    def frame_count(self) -> int | None:
        """How many images are served per round (None for a video)."""
        return None if self._video is not None else len(self._images)

    def read_frame(self) -> np.ndarray | None:
        self._pace()
        if self._video is not None:
            return self._read_video()
        while self._images:
            if self._index >= len(self._images):
                if not self.loop:
                    return None
                self._index = 0
            path = self._images[self._index]
            frame = self._load(path)
            if frame is not None:
                self._index += 1
                return frame.copy()  # the caller may draw on it; the kept picture stays clean
            log.warning("replay camera: image #%d became unreadable; dropped", self._index)
            del self._images[self._index]
        raise CameraUnavailable("replay source holds no readable image any more")

    def _load(self, path: Path) -> np.ndarray | None:
        """The decoded picture, from the cache while the file is unchanged (None: unreadable now)."""
        try:
            stat = os.stat(path)
        except OSError:
            self._decoded.pop(path, None)
            return None
        key = (stat.st_size, stat.st_mtime_ns)
        kept = self._decoded.get(path)
        if kept is not None and kept[0] == key:
            self._decoded.move_to_end(path)
            return kept[1]
        frame = load_or_none(path)  # header checked first
        if frame is None:
            self._decoded.pop(path, None)
            return None
        self._decoded[path] = (key, frame)
        while sum(f.nbytes for _k, f in self._decoded.values()) > self.CACHE_BYTES and len(self._decoded) > 1:
            self._decoded.popitem(last=False)
        return frame

    def _read_video(self) -> np.ndarray | None:
        assert self._video is not None
        ok, frame = self._video.read()
        if ok:
            return frame
        if not self.loop:
            return None
        import cv2

        self._video.set(cv2.CAP_PROP_POS_FRAMES, 0)
        ok, frame = self._video.read()
        if not ok:
            raise CameraError("replay video cannot be rewound")
        return frame

    def _pace(self) -> None:
        if not self.fps:
            return
        now = time.monotonic()
        if self._next_due > now:
            time.sleep(self._next_due - now)
            now = self._next_due
        self._next_due = now + 1.0 / self.fps

    def close(self) -> None:
        if self._video is not None:
            self._video.release()
            self._video = None
        self._images = []
        self._decoded.clear()


class OpenCVCamera:
    """A real camera through ``cv2.VideoCapture`` (a device index, a device path or a URL).

    The device is opened on the first read. After ``max_failures`` failed reads in a row
    it is released and opened again (at most once every ``reopen_interval`` seconds), so
    a camera unplugged and plugged in again comes back. ``read_frame`` returns None while
    the reads fail or while waiting to reopen, and raises ``CameraUnavailable`` when an
    attempt to open the device fails.
    """

    def __init__(
        self,
        index_or_path: int | str = 0,
        width: int | None = None,
        height: int | None = None,
        *,
        max_failures: int = 5,
        reopen_interval: float = 2.0,
        focus: int = -1,
    ) -> None:
        if isinstance(index_or_path, str) and index_or_path.strip().isdigit():
            index_or_path = int(index_or_path)
        self.source = index_or_path
        self.width = width
        self.height = height
        self.max_failures = max_failures
        self.reopen_interval = reopen_interval
        self.focus = focus  # -1: autofocus; 0–255: fixed focus (not every camera obeys)
        self._capture: cv2.VideoCapture | None = None
        self._failures = 0
        self._last_open = float("-inf")
        self.opens = 0

    def _open(self) -> cv2.VideoCapture:
        import cv2

        self._last_open = time.monotonic()
        capture = cv2.VideoCapture(self.source)
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable("camera cannot be opened")
        if self.width:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        if self.height:
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        if self.focus is not None and self.focus >= 0:
            capture.set(cv2.CAP_PROP_AUTOFOCUS, 0)
            capture.set(cv2.CAP_PROP_FOCUS, float(self.focus))
        elif self.focus is not None:
            capture.set(cv2.CAP_PROP_AUTOFOCUS, 1)
        self.opens += 1
        log.info("camera opened (open #%d)", self.opens)
        return capture

    def read_frame(self) -> np.ndarray | None:
        if self._capture is None:
            if time.monotonic() - self._last_open < self.reopen_interval:
                return None  # the last attempt was moments ago: wait before the next
            self._capture = self._open()
            self._failures = 0
        ok, frame = self._capture.read()
        if ok and frame is not None and frame.size > 0:
            self._failures = 0
            return frame
        self._failures += 1
        if self._failures >= self.max_failures:
            log.warning("camera: %d failed reads in a row; reopening", self._failures)
            self._capture.release()
            self._capture = None
        return None

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def encode_jpeg(frame: np.ndarray, quality: int = 85, max_side: int = 1600) -> tuple[bytes, int, int]:
    """JPEG bytes of a BGR frame, scaled down so its longer side is at most ``max_side``.

    Returns ``(data, width, height)`` of the encoded picture. Raises ``CameraError``.
    """
    if frame is None or frame.ndim not in (2, 3) or frame.size == 0:
        raise CameraError("no frame to encode")
    import cv2

    height, width = frame.shape[:2]
    longest = max(height, width)
    if max_side and longest > max_side:
        scale = max_side / longest
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
        frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    ok, buffer = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise CameraError("JPEG encoding failed")
    return buffer.tobytes(), width, height


def read_within(camera: object, timeout: float) -> np.ndarray | None:
    """One ``camera.read_frame()`` that gives up after ``timeout`` seconds (None then).

    A camera that stalls (a driver stuck in a read) must not hang whoever asked: the read
    runs on a daemon thread, which is left behind if it never returns. A zero-size or
    malformed frame is None too; an error is raised as the camera raised it.
    """
    import threading

    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["frame"] = camera.read_frame()  # type: ignore[attr-defined]
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=work, name="camera-read", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        log.warning("camera: a read did not return within %.1f s", timeout)
        return None
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    frame = box.get("frame")
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.size == 0:
        return None
    return frame
