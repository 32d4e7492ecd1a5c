"""Labelled real photos of pages, for the benchmark and the scoring fit (``--photos DIR``).

A folder holds the pictures and one ``labels.json`` (format in ``docs/scanning.md``)::

    {"photos": [
        {"file": "0001.jpg", "corners": [[x, y], [x, y], [x, y], [x, y]], "background": "desk"},
        {"file": "0002.jpg", "corners": null}
    ]}

``corners`` are the page's four corners in the picture's own pixels, in any order (they are
put clockwise from the top-left here), or null for a photo with no page; ``background``
is optional (the benchmark reports by it; "photo" when absent). A corner may lie outside
the picture (a page partly off the frame). Every mistake in the file is reported with the
entry it is in, as ``PhotoSetError``; a picture that cannot be read is one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hardware.barcode import load_picture
from hardware.docscan.detect import order_corners
from hardware.errors import ImageUnreadable

LABELS = "labels.json"


class PhotoSetError(ValueError):
    """The labelled folder is not as documented (the message says where)."""


@dataclass(frozen=True)
class Scene:
    """Same fields as the generators' scenes, so the benchmark and the fit take either."""

    image: np.ndarray
    quad: np.ndarray | None
    background: str
    effects: tuple[str, ...] = ()
    file: str = ""


def _corners(value: object, where: str) -> np.ndarray | None:
    if value is None:
        return None
    try:
        quad = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PhotoSetError(f"{where}: corners must be four [x, y] pairs of numbers") from exc
    if quad.shape != (4, 2) or not np.isfinite(quad).all():
        raise PhotoSetError(f"{where}: corners must be four [x, y] pairs of numbers")
    return order_corners(quad.astype(np.float32))


def load_photos(folder: str | Path) -> list[Scene]:
    """Every labelled photo in ``folder``, in the order of ``labels.json``."""
    folder = Path(folder)
    try:
        data = json.loads((folder / LABELS).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PhotoSetError(f"no {LABELS} in the folder") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PhotoSetError(f"{LABELS} cannot be read: {exc}") from exc
    entries = data.get("photos") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise PhotoSetError(f'{LABELS} must be an object with a "photos" list')
    scenes = []
    for i, entry in enumerate(entries):
        where = f"photos[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str) or "corners" not in entry:
            raise PhotoSetError(f'{where}: needs "file" (a name) and "corners" (four pairs or null)')
        name = entry["file"]
        path = (folder / name).resolve()
        if folder.resolve() not in path.parents:
            raise PhotoSetError(f"{where}: the file must lie in the folder")
        quad = _corners(entry["corners"], where)
        background = entry.get("background", "photo")
        if not isinstance(background, str) or not background:
            raise PhotoSetError(f"{where}: background must be a word")
        try:
            image = load_picture(path)
        except ImageUnreadable as exc:
            raise PhotoSetError(f"{where}: {exc}") from exc
        scenes.append(Scene(image=image, quad=quad, background=background, file=name))
    return scenes
