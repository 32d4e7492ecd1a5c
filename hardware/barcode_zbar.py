"""libzbar, asked for raw bytes: one scan of one greyscale picture.

pyzbar loads libzbar and declares its functions; this module adds, through ctypes, the
one call pyzbar does not make: ``zbar_image_scanner_set_config(scanner, ZBAR_QRCODE,
ZBAR_CFG_BINARY, 1)``. With it libzbar hands QR data back as the bytes in the symbol
instead of guessing a text encoding from a list without GBK (HARDWARE.md, "Barcodes").
``decode_text`` then reads UTF-8 first and falls back to GB18030.

A ``ZbarScanner`` owns one libzbar image scanner and is safe to share between threads
(a lock serialises scans: libzbar's scanner is not re-entrant).
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

import numpy as np

from hardware.errors import BarcodeError

ZBAR_QRCODE = 64
ZBAR_CFG_ENABLE = 0
ZBAR_CFG_BINARY = 4
ZBAR_CFG_MIN_LEN = 0x20
ZBAR_I25 = 25
_Y800 = int.from_bytes(b"Y800", "little")  # 8-bit greyscale fourcc

# libzbar's symbology numbers -> the names pyzbar uses (and `kiosk barcode` prints).
SYMBOLOGY_NAMES = {
    8: "EAN8", 9: "UPCE", 10: "ISBN10", 12: "UPCA", 13: "EAN13", 14: "ISBN13",
    25: "I25", 34: "DATABAR", 35: "DATABAR_EXP", 38: "CODABAR", 39: "CODE39",
    57: "PDF417", 64: "QRCODE", 80: "SQCODE", 93: "CODE93", 128: "CODE128",
}
# Off: ISBN-10/13 repeat an EAN-13 as another type; the add-ons, composites and GS1
# DataBar are not met at a village counter and only add false reads (and DataBar's
# decoder prints assertion warnings on noisy pictures).
_DISABLED = (2, 5, 10, 14, 15, 34, 35)
# Interleaved 2 of 5 has no check character and libzbar accepts it from 6 digits: a short
# run of clutter (a striped cloth, a blurred Code 128's bars) decodes as one. Seen on the
# barcode benchmark (photo 10 of seed 20261128: a 6-digit I25 in the clutter of a
# motion-blurred Code 128). Real I25s (ITF-14 cartons) are longer.
I25_MIN_DIGITS = 10


@dataclass(frozen=True)
class RawSymbol:
    """One symbol as libzbar found it: symbology name, data bytes, quality, outline."""

    type: str
    data: bytes
    quality: int
    points: tuple[tuple[int, int], ...]


# Scripts a Chinese e-government or receipt code holds: ASCII, Latin-1 and Extended-A,
# general punctuation, CJK punctuation, kana, CJK ideographs (with extension A), fullwidth forms.
_PLAUSIBLE = ((0x20, 0x7E), (0xA0, 0x17F), (0x2000, 0x206F), (0x2100, 0x218F), (0x2460, 0x24FF),
              (0x3000, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xFF00, 0xFFEF))


def _plausible(text: str) -> bool:
    return all(ch in "\t\r\n" or any(lo <= ord(ch) <= hi for lo, hi in _PLAUSIBLE) for ch in text)


def decode_text(data: bytes) -> str:
    """Text of a symbol's bytes: UTF-8 (BOM dropped) when valid, else GB18030.

    A short GBK payload can also be valid UTF-8 by chance (GBK 一 = D2 BB = UTF-8 "һ",
    a Cyrillic letter): when the UTF-8 reading holds characters of scripts such codes
    never carry and the strict GB18030 reading holds none, the GB18030 reading wins.
    Anything left undecodable is replaced rather than raised.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")
    if text.isascii() or _plausible(text):
        return text
    try:
        other = data.decode("gb18030")
    except UnicodeDecodeError:
        return text
    return other if _plausible(other) else text


def _lib():
    try:
        from pyzbar import wrapper
    except ImportError as exc:  # pyzbar is in the lock; libzbar0 is a Debian package
        raise BarcodeError("pyzbar is not installed") from exc
    try:
        wrapper.load_libzbar()
    except Exception as exc:  # ImportError from zbar_library when libzbar0 is missing
        raise BarcodeError("libzbar cannot be loaded (is libzbar0 installed?)") from exc
    return wrapper


class ZbarScanner:
    """A libzbar image scanner with QR binary mode on; ``scan(gray)`` returns symbols."""

    def __init__(self) -> None:
        self._w = _lib()
        self._lock = threading.Lock()
        self._scanner = self._w.zbar_image_scanner_create()
        if not self._scanner:
            raise BarcodeError("libzbar could not create a scanner")
        set_config = self._w.zbar_image_scanner_set_config
        for symbology in _DISABLED:
            set_config(self._scanner, symbology, ZBAR_CFG_ENABLE, 0)
        set_config(self._scanner, ZBAR_I25, ZBAR_CFG_MIN_LEN, I25_MIN_DIGITS)
        if set_config(self._scanner, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1) != 0:
            raise BarcodeError("this libzbar cannot return raw QR bytes (ZBAR_CFG_BINARY)")

    def scan(self, gray: np.ndarray) -> list[RawSymbol]:
        """Every symbol in an H×W uint8 greyscale picture, in libzbar's order."""
        if gray.ndim != 2 or gray.dtype != np.uint8 or gray.size == 0:
            raise BarcodeError("zbar scans 2-D uint8 pictures only")
        gray = np.ascontiguousarray(gray)
        height, width = gray.shape
        w = self._w
        with self._lock:
            if self._scanner is None:
                raise BarcodeError("scanner is closed")
            image = w.zbar_image_create()
            try:
                w.zbar_image_set_format(image, _Y800)
                w.zbar_image_set_size(image, width, height)
                w.zbar_image_set_data(image, gray.ctypes.data, gray.size, None)
                if w.zbar_scan_image(self._scanner, image) < 0:
                    raise BarcodeError("libzbar failed to scan the picture")
                return list(self._symbols(image))
            finally:
                w.zbar_image_destroy(image)

    def _symbols(self, image):
        w = self._w
        symbol = w.zbar_image_first_symbol(image)
        while symbol:
            length = w.zbar_symbol_get_data_length(symbol)
            data = ctypes.string_at(w.zbar_symbol_get_data(symbol), length)
            kind = symbol.contents.type
            points = tuple(
                (w.zbar_symbol_get_loc_x(symbol, i), w.zbar_symbol_get_loc_y(symbol, i))
                for i in range(w.zbar_symbol_get_loc_size(symbol))
            )
            yield RawSymbol(
                type=SYMBOLOGY_NAMES.get(kind, f"ZBAR{kind}"),
                data=data,
                quality=int(w.zbar_symbol_get_quality(symbol)),
                points=points,
            )
            symbol = w.zbar_symbol_next(symbol)

    def close(self) -> None:
        with self._lock:
            if self._scanner is not None:
                self._w.zbar_image_scanner_destroy(self._scanner)
                self._scanner = None

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        try:
            self.close()
        except Exception:
            pass
