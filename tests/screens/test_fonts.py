"""screens.fonts: the font faces Kivy's SDL2 text provider keeps open, found and the unused ones closed."""

from __future__ import annotations

import os

os.environ.setdefault("KIVY_NO_ARGS", "1")

from kivy.core.text import Label as CoreLabel  # noqa: E402
from kivy.uix.label import Label  # noqa: E402
from kivy.uix.widget import Widget  # noqa: E402

from screens import fonts  # noqa: E402


def _open(size: int) -> tuple[int, int]:
    """Open the default face at ``size`` (as drawing a label does) and measure a text with it."""
    return CoreLabel(text="办事 Abc", font_size=size).get_extents("办事 Abc")


def test_finds_kivys_open_faces_and_closes_those_no_label_uses() -> None:
    before = {size: _open(size) for size in (31, 33, 35)}
    found = fonts.font_cache()
    assert found is not None, "Kivy's font cache not found (another Kivy? see screens/fonts.py)"
    cache, order = found
    used = Label(text="办事", font_size=33)
    root = Widget()
    root.add_widget(used)
    kept = used._label._get_font_id()
    ids = {CoreLabel(text="x", font_size=size)._get_font_id() for size in (31, 33, 35)}
    assert ids <= set(cache) and set(order) == set(cache)

    closed = fonts.close_unused([root])

    assert closed >= 2
    assert set(cache) == {kept} == set(order)  # every other face closed, Kivy's two containers agree
    assert {size: _open(size) for size in (31, 33, 35)} == before  # opened again when needed, same metrics
    assert set(order) == set(cache) and ids <= set(cache)


def test_nothing_is_closed_when_the_cache_is_not_found(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(fonts, "font_cache", lambda: None)
    assert fonts.close_unused([Widget()]) == 0


def test_only_the_start_of_an_anonymous_region_after_the_module_is_read() -> None:
    """The kernel merges a later anonymous mapping into the one after the module's ``.bss``: in a
    long-lived process that region was hundreds of MB, read word by word (76 s in a test worker)."""
    path = "/lib/_text_sdl2.so"
    maps = [(0x1000, 0x2000, "r--p", path), (0x2000, 0x3000, "rw-p", path),
            (0x3000, 0x3000 + (1 << 30), "rw-p", ""), (0x50000000, 0x50001000, "rw-p", "")]
    assert fonts._data_ranges(path, maps) == [(0x2000, 0x3000), (0x3000, 0x3000 + fonts.BSS_TAIL_MAX)]
