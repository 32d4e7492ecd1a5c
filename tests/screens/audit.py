"""The size audit: what a villager with weak eyes and thick fingers would meet on a screen.

``audit(driver, name)`` looks at what the window shows now (the screen and any popup
over it), saves it as ``size-<w>x<h>-<name>.png`` and returns the problems, each a line
saying which widget and what is wrong:

- text below ``theme.MIN_TEXT`` px (its font size, or a ``[size=…]`` inside its markup);
- anything one touches (buttons, text boxes, the writing pad) under ``theme.MIN_TARGET``
  px high or wide;
- a widget outside the window (inside a scrolling list: outside its list), and two
  touchable widgets over each other (a tap meant for one lands on the other);
- a label whose text is cut: rendered again without its box's limits, it needs more
  room than the box has (a wrapped line below the box, an ellipsis, a spill);
- text whose contrast with what is around it is below 7:1, measured on the saved PNG:
  the ground is the commonest colour of the text's box, the ink its strongest pixels.

It runs inside the app's process, from a scenario (``tests.screens.scenarios_sizes``):
screens that other engineers add are audited by the same function.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MIN_CONTRAST = 7.0
SLACK = 2  # px: rounding in layouts
LEADING = 0.15  # of the type size: a line's texture is ~1.45 em tall (Noto CJK) for ~1.2 em of ink
_SIZE_TAG = re.compile(r"\[size=(\d+(?:\.\d+)?)")


@dataclass
class Seen:
    """One widget as drawn: its box in window pixels and what the checks need of it."""

    name: str
    top: int  # which top-level window child it belongs to (the screen, a popup)
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in window pixels (y up)
    clip: tuple[float, float, float, float] | None  # the scrolling list it is in, if any
    touchable: bool
    ancestors: set[int] = field(default_factory=set)
    ident: int = 0


def _describe(widget: Any) -> str:
    ident = getattr(widget, "kiosk_id", None)
    if not ident:
        parent = widget.parent
        while parent is not None and parent is not parent.parent and not ident:
            for key, value in (getattr(parent, "ids", None) or {}).items():
                if value is widget:
                    ident = key
                    break
            parent = parent.parent
    text = str(getattr(widget, "text", "") or "").replace("\n", " ")
    text = re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", text)[:24]
    shown = repr(text) if text else ""
    return f"{type(widget).__name__}({ident or ''}{' ' if ident and text else ''}{shown})"


def _intersect(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float, float, float] | None:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _is_touchable(widget: Any) -> bool:
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.textinput import TextInput

    return isinstance(widget, ButtonBehavior | TextInput) or type(widget).__name__ == "StrokeCanvas"


def _needed_size(label: Any) -> tuple[float, float]:
    """The size the label's text needs, rendered without shortening or a height limit."""
    from kivy.core.text import Label as CoreLabel
    from kivy.core.text.markup import MarkupLabel
    from kivy.uix.label import Label

    options = {name: getattr(label, name) for name in Label._font_properties}
    width = label.text_size[0]
    options.update(text_size=(width, None), shorten=False, max_lines=0)
    options["usersize"] = options["text_size"]
    core = (MarkupLabel if label.markup else CoreLabel)(**options)
    core.refresh()
    texture = core.texture
    return (texture.width, texture.height) if texture is not None else (0, 0)


def _check_label(label: Any, name: str, problems: list[str]) -> None:
    from screens import theme

    if label.font_size < theme.MIN_TEXT - 0.5:
        problems.append(f"{name}: text {label.font_size:.0f} px < {theme.MIN_TEXT}")
    if label.markup:
        for size in _SIZE_TAG.findall(label.text):
            if float(size) < theme.MIN_TEXT:
                problems.append(f"{name}: [size={size}] text < {theme.MIN_TEXT} px")
    need_w, need_h = _needed_size(label)
    room_w = label.width if label.text_size[0] is None else max(label.width, label.text_size[0])
    leading = max(SLACK, LEADING * label.font_size)  # the empty gap above and below a line may overhang
    if need_w > room_w + SLACK or need_h > label.height + leading:
        problems.append(f"{name}: text cut, needs {need_w:.0f}×{need_h:.0f} px, has "
                        f"{label.width:.0f}×{label.height:.0f}")


Texts = list[tuple[int, str, tuple[float, ...]]]  # (layer, widget, where its ink is)


