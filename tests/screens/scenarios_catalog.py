"""The catalog at every supported size in one app start: the window is resized between them.

At each size the catalog is audited (``tests.screens.audit``) and measured: the search tile
must be on the screen without scrolling, and upright the tiles must reach down the screen
(no empty lower third). Then the search is opened and audited at the same size.
"""

from __future__ import annotations

from typing import Any

from tests.screens.audit import audit


def _box(widget: Any) -> tuple[float, float, float, float]:
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


def _visible(widget: Any) -> bool:
    """Inside the window and inside every ScrollView it is in (seen without scrolling)."""
    from kivy.core.window import Window
    from kivy.uix.scrollview import ScrollView

    x0, y0, x1, y1 = _box(widget)
    if x0 < 0 or y0 < 0 or x1 > Window.width or y1 > Window.height:
        return False
    parent = widget.parent
    while parent is not None and parent is not parent.parent:
        if isinstance(parent, ScrollView):
            px0, py0, px1, py1 = _box(parent)
            if x0 < px0 - 1 or y0 < py0 - 1 or x1 > px1 + 1 or y1 > py1 + 1:
                return False
        parent = parent.parent
    return True


def _measure(d: Any) -> dict[str, Any]:
    from kivy.core.window import Window

    screen = d.app.nav.current_screen
    search = d._find("catalog_search")
    tiles = [w for w in screen.walk() if getattr(w, "kiosk_id", "").startswith(("category_", "service_"))]
    lowest = min(_box(w)[1] for w in tiles)  # window y grows upwards: the bottom of the lowest tile
    return {"search_visible": search is not None and _visible(search),
            "empty_below_fraction": round(lowest / Window.height, 3),
            "items_visible": sum(_visible(w) for w in tiles if w.kiosk_id.startswith("service_")),
            "items": sum(w.kiosk_id.startswith("service_") for w in tiles)}


def catalog_at_every_size(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    from kivy.core.window import Window

    from screens import theme

    d.default_timeout = 90  # a resize rebuilds every screen: slow on a busy machine
    problems: list[str] = []
    measured: dict[str, Any] = {}
    for width, height in params["sizes"]:
        if tuple(theme.WINDOW) != (width, height):
            d.call(lambda w=width, h=height: setattr(Window, "size", (w, h)))
            d.wait_for(lambda w=width, h=height: theme.WINDOW == (w, h) and d.app.nav.current == "home",
                       what="the new size")
        d.wait_for_screen("home")
        d.tap("start_button")
        d.wait_for_screen("catalog")
        d.wait_frames(3)
        problems += audit(d, "catalog-browse", contrast=False)
        measured[f"{width}x{height}"] = d.call(_measure, d)
        d.tap("catalog_search")
        d.wait_for(lambda: d._find("letter_a"), what="the letter keys")
        problems += audit(d, "catalog-search", contrast=False)
        d.call(d.app.nav.home)
    return {"problems": problems, "measured": measured}
