"""A page compressed for a slow village link: JPEG or WebP, chosen by measurement.

``encode_page`` scales the page so its longer side is at most ``max_side``, then tries
each allowed format at falling quality until the bytes fit ``target_bytes``; of the
encodings that fit, the one at the highest quality wins (the smaller on a tie), and
when none fits, the smallest. Black-and-white ``text`` pages are also tried as PNG,
which is often smallest for two colours. Returns ``(data, media_type, width, height)``.
"""

from __future__ import annotations

import cv2
import numpy as np

from hardware.docscan.errors import BadImage, EncodeFailed

FORMATS = ("jpeg", "webp")
MEDIA_TYPES = {"jpeg": "image/jpeg", "webp": "image/webp", "png": "image/png"}
QUALITIES = (85, 75, 65, 55, 45, 35)


def _encode(image: np.ndarray, fmt: str, quality: int) -> bytes:
    if fmt == "jpeg":
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality,
                                               cv2.IMWRITE_JPEG_OPTIMIZE, 1])
    elif fmt == "webp":
        ok, buf = cv2.imencode(".webp", image, [cv2.IMWRITE_WEBP_QUALITY, quality])
    else:
        ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 9,
                                               cv2.IMWRITE_PNG_BILEVEL, 1])
    if not ok:
        raise EncodeFailed(f"{fmt} encoding failed")
    return buf.tobytes()


def encode_page(page: np.ndarray, mode: str = "colour", target_bytes: int = 250_000,
                formats: tuple[str, ...] = FORMATS, max_side: int = 1754) -> tuple[bytes, str, int, int]:
    """``(data, media_type, width, height)`` of the page, as small as ``target_bytes`` allows."""
    if not isinstance(page, np.ndarray) or page.size == 0 or page.ndim not in (2, 3):
        raise BadImage("no page to encode")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"formats must be among {', '.join(FORMATS)}")
    h, w = page.shape[:2]
    if max_side and max(h, w) > max_side:
        scale = max_side / max(h, w)
        w, h = max(1, round(w * scale)), max(1, round(h * scale))
        page = cv2.resize(page, (w, h), interpolation=cv2.INTER_AREA)
    tries: list[tuple[int, int, str, bytes]] = []  # (quality, -size, fmt, data)
    if mode == "text" and page.ndim == 2:
        data = _encode(page, "png", 0)
        tries.append((100, -len(data), "png", data))
    for fmt in formats:
        for quality in QUALITIES:
            data = _encode(page, fmt, quality)
            tries.append((quality, -len(data), fmt, data))
            if len(data) <= target_bytes:
                break
    fitting = [t for t in tries if -t[1] <= target_bytes]
    chosen = max(fitting) if fitting else max(tries, key=lambda t: t[1])
    return chosen[3], MEDIA_TYPES[chosen[2]], w, h
