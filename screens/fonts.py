"""Close the font faces no label on display uses (Kivy's SDL2 text provider keeps every one it opened).

Kivy's SDL2 text provider opens the font once per (size, bold, …) and keeps the face open in a
module-level cache until 64 are open; one size of the Simplified-Chinese Noto face costs
≈ 2.5 MB of the app's memory (FreeType reads the CFF font as a stream and copies its
subroutines per face: docs/scanning.md, "The capture screen without the screens behind it").
The walk to the capture screen opens seven sizes more than the home screen (the catalog's,
the guide's and the form's), which stayed open while the capture screen showed and the
screens that used them were dropped (≈ 17 MB).

The cache is a ``cdef dict`` of the compiled module ``kivy.core.text._text_sdl2``, not
reachable from Python by name. ``font_cache`` finds it once: the module's own data pages hold
the pointers to its two module-level containers (the dict of open faces and the list of their
ids, oldest first); each word there that points at a dict or a list is checked (its type, and
a dict whose values are all the module's ``_TTFContainer`` and a list holding exactly its keys)
before it is used, so any other layout (another Kivy, another provider) finds nothing and
nothing is closed. Deleting an entry closes the face (``_TTFContainer.__dealloc__`` calls
``TTF_CloseFont``); a label that needs the size again opens it again (a few ms), as Kivy itself
does for a face it let go at 64.

All text is drawn on the UI thread, which is where ``close_unused`` is called.
"""

from __future__ import annotations

import bisect
import ctypes
import logging
import os
import sys
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

MODULE = "kivy.core.text._text_sdl2"
WORD = ctypes.sizeof(ctypes.c_void_p)

# The part of ``.bss`` past the file's last page is a few pages at most (Kivy 2.3's module: 1.2 KB
# of .bss in all). The kernel merges an anonymous mapping made later right after it into the same
# region — in a long-lived process one of hundreds of MB — and reading that word by word took
# 76 s of CPU in a test worker: only this much of it is read.
BSS_TAIL_MAX = 64 * 1024

_found: tuple[dict[str, Any], list[str]] | None = None
_looked = False


def _mappings() -> list[tuple[int, int, str, str]]:
    """(start, end, permissions, path) of each of the process's mappings, in address order."""
    out = []
    with open("/proc/self/maps", encoding="utf-8") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            start, end = (int(v, 16) for v in fields[0].split("-"))
            out.append((start, end, fields[1], fields[5].strip() if len(fields) > 5 else ""))
    return out


def _data_ranges(path: str, maps: list[tuple[int, int, str, str]]) -> list[tuple[int, int]]:
    """The module's writable pages: its file's rw mappings and the start of the anonymous one right
    after each (where the loader puts the part of ``.bss`` beyond the file's last page; at most
    ``BSS_TAIL_MAX`` of it)."""
    ranges = []
    for i, (start, end, perms, where) in enumerate(maps):
        if where == path and perms.startswith("rw"):
            ranges.append((start, end))
            after = maps[i + 1] if i + 1 < len(maps) else None
            if after is not None and after[0] == end and not after[3] and after[2].startswith("rw"):
                ranges.append((end, min(after[1], end + BSS_TAIL_MAX)))
    return ranges


def _object_at(address: int, kind: type, readable: list[tuple[int, int]], starts: list[int]) -> Any:
    """The object of type ``kind`` at ``address``, or None: only read where the process has readable
    memory (``readable``, in address order; ``starts``: their starts), and taken as an object only
    when its header names ``kind`` with a sane reference count."""
    i = bisect.bisect_right(starts, address) - 1
    if address % WORD or i < 0 or address + 2 * WORD > readable[i][1]:
        return None
    refcount = ctypes.c_ssize_t.from_address(address).value
    type_address = ctypes.c_void_p.from_address(address + WORD).value
    if type_address != id(kind) or not 0 < refcount < 1 << 20:
        return None
    return ctypes.cast(address, ctypes.py_object).value


def font_cache() -> tuple[dict[str, Any], list[str]] | None:
    """Kivy's open faces by id and their ids oldest first (its own objects), or None when not found."""
    global _found, _looked
    if _looked:
        return _found
    module = sys.modules.get(MODULE)
    if module is None or not getattr(module, "__file__", None):
        return None  # not loaded yet (no text drawn) or another provider: look again later
    _looked = True
    try:
        _found = _find(module)
    except (OSError, ValueError) as exc:  # /proc unreadable: leave the fonts open
        log.info("font cache not found (%s)", type(exc).__name__)
    if _found is None:
        log.info("font cache not found: fonts stay open as Kivy keeps them")
    return _found


def _find(module: Any) -> tuple[dict[str, Any], list[str]] | None:
    container = getattr(module, "_TTFContainer", None)
    if container is None:
        return None
    maps = _mappings()
    readable = [(s, e) for s, e, perms, _ in maps if perms.startswith("r")]
    starts = [s for s, _ in readable]
    dicts, lists = [], []
    for start, end in _data_ranges(os.path.realpath(module.__file__), maps):  # /proc names the real file
        words = (ctypes.c_void_p * ((end - start) // WORD)).from_address(start)
        for address in words:
            if not address:
                continue
            for kind, found in ((dict, dicts), (list, lists)):
                value = _object_at(address, kind, readable, starts)
                if value is not None and all(value is not f for f in found):
                    found.append(value)
    caches = [d for d in dicts if d and all(type(v) is container for v in d.values())]
    for cache in caches:
        for order in lists:
            if order and set(order) == set(cache) and len(order) == len(cache):
                return cache, order
    return None


def font_ids(roots: Iterable[Any]) -> set[str]:
    """The font ids (Kivy's ``_get_font_id``) of every label drawn under ``roots``."""
    from kivy.uix.label import Label

    ids: set[str] = set()
    stack = list(roots)
    while stack:
        widget = stack.pop()
        stack.extend(widget.children)
        if isinstance(widget, Label):
            core = getattr(widget, "_label", None)
            try:
                ids.add(core._get_font_id())
            except (AttributeError, KeyError):  # not drawn yet: its font is not open for it
                continue
    return ids


def close_unused(roots: Iterable[Any]) -> int:
    """Close every open face that no label under ``roots`` uses; how many were closed."""
    found = font_cache()
    if found is None:
        return 0
    cache, order = found
    keep = font_ids(roots)
    closing = [fid for fid in order if fid not in keep]
    for fid in closing:
        order.remove(fid)
        del cache[fid]  # the last reference: the face is closed now
    return len(closing)
