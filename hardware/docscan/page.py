"""One frame to one finished page: find (or take) the outline, straighten, clean, compress."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hardware.docscan.detect import check_frame, detect_page
from hardware.docscan.encode import FORMATS, encode_page
from hardware.docscan.enhance import enhance
from hardware.docscan.rectify import rectify


@dataclass(frozen=True)
class ScannedPage:
    data: bytes
    media_type: str
    width: int
    height: int
    found: bool  # False: no outline was found and the whole picture was kept


def scan_page(frame: np.ndarray, quad: np.ndarray | None = None, *, mode: str = "colour",
              paper: str = "", long_side: int = 1754, target_bytes: int = 250_000,
              formats: tuple[str, ...] = FORMATS) -> ScannedPage:
    """The page in ``frame``; ``quad`` when the outline is known already. Raises ``ScanError``."""
    frame = check_frame(frame)
    if quad is None:
        found = detect_page(frame)
        quad = None if found is None else found.quad
    if quad is None:  # taken by hand with no outline: keep the whole picture, cleaned up
        page = enhance(frame, mode) if mode != "text" else enhance(frame, "grey")
        data, media, w, h = encode_page(page, mode="colour", target_bytes=target_bytes, formats=formats,
                                        max_side=long_side)
        return ScannedPage(data, media, w, h, found=False)
    page = enhance(rectify(frame, quad, size=paper or None, long_side=long_side), mode)
    data, media, w, h = encode_page(page, mode=mode, target_bytes=target_bytes, formats=formats,
                                    max_side=long_side)
    return ScannedPage(data, media, w, h, found=True)
