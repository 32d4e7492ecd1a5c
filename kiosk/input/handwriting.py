"""Handwriting recognition: finger strokes on a pad -> ranked Chinese characters.

Zinnia (``libzinnia0``) does the recognising with the Simplified Chinese model from
``tegaki-zinnia-simplified-chinese``. We bind its small C API with ``ctypes`` rather than
a compiled extension: the library is a system package, its API is a dozen plain
functions, and ctypes needs no build step on the kiosk.

    recognizer = HandwritingRecognizer.open()          # maps the model once (≈ 6 ms, 27 MB)
    recognizer.candidates(strokes, width=400, height=400, limit=10)
    -> [Candidate("张", 0.91), Candidate("弓", 0.42), ...]

A stroke is a list of ``(x, y)`` points in pad coordinates (y grows downwards, as in
Zinnia; a Kivy widget flips its y before calling).

With ``frequencies`` (character -> corpus count, e.g. ``character_frequencies()`` from
jieba's dictionary) Zinnia's 20 best are re-ranked by ``score + PRIOR_WEIGHT *
log10(count + 1)``: a villager writes common characters far more often than rare ones
that look alike. The weight was chosen on characters 300-650 of the frequency list and
measured on the first 300 (benchmarks/handwriting.py: top-5 0.84 -> 0.88). Strokes that end in
辶, which the model learned written first, are asked in that order too (``kiosk.input.stroke_order``;
each character keeps its better score). The recognizer is safe to share
between threads: a lock serialises calls into the C library, whose thread safety is
not documented.

The model is a 27 MB file that Zinnia maps and reads whole when it opens it: clean,
file-backed pages (shared with the page cache, which the kernel may drop and read again),
but counted in the app's resident memory from then on. ``open(deferred=True)`` checks the
library and the file and maps the model at the first strokes to recognise, so a kiosk
whose villagers never write by hand never maps it (the first character waits ≈ 6 ms more).

Errors: ``HandwritingUnavailable`` (library or model missing: the pad is hidden and
pinyin stays) is a ``KioskError`` with a message key a person may see.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.input.stroke_order import model_orders

MODEL_PATH = Path("/usr/share/tegaki/models/zinnia/handwriting-zh_CN.model")
_LIBRARY_NAMES = ("libzinnia.so.0", "zinnia")

log = logging.getLogger(__name__)

PRIOR_WEIGHT = 0.3
PRIOR_POOL = 20  # Zinnia candidates re-ranked when a prior is given

Point = tuple[float, float]
Stroke = Sequence[Point]


class HandwritingUnavailable(KioskError):
    """Zinnia or its Chinese model is not installed; handwriting input cannot be offered."""

    message_key = "input.handwriting_unavailable"


@dataclass(frozen=True)
class Candidate:
    """One recognised character and Zinnia's score for it (higher is better)."""

    text: str
    score: float


def _load_library() -> ctypes.CDLL:
    for name in _LIBRARY_NAMES:
        path = ctypes.util.find_library(name) if "." not in name else name
        if not path:
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        _declare(lib)
        return lib
    raise HandwritingUnavailable("libzinnia not found (Debian package libzinnia0)")


def _declare(lib: ctypes.CDLL) -> None:
    """Argument and result types, so ctypes neither truncates pointers nor guesses."""
    vp, sz, c_int = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int
    table = {
        "zinnia_recognizer_new": ([], vp),
        "zinnia_recognizer_open": ([vp, ctypes.c_char_p], c_int),
        "zinnia_recognizer_strerror": ([vp], ctypes.c_char_p),
        "zinnia_recognizer_classify": ([vp, vp, sz], vp),
        "zinnia_recognizer_destroy": ([vp], None),
        "zinnia_character_new": ([], vp),
        "zinnia_character_clear": ([vp], None),
        "zinnia_character_set_width": ([vp, sz], None),
        "zinnia_character_set_height": ([vp, sz], None),
        "zinnia_character_add": ([vp, sz, c_int, c_int], c_int),
        "zinnia_character_destroy": ([vp], None),
        "zinnia_result_value": ([vp, sz], ctypes.c_char_p),
        "zinnia_result_score": ([vp, sz], ctypes.c_float),
        "zinnia_result_size": ([vp], sz),
        "zinnia_result_destroy": ([vp], None),
    }
    for name, (argtypes, restype) in table.items():
        function = getattr(lib, name)
        function.argtypes = argtypes
        function.restype = restype


def _open_model(lib: ctypes.CDLL, model: Path) -> int:
    recognizer = lib.zinnia_recognizer_new()
    if not lib.zinnia_recognizer_open(recognizer, str(model).encode()):
        reason = (lib.zinnia_recognizer_strerror(recognizer) or b"").decode(errors="replace")
        lib.zinnia_recognizer_destroy(recognizer)
        raise HandwritingUnavailable(f"cannot open {model}: {reason}")
    return int(recognizer)


