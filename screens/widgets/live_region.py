"""Redraw only the live picture's box when nothing else on the window changed (software renderers).

Kivy redraws the whole window whenever any instruction changed. With a GPU that costs
nothing worth measuring; under Mesa's software rasteriser (llvmpipe, a kiosk without a
working GPU driver, and Xvfb) every redraw of a 1920×1080 window costs ≈ 40 ms of CPU on
the capture screen, and the live preview asks for one 15 times a second.

``LiveRegion`` hooks the window's ``on_draw`` while one widget (the preview) is on the
screen. Before each redraw it walks the canvas tree along the instructions Kivy has flagged
as changed: when every changed instruction lies in the watched widget's canvas, the frame
is drawn with the GL scissor set to the box that can have changed (the picture and its
outline, this frame's and the last one's), so the rasteriser touches only those pixels and
the rest of the back buffer keeps the last frame. Any other change (a label, a button
pressed, a popup, a new size) draws the whole window as Kivy does.

Inside the box only what the picture does not cover is cleared first (``opaque``: the
picture's own pixels, drawn opaque every frame): llvmpipe clears a scissored box by drawing
it, colour, depth and stencil, which cost as much as drawing the picture itself
(≈ 9 ms of CPU for 1200 × 675 px; docs/scanning.md, "a larger preview (capview)").

This relies on the back buffer keeping its content between frames, which Mesa's software
drivers do on X11 (the swap copies the one back buffer to the window) but a GPU's swap chain,
or a Wayland compositor's buffers, need not: ``keeps_back_buffer`` decides, from
``GL_RENDERER`` and the display, once per process.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from kivy.graphics import opengl as gl

Box = tuple[int, int, int, int]  # x, y, width, height in window pixels

SOFTWARE_RENDERERS = ("llvmpipe", "softpipe")  # Mesa's: on X11 their back buffer outlives the swap
_keeps: bool | None = None


def on_x11(environ: Any = None) -> bool:
    """Whether SDL draws the window through X11 (Xvfb, or a kiosk's X server), not Wayland."""
    env = os.environ if environ is None else environ
    driver = env.get("SDL_VIDEODRIVER", "")
    if driver:
        return bool(driver == "x11")
    return bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")


def keeps_back_buffer() -> bool:
    """True when the window is drawn by one of Mesa's software rasterisers on X11 (asked once)."""
    global _keeps
    if _keeps is None:
        name = gl.glGetString(gl.GL_RENDERER)
        text = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
        _keeps = text.lower().startswith(SOFTWARE_RENDERERS) and on_x11()
    return _keeps


def _changed_outside(node: Any, inside: Any) -> bool:
    """Whether a changed (flagged) instruction under ``node`` lies outside the group ``inside``."""
    if node is inside or not node.needs_redraw:
        return False
    parts = list(getattr(node, "children", None) or ())
    if getattr(node, "has_before", False):
        parts.append(node.before)
    if getattr(node, "has_after", False):
        parts.append(node.after)
    flagged = [part for part in parts if part.needs_redraw]
    if not flagged:
        return True  # the node itself changed (a leaf, or a group that gained or lost a child)
    return any(part is not inside and _changed_outside(part, inside) for part in flagged)


def around(box: Box, inner: Box | None) -> list[Box]:
    """The parts of ``box`` outside ``inner``: up to four bands (below, above, left, right)."""
    x, y, w, h = box
    if inner is None:
        return [box]
    x0, y0 = max(x, inner[0]), max(y, inner[1])
    x1, y1 = min(x + w, inner[0] + inner[2]), min(y + h, inner[1] + inner[3])
    if x1 <= x0 or y1 <= y0:
        return [box]  # no overlap: all of it
    bands = [(x, y, w, y0 - y), (x, y1, w, y + h - y1),                 # below, above: full width
             (x, y0, x0 - x, y1 - y0), (x1, y0, x + w - x1, y1 - y0)]  # left, right: between them
    return [band for band in bands if band[2] > 0 and band[3] > 0]


def union(a: Box | None, b: Box | None) -> Box | None:
    if a is None or b is None:
        return a or b
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


class LiveRegion:
    """While started, a window redraw in which only ``widget``'s canvas changed is drawn inside
    ``box()`` and the last frame's ``box()`` alone (see the module's docstring): ``box`` gives
    the window pixels the widget draws now that can change from frame to frame (the picture,
    its outline); None draws the whole window. ``opaque``, when given, gives the window pixels
    inside it the widget covers with opaque pixels every frame (the picture): those are not cleared
    first."""

    def __init__(self, widget: Any, box: Callable[[], Box | None],
                 opaque: Callable[[], Box | None] | None = None) -> None:
        self.widget = widget
        self.box = box
        self.opaque = opaque
        self.partial = 0  # frames drawn inside the box (benchmarks and tests read these)
        self.full = 0
        self._bound = False
        self._size: tuple[int, int] | None = None
        self._last: Box | None = None  # what the last frame drew of the widget: wiped by the next

    def start(self) -> None:
        from kivy.core.window import Window  # here: importing it opens the window

        if not self._bound and keeps_back_buffer():
            Window.bind(on_draw=self._on_draw)
            self._bound = True
            self._size = self._last = None  # the first frame is drawn whole

    def stop(self) -> None:
        from kivy.core.window import Window

        if self._bound:
            Window.unbind(on_draw=self._on_draw)
            self._bound = False

    def _on_draw(self, window: Any) -> bool:
        size = (int(window.width), int(window.height))
        now = self.box() if self.widget.get_root_window() is not None else None
        box = None
        if now is not None and self._last is not None and size == self._size \
                and not _changed_outside(window.canvas, self.widget.canvas):
            box = union(now, self._last)
        self._size, self._last = size, now
        if box is None:
            self.full += 1
            return False  # Kivy's own on_draw: the whole window
        gl.glEnable(gl.GL_SCISSOR_TEST)
        try:
            for band in around(box, self.opaque() if self.opaque is not None else None):
                gl.glScissor(*band)
                window.clear()
            gl.glScissor(*box)
            window.render_context.draw()
        finally:
            gl.glDisable(gl.GL_SCISSOR_TEST)
        self.partial += 1
        return True  # drawn: Kivy's whole-window on_draw is skipped
