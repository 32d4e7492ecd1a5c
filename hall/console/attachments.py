"""What the console may show of an attachment a kiosk sent: re-encoded images, sniffed PDFs.

A kiosk is hostile to the hall (it may be stolen or rewritten), and so is every byte it
seals. The media type in the sealed document is only a claim: an attachment "declared"
``text/html`` or ``image/svg+xml`` would run script in the clerk's session if the
console served it as such. So the console never serves the kiosk's bytes with the
kiosk's type. It looks at the bytes themselves (magic numbers) and:

* a raster image (PNG, JPEG, WebP, GIF, TIFF, BMP) is decoded by Pillow under a pixel
  limit (decompression bombs are refused before decoding) and re-encoded as PNG or
  JPEG: the clerk's browser only ever parses an image that Pillow itself wrote, with no
  metadata and no trailing bytes;
* a PDF (``%PDF-`` at the start) is served as ``application/pdf``, as a download
  (``Content-Disposition: attachment``) so that it opens in a viewer, not in the
  console's origin;
* anything else is offered as a download of ``application/octet-stream``, which no
  browser renders; nothing is lost, nothing runs.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# A scanned A4 page at 300 dpi is ~8.7 megapixels; 40 MP leaves room for 600 dpi colour.
MAX_PIXELS = 40_000_000
IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n",  # PNG
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a", b"GIF89a",
    b"II*\x00", b"MM\x00*",  # TIFF
    b"BM",  # BMP
)
PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class SafeAttachment:
    """Bytes and headers that are safe to send to a clerk's browser."""

    body: bytes
    media_type: str  # image/png | image/jpeg | application/pdf | application/octet-stream
    extension: str  # png | jpg | pdf | bin
    inline: bool  # shown in the page (images) or only downloaded

    def headers(self, name: str) -> dict[str, str]:
        disposition = "inline" if self.inline else "attachment"
        return {
            "Content-Disposition": f'{disposition}; filename="{name}.{self.extension}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        }


def looks_like_image(data: bytes) -> bool:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return True
    return data.startswith(IMAGE_MAGIC)


def reencode_image(data: bytes, max_pixels: int = MAX_PIXELS) -> tuple[bytes, str] | None:
    """(new bytes, "png" | "jpg"), or None when Pillow cannot decode it safely."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width <= 0 or height <= 0 or width * height > max_pixels:
                    return None  # refused from the header, before any pixel is decoded
                image.seek(0)
                was_jpeg = image.format == "JPEG"
                image.load()
                if image.mode not in ("RGB", "RGBA", "L", "LA"):
                    image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info
                                          else "RGB")
                out = io.BytesIO()
                if was_jpeg and image.mode in ("RGB", "L"):
                    image.save(out, "JPEG", quality=90)
                    return out.getvalue(), "jpg"
                image.save(out, "PNG")
                return out.getvalue(), "png"
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            OSError, SyntaxError, ValueError, EOFError, MemoryError):
        return None


def safe_attachment(data: bytes, max_pixels: int = MAX_PIXELS) -> SafeAttachment:
    """Decide from the bytes (never from a declared type) how the console serves them."""
    if looks_like_image(data):
        image = reencode_image(data, max_pixels)
        if image is not None:
            body, extension = image
            media_type = "image/jpeg" if extension == "jpg" else "image/png"
            return SafeAttachment(body, media_type, extension, inline=True)
    if data.startswith(PDF_MAGIC):
        return SafeAttachment(data, "application/pdf", "pdf", inline=False)
    return SafeAttachment(data, "application/octet-stream", "bin", inline=False)
