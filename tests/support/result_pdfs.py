"""PDFs for the result tests, made here with Pillow's PDF writer (no file shipped, nothing fetched).

``letter_pdf(pages)`` is a small real decision letter, one line of large text a page;
``BROKEN_PDF`` starts like a PDF and is none; ``letter_pdf(500)`` is the file too long to print.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

BROKEN_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def letter_pdf(pages: int = 1, size: tuple[int, int] = (595, 842)) -> bytes:
    """A PDF of ``pages`` A4 pages (72 dpi images), "DECISION n/N" in big black letters on each."""
    font = ImageFont.load_default(size=48) if pages <= 20 else None
    images = []
    for number in range(pages):
        page = Image.new("L", size if pages <= 20 else (60, 85), 255)
        if font is not None:
            draw = ImageDraw.Draw(page)
            draw.text((60, 80), f"DECISION {number + 1}/{pages}", fill=0, font=font)
            draw.rectangle((60, 200, size[0] - 60, 260), fill=0)
        images.append(page)
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:], resolution=72.0)
    return buffer.getvalue()