def _collect(problems: list[str]) -> tuple[list[Seen], Texts, tuple[int, int]]:
    """On the UI thread: every widget shown, its problems of size, and where its text is."""
    from kivy.core.window import Window
    from kivy.uix.label import Label
    from kivy.uix.scrollview import ScrollView

    seen: list[Seen] = []
    texts: Texts = []
    window = (0.0, 0.0, float(Window.width), float(Window.height))

    def visit(widget: Any, top: int, clip: tuple[float, ...] | None, ancestors: set[int]) -> None:
        if widget.opacity == 0 or widget.width <= 1 or widget.height <= 1:
            return
        x0, y0 = widget.to_window(widget.x, widget.y)
        x1, y1 = widget.to_window(widget.right, widget.top)
        box = (x0, y0, x1, y1)
        shown = _intersect(box, clip) if clip is not None else box
        if shown is None:
            return  # scrolled out of sight
        name = _describe(widget)
        touchable = _is_touchable(widget)
        seen.append(Seen(name, top, box, clip, touchable, set(ancestors), id(widget)))
        if clip is None and _intersect(box, window) != box and (
                x0 < -SLACK or y0 < -SLACK or x1 > window[2] + SLACK or y1 > window[3] + SLACK):
            problems.append(f"{name}: outside the window at ({x0:.0f},{y0:.0f})-({x1:.0f},{y1:.0f})")
        if touchable and not widget.disabled:
            from screens import theme

            if widget.height < theme.MIN_TARGET - 0.5 or widget.width < theme.MIN_TARGET - 0.5:
                problems.append(f"{name}: touch target {widget.width:.0f}×{widget.height:.0f} px "
                                f"< {theme.MIN_TARGET}")
        if isinstance(widget, Label) and widget.text.strip() and not widget.disabled:
            _check_label(widget, name, problems)
            tw, th = widget.texture_size
            tx = widget.center_x - tw / 2
            ty = widget.center_y - th / 2
            a = widget.to_window(tx, ty)
            b = widget.to_window(tx + tw, ty + th)
            where = _intersect((a[0], a[1], b[0], b[1]), (x0, y0, x1, y1))
            where = where and (_intersect(where, clip) if clip is not None else where)
            if where:
                texts.append((top, name, where))
        inner = _intersect(shown, clip) if clip is not None else shown
        child_clip = inner if isinstance(widget, ScrollView) else clip
        for child in widget.children:
            visit(child, top, child_clip, ancestors | {id(widget)})

    for top, child in enumerate(reversed(Window.children)):
        root = child.current_screen if hasattr(child, "current_screen") else child
        if root is not None:
            visit(root, top, None, set())
    return seen, texts, (Window.width, Window.height)


def _overlaps(seen: list[Seen], problems: list[str]) -> None:
    touch = [s for s in seen if s.touchable]
    for i, a in enumerate(touch):
        for b in touch[i + 1:]:
            if a.top != b.top or a.ident in b.ancestors or b.ident in a.ancestors:
                continue
            sa = _intersect(a.box, a.clip) if a.clip else a.box
            sb = _intersect(b.box, b.clip) if b.clip else b.box
            both = sa and sb and _intersect(sa, sb)
            if both and both[2] - both[0] > SLACK and both[3] - both[1] > SLACK:
                problems.append(f"{a.name} and {b.name} overlap")


def _luminance(rgb: Any) -> Any:
    import numpy as np

    c = rgb.astype(np.float64) / 255
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def text_contrast(image: Any, box: tuple[float, ...], height: int) -> float | None:
    """Contrast of the text in ``box`` (window pixels, y up) on the picture (RGB rows); None: no text."""
    import numpy as np

    x0, y0, x1, y1 = (int(round(v)) for v in box)
    crop = image[max(0, height - y1):max(0, height - y0), max(0, x0):max(0, x1)].reshape(-1, 3)
    if len(crop) < 50:
        return None
    colours, counts = np.unique(crop, axis=0, return_counts=True)
    ground = _luminance(colours[counts.argmax()][None, :])[0]
    lum = _luminance(crop)
    ratio = (np.maximum(lum, ground) + 0.05) / (np.minimum(lum, ground) + 0.05)
    ink = ratio[ratio > 1.5]
    if len(ink) < 20:
        return None
    return float(np.percentile(ink, 90))


def audit(driver: Any, name: str, contrast: bool = True) -> list[str]:
    """Save the window as ``size-<w>x<h>-<name>.png``; the problems found on it (empty: none)."""
    problems: list[str] = []
    driver.wait_frames(3)
    seen, texts, (width, height) = driver.call(_collect, problems)
    _overlaps(seen, problems)
    png = driver.screenshot(f"size-{width}x{height}-{name}")
    if contrast:
        import cv2

        image = cv2.imread(str(png))[:, :, ::-1]  # read once: every label's box is cut from it
        front = max((top for top, _label, _box in texts), default=0)
        for top, label, box in texts:
            if top != front:
                continue  # under a popup's dark veil: not what one reads now
            ratio = text_contrast(image, box, height)
            if ratio is not None and ratio < MIN_CONTRAST:
                problems.append(f"{label}: contrast {ratio:.1f}:1 < {MIN_CONTRAST:.0f}:1")
    return [f"{width}x{height} {name}: {p}" for p in problems]
