"""A completed application's result on the receipt printer: a few words, then the picture.

Images (PNG, JPEG) are decoded, turned to grey, scaled to the paper's printable width in
dots (58 mm paper: 384 dots) and dithered to black and white; the printer gets them as a
raster (``EscposPrinter.picture``). PDFs are not rendered here: the kiosk carries no PDF
engine; the hall renders a PDF result's pages to images once (``hall/services/result_pages.py``)
and the kiosk prints each page. ``result_picture`` answers None for a PDF itself (from a hall
that renders no pages), and the kiosk says where to get the letter instead.
"""

from __future__ import annotations

import io
from typing import Any

from hardware.printer import EscposPrinter

PAPER_DOTS = 384  # 58 mm paper at 203 dpi
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
PRINTABLE = ("image/png", "image/jpeg")


def result_picture(data: bytes, media_type: str, dots: int = PAPER_DOTS) -> Any | None:
    """The result as a 1-bit PIL image ``dots`` wide, or None when it is not a picture we print."""
    if media_type not in PRINTABLE:
        return None
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                return None
            grey = opened.convert("L")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    height = max(1, round(grey.height * dots / grey.width))
    return grey.resize((dots, height), Image.Resampling.LANCZOS).convert("1")


def print_result(printer: EscposPrinter, lines: list[str], picture: Any) -> None:
    """The words (the item, the number), the picture, a cut."""
    printer.reset()
    printer.style(align="center", bold=True)
    for text in lines:
        printer.line(text)
    printer.style(align="center", bold=False)
    printer.picture(picture)
    printer.line("")
    printer.feed_and_cut()
    printer.flush()
