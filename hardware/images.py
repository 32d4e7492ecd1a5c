"""Opening picture files and buffers that someone else made: the one guarded loader.

Every picture the kiosk did not take itself — a file handed to ``kiosk barcode``,
``kiosk scan``, ``kiosk submit``, a replay camera's frames — comes through here, because
a picture is a decompression bomb until its header says otherwise: a 100 KB PNG can
declare 30000×30000 pixels and cost 2.7 GB once decoded. So, in order:

1. ``read_bounded(path, max_bytes)`` opens only a regular file (no FIFO, device such as
   ``/dev/zero``, folder or socket: opened non-blocking, checked with ``fstat``) and reads
   at most ``max_bytes + 1`` bytes, so a file that grows or lies about its size cannot
   make the kiosk read more than the cap.
2. ``probe(data)`` reads the header only (Pillow's lazy ``Image.open``: size and format,
   no pixels) and refuses formats outside ``FORMATS`` and anything over ``max_pixels``.
3. ``decode(data)`` decodes with OpenCV (Pillow for what OpenCV cannot, e.g. GIF) only
   after the probe passed. As a second wall, ``OPENCV_IO_MAX_IMAGE_PIXELS`` is set before
   OpenCV is first imported (OpenCV reads it once, when it loads), so even a picture
   whose header fooled Pillow cannot make OpenCV allocate more than ``MAX_PIXELS``.

Errors are ``hardware.errors.ImageUnreadable``; messages never name the file (a file
name can carry a person's name). Callers in other error trees translate at their
boundary (``kiosk scan`` → ``BadImage``, ``kiosk submit`` → ``PaperFileError``).
"""

from __future__ import annotations

import io
import logging
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

from hardware.errors import ImageUnreadable

MAX_PIXELS = 40_000_000  # a 40 MP photo is already far more than a page or a code needs
MAX_FILE_BYTES = 64 * 1024 * 1024  # the protocol's largest upload

# Set before the first ``import cv2`` anywhere in the process wins; kiosk.cli imports this
# module first. setdefault: an operator who set a lower limit keeps it.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))

import numpy as np  # noqa: E402

# OpenCV itself (~0.1 s, more on a busy kiosk) is imported where a picture is decoded, not with
# this module: the kiosk's start-up imports this module and needs no decoding before its first frame.

log = logging.getLogger(__name__)

# Pillow format name -> media type. Only raster formats with simple, well-tested decoders;
# no SVG, no PDF, no formats that can reference other files.
FORMATS: dict[str, str] = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "GIF": "image/gif",
}


@dataclass(frozen=True)
class ImageInfo:
    """What a picture's header says: Pillow's format name, media type and size in pixels."""

    format: str
    media_type: str
    width: int
    height: int


def read_bounded(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, at most ``max_bytes``; ``ImageUnreadable`` otherwise.

    Opened with ``O_NONBLOCK`` so that a FIFO cannot hang the open, then refused unless
    ``fstat`` says regular file; the read stops at ``max_bytes + 1`` whatever the size says.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError as exc:
        raise ImageUnreadable("no such file") from exc
    except IsADirectoryError as exc:
        raise ImageUnreadable("a folder, not a file") from exc
    except OSError as exc:
        raise ImageUnreadable(f"cannot be read ({exc.strerror or type(exc).__name__})") from exc
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ImageUnreadable("a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise ImageUnreadable("not a regular file (a device, pipe or socket)")
        if info.st_size > max_bytes:
            raise ImageUnreadable(f"file too large ({info.st_size} bytes, at most {max_bytes})")
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1024 * 1024, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:
            raise ImageUnreadable(f"file too large (more than {max_bytes} bytes)")
        return b"".join(chunks)
    except OSError as exc:
        raise ImageUnreadable(f"cannot be read ({exc.strerror or type(exc).__name__})") from exc
    finally:
        os.close(fd)


def probe(data: bytes, max_pixels: int = MAX_PIXELS) -> ImageInfo:
    """The header of an encoded picture, refused (``ImageUnreadable``) if not allowed or too big."""
    if not data:
        raise ImageUnreadable("empty file")
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # we judge the size ourselves, below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as header:  # lazy: reads the header, no pixels
                width, height = header.size
                kind = header.format or "unknown"
    except Image.DecompressionBombError as exc:
        raise ImageUnreadable(f"picture of impossible size (over {Image.MAX_IMAGE_PIXELS} px)") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageUnreadable(f"not a picture ({type(exc).__name__})") from exc
    if kind not in FORMATS:
        raise ImageUnreadable(f"{kind} pictures are not accepted")
    if width <= 0 or height <= 0 or width * height > max_pixels:
        raise ImageUnreadable(f"{kind} picture of impossible size {width}x{height} (at most {max_pixels} px)")
    return ImageInfo(kind, FORMATS[kind], width, height)


def decode(data: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode picture bytes to BGR after ``probe``; ``ImageUnreadable`` for anything else."""
    import cv2

    info = probe(data, max_pixels)
    picture = None
    try:
        picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:  # e.g. OpenCV's own pixel limit
        picture = None
    if picture is None:
        picture = _pillow_decode(data, info.format)
    if picture is None or picture.size == 0:
        raise ImageUnreadable(f"broken {info.format} picture")
    if picture.shape[0] * picture.shape[1] > max_pixels:  # the header lied to Pillow
        raise ImageUnreadable(f"{info.format} picture larger than its header said")
    return picture


def load(path: str | Path, max_pixels: int = MAX_PIXELS, max_bytes: int = MAX_FILE_BYTES) -> np.ndarray:
    """The picture in the file at ``path`` (BGR): bounded read, header check, then decode."""
    return decode(read_bounded(path, max_bytes), max_pixels)


def load_or_none(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray | None:
    """``load``, or None when the file is not a picture it accepts (for loops that skip such files)."""
    try:
        return load(path, max_pixels)
    except ImageUnreadable:
        return None


def _pillow_decode(data: bytes, kind: str) -> np.ndarray | None:
    import cv2
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            rgb = np.asarray(image.convert("RGB"))
    except Exception as exc:  # Pillow raises many types for broken data
        log.info("picture (%s) could not be decoded: %s", kind, type(exc).__name__)
        return None
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