class HandwritingRecognizer:
    """One loaded Zinnia model; ``candidates`` may be called from any thread."""

    def __init__(self, lib: ctypes.CDLL, recognizer: int | None,
                 frequencies: Mapping[str, int] | None = None, other_orders: bool = True,
                 model: Path | None = None) -> None:
        self._lib = lib
        self._frequencies = frequencies
        self._other_orders = other_orders  # False: only the order written (the benchmark's "before")
        self._recognizer: int | None = recognizer
        self._model = model if recognizer is None else None  # opened at the first strokes
        self._broken = False
        self._character = lib.zinnia_character_new()
        self._lock = threading.Lock()

    @classmethod
    def open(cls, model: Path = MODEL_PATH, frequencies: Mapping[str, int] | None = None,
             other_orders: bool = True, deferred: bool = False) -> HandwritingRecognizer:
        lib = _load_library()
        if not Path(model).is_file():
            raise HandwritingUnavailable(
                f"{model} not found (Debian package tegaki-zinnia-simplified-chinese)")
        if deferred:
            return cls(lib, None, frequencies, other_orders, model=Path(model))
        return cls(lib, _open_model(lib, Path(model)), frequencies, other_orders)

    @property
    def model_mapped(self) -> bool:
        """Whether the model is open (mapped) now."""
        return self._recognizer is not None

    def candidates(self, strokes: Sequence[Stroke], width: float, height: float,
                   limit: int = 10) -> list[Candidate]:
        """Ranked characters for ``strokes`` drawn on a ``width`` x ``height`` pad.

        Empty strokes are skipped; no strokes gives no candidates. Points outside the
        pad are clamped to it (a finger slides off the edge).
        """
        strokes = [stroke for stroke in strokes if len(stroke) > 0]
        if not strokes or limit <= 0:
            return []
        others = model_orders(strokes) if self._other_orders else []
        if self._frequencies is None and not others:
            return self._classify(strokes, width, height, limit)
        size = max(limit, PRIOR_POOL) if self._frequencies is not None else limit
        best: dict[str, Candidate] = {}
        for order in [strokes, *others]:  # each character's better score over the orders asked
            for candidate in self._classify(order, width, height, size):
                kept = best.get(candidate.text)
                if kept is None or candidate.score > kept.score:
                    best[candidate.text] = candidate
        pool = sorted(best.values(), key=lambda c: -c.score)[:size]
        if self._frequencies is not None:
            freq = self._frequencies
            pool.sort(key=lambda c: -(c.score + PRIOR_WEIGHT * math.log10(freq.get(c.text, 0) + 1)))
        return pool[:limit]

    def _classify(self, strokes: Sequence[Stroke], width: float, height: float,
                  limit: int) -> list[Candidate]:
        w, h = max(1, round(width)), max(1, round(height))
        lib = self._lib
        with self._lock:
            if self._recognizer is None and self._model is not None:
                model, self._model = self._model, None
                try:
                    self._recognizer = _open_model(lib, model)
                except HandwritingUnavailable as exc:  # the file was there at open(): the pad shows
                    log.warning("handwriting model unusable: %s", exc)  # no candidates, not a crash
                    self._broken = True
            if self._broken:
                return []
            if self._recognizer is None:
                raise HandwritingUnavailable("recognizer closed")
            character = self._character
            lib.zinnia_character_clear(character)
            lib.zinnia_character_set_width(character, w)
            lib.zinnia_character_set_height(character, h)
            for index, stroke in enumerate(strokes):
                for x, y in stroke:
                    px = min(max(round(x), 0), w)
                    py = min(max(round(y), 0), h)
                    lib.zinnia_character_add(character, index, px, py)
            result = lib.zinnia_recognizer_classify(self._recognizer, character, limit)
            if not result:
                return []
            try:
                return [
                    Candidate(lib.zinnia_result_value(result, i).decode("utf-8", errors="replace"),
                              float(lib.zinnia_result_score(result, i)))
                    for i in range(lib.zinnia_result_size(result))
                ]
            finally:
                lib.zinnia_result_destroy(result)

    def close(self) -> None:
        with self._lock:
            self._model = None
            if self._character is not None:
                self._lib.zinnia_character_destroy(self._character)
                self._character = None
            if self._recognizer is not None:
                self._lib.zinnia_recognizer_destroy(self._recognizer)
                self._recognizer = None

    def __enter__(self) -> HandwritingRecognizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def character_frequencies() -> dict[str, int]:
    """Single characters and their counts in jieba's dictionary (about half a second)."""
    from kiosk.input.pinyin import jieba_words

    return {word: count for word, count in jieba_words() if len(word) == 1}
