"""hall/console/attachments.py: the bytes decide how an attachment is served, never the kiosk's claim."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from hall.console.attachments import safe_attachment


def png(width: int = 40, height: int = 30, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), "white").save(out, "PNG")
    return out.getvalue()


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A tiny PNG whose header claims a huge picture (only the header matters)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def test_images_are_re_encoded_and_shown_inline():
    original = png() + b"<script>alert(1)</script>"  # trailing bytes after IEND
    safe = safe_attachment(original)
    assert (safe.media_type, safe.extension, safe.inline) == ("image/png", "png", True)
    assert b"<script" not in safe.body
    assert Image.open(io.BytesIO(safe.body)).size == (40, 30)
    jpeg = io.BytesIO()
    Image.new("RGB", (20, 20), "gray").save(jpeg, "JPEG")
    assert safe_attachment(jpeg.getvalue()).media_type == "image/jpeg"
    webp = io.BytesIO()
    Image.new("RGBA", (20, 20), "gray").save(webp, "WEBP")
    assert safe_attachment(webp.getvalue()).media_type == "image/png"
    assert safe_attachment(png(mode="P")).media_type == "image/png"


def test_html_svg_and_broken_images_are_downloads_of_a_harmless_type():
    for data in (b"<html><script>alert(1)</script></html>",
                 b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
                 b"\x89PNG\r\n\x1a\n<script>alert(1)</script>",  # magic bytes, then garbage
                 b""):
        safe = safe_attachment(data)
        assert (safe.media_type, safe.inline) == ("application/octet-stream", False)
        headers = safe.headers("x")
        assert headers["Content-Disposition"] == 'attachment; filename="x.bin"'
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_a_decompression_bomb_is_refused_before_decoding():
    safe = safe_attachment(bomb_png())
    assert safe.media_type == "application/octet-stream"


def test_pdf_is_sniffed_and_downloaded():
    safe = safe_attachment(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    assert (safe.media_type, safe.inline) == ("application/pdf", False)
    assert safe.headers("n")["Content-Disposition"] == 'attachment; filename="n.pdf"'
