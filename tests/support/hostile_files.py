"""Files an attacker hands the kiosk: pictures that lie about their size, and the like.

``png_bomb(path, w, h)`` writes a valid 1-bit greyscale PNG of ``w``×``h`` pixels whose
rows are all zero: 30000×30000 is about 110 KB on disk and 2.7 GB once decoded to BGR.
Written row by row through a streaming compressor, so making it costs no memory either.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bomb(path: Path, width: int = 30000, height: int = 30000) -> Path:
    row = b"\x00" + bytes((width + 7) // 8)  # filter byte "none", then the 1-bit pixels
    packer = zlib.compressobj(9)
    parts = [packer.compress(row) for _ in range(height)]
    parts.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(parts))
                     + _chunk(b"IEND", b""))
    return path
