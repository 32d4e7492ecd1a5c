"""Reading QR codes and 1-D barcodes from pictures: libzbar with raw bytes, plus passes.

``BarcodeDecoder.decode(picture)`` turns the picture grey, then tries the passes of
``hardware.barcode_passes`` in order — the cheapest and most often useful first — and
returns the codes of the first pass that finds any. An easy picture costs one cheap
scan; a hard one (dim, blurred, small, slanted) costs more passes. Each pass is one
libzbar scan with QR binary mode on (``hardware.barcode_zbar``), so Chinese QR payloads
come back right whether they were written in UTF-8 or GBK.

``decode_bytes`` and ``decode_file`` accept what a person may hand the ``kiosk barcode``
command: anything that is not a picture, or a broken one, raises ``ImageUnreadable``
(the message names no file). A code's text can be personal (an ID number in a Code 128):
``Barcode``'s repr shows its type and length only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from hardware.barcode_passes import ALL_PASSES, DEFAULT_PASSES, MIN_QUALITY_1D, READ_PASSES, forget_frame
from hardware.barcode_zbar import ZbarScanner, decode_text
from hardware.errors import ImageUnreadable
from hardware.images import MAX_FILE_BYTES, MAX_PIXELS  # noqa: F401  (the one guarded picture loader)
from hardware.images import decode as read_picture
from hardware.images import load as load_picture

log = logging.getLogger(__name__)


@dataclass(frozen=True, repr=False)
class Barcode:
    """One code read from a picture: symbology (``QRCODE``, ``CODE128``, ``EAN13`` …) and text."""

    type: str
    text: str
    data: bytes = field(default=b"", compare=False)  # the raw bytes in the symbol

    def to_json(self) -> dict[str, str]:
        return {"type": self.type, "text": self.text}

    def __repr__(self) -> str:  # the text may be an ID number: never in a log line
        return f"Barcode(type={self.type!r}, text=<{len(self.text)} chars>)"

    __str__ = __repr__


@dataclass(frozen=True)
class DecodeResult:
    """What a decode found, with which pass (None when none found anything) and its cost."""

    codes: tuple[Barcode, ...]
    pass_name: str | None
    passes_tried: int
    ms: float


class BarcodeDecoder:
    """Finds codes in pictures; safe to share between threads (scans are serialised)."""

    def __init__(self, passes: Sequence[str] = DEFAULT_PASSES, scanner: ZbarScanner | None = None) -> None:
        unknown = [name for name in passes if name not in ALL_PASSES and name not in READ_PASSES]
        if unknown or not passes:
            raise ValueError(f"unknown or no passes: {unknown}; known: {sorted([*ALL_PASSES, *READ_PASSES])}")
        self.passes = tuple(passes)
        self._scanner = scanner or ZbarScanner()

    def decode(self, picture: np.ndarray) -> list[Barcode]:
        """The codes in a BGR, BGRA or greyscale picture (empty when none is found)."""
        return list(self.decode_detailed(picture).codes)

    def decode_detailed(self, picture: np.ndarray, passes: Sequence[str] | None = None) -> DecodeResult:
        """The codes and the pass that found them; ``passes`` (default: all of this decoder's)
        lets a live stream spread the costly passes over several frames."""
        start = time.perf_counter()
        gray = to_gray(picture)
        chosen = self.passes if passes is None else tuple(passes)
        try:
            return self._run(gray, chosen, start)
        finally:
            forget_frame()  # the passes' shared tensor (≈ 5 MB) is for this frame only

    def _run(self, gray: np.ndarray, chosen: tuple[str, ...], start: float) -> DecodeResult:
        for tried, name in enumerate(chosen, start=1):
            if name in READ_PASSES:
                read = READ_PASSES[name](gray)
                codes = [Barcode(type=kind, text=decode_text(data), data=data) for kind, data in read]
                if codes:
                    return DecodeResult(tuple(codes), name, tried, (time.perf_counter() - start) * 1000)
                continue
            made = ALL_PASSES[name](gray)
            for picture in made if isinstance(made, list) else [made]:
                codes = self._scan(picture, MIN_QUALITY_1D.get(name, 0))
                if codes:
                    return DecodeResult(tuple(codes), name, tried, (time.perf_counter() - start) * 1000)
        return DecodeResult((), None, len(chosen), (time.perf_counter() - start) * 1000)

    def _scan(self, gray: np.ndarray, min_quality_1d: int = 0) -> list[Barcode]:
        seen: set[tuple[str, bytes]] = set()
        codes = []
        for symbol in self._scanner.scan(gray):
            if symbol.type != "QRCODE" and symbol.quality < min_quality_1d:
                continue
            if (symbol.type, symbol.data) in seen:
                continue
            seen.add((symbol.type, symbol.data))
            codes.append(Barcode(type=symbol.type, text=decode_text(symbol.data), data=symbol.data))
        return codes

    def decode_bytes(self, data: bytes) -> list[Barcode]:
        """The codes in an encoded picture (JPEG, PNG, BMP, TIFF, WebP, GIF …)."""
        return self.decode(read_picture(data))

    def decode_file(self, path: str | Path) -> list[Barcode]:
        """The codes in a picture file; ``ImageUnreadable`` for anything else."""
        return self.decode(load_picture(path))

    def close(self) -> None:
        self._scanner.close()


def to_gray(picture: np.ndarray) -> np.ndarray:
    if not isinstance(picture, np.ndarray) or picture.size == 0:
        raise ImageUnreadable("no picture")
    if picture.dtype != np.uint8:
        if picture.dtype == np.uint16:
            picture = (picture >> 8).astype(np.uint8)
        else:
            raise ImageUnreadable(f"unsupported pixel type {picture.dtype}")
    if picture.ndim == 2:
        return picture
    if picture.ndim == 3 and picture.shape[2] == 3:
        return cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)
    if picture.ndim == 3 and picture.shape[2] == 4:
        return cv2.cvtColor(picture, cv2.COLOR_BGRA2GRAY)
    if picture.ndim == 3 and picture.shape[2] == 1:
        return picture[:, :, 0]
    raise ImageUnreadable(f"unsupported picture shape {picture.shape}")
