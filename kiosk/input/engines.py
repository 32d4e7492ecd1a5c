"""Loads the input engines once, off the UI thread, and tells when they are ready.

The pinyin index takes seconds to build (jieba's 349 k words); Zinnia's model is checked
here and mapped at the first strokes (``HandwritingRecognizer.open(deferred=True)``): neither
may hold up the first screen. ``InputEngines.start()`` loads both on a
``workers.BackgroundLoop`` whose single pass ends the loop; the screens read ``pinyin`` /
``handwriting`` (None until ready, or for good when that engine is missing)
and may pass ``on_ready`` to hear when loading is over (called on the loader thread:
a Kivy caller moves it to the UI thread with ``Clock.schedule_once``).

An engine that cannot load is logged once by type and left None: the keyboard or pad
that needs it is hidden, the other still works (message keys ``input.*_unavailable``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kiosk.input.handwriting import HandwritingRecognizer, HandwritingUnavailable, character_frequencies
from kiosk.input.pinyin import PinyinIndex, PinyinUnavailable
from workers.loop import BackgroundLoop, PassResult

log = logging.getLogger(__name__)


def _recognizer_with_prior() -> HandwritingRecognizer:
    try:
        frequencies: dict[str, int] | None = character_frequencies()
    except (ImportError, OSError) as exc:  # no jieba: Zinnia's own order
        log.warning("no character frequencies for handwriting (%s)", type(exc).__name__)
        frequencies = None
    return HandwritingRecognizer.open(frequencies=frequencies, deferred=True)  # mapped at the first strokes


class InputEngines:
    def __init__(self, on_ready: Callable[[InputEngines], None] | None = None,
                 load_pinyin: Callable[[], PinyinIndex] = PinyinIndex.load,
                 load_handwriting: Callable[[], HandwritingRecognizer] | None = None) -> None:
        self.pinyin: PinyinIndex | None = None
        self.handwriting: HandwritingRecognizer | None = None
        self.problems: dict[str, str] = {}  # engine -> message key, for the screens
        self.ready = threading.Event()
        self._started = False
        self._on_ready = on_ready
        self._load_pinyin = load_pinyin
        self._load_handwriting = load_handwriting or _recognizer_with_prior
        self._loop = BackgroundLoop("input-engines", self._load, interval_s=1, lower_priority=True)

    def start(self) -> None:
        """Start loading; later calls do nothing (the engines load once per process)."""
        if not self._started:
            self._started = True
            self._loop.start()

    def stop(self) -> None:
        self._loop.stop()
        if self.handwriting is not None:
            self.handwriting.close()

    def _load(self) -> PassResult:
        try:
            self.handwriting = self._load_handwriting()
        except HandwritingUnavailable as exc:
            log.warning("handwriting input unavailable: %s", exc)
            self.problems["handwriting"] = exc.message_key
        try:
            index = self._load_pinyin()
            index.candidates("a")  # sorts the index now rather than at the first key
            self.pinyin = index
        except PinyinUnavailable as exc:
            log.warning("pinyin input unavailable: %s", exc)
            self.problems["pinyin"] = exc.message_key
        self.ready.set()
        if self._on_ready is not None:
            self._on_ready(self)
        return BackgroundLoop.STOP
