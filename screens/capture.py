"""Capture: the live picture with the page's outline and plain advice, a big 拍照 button,
the pages taken (thumbnails with 删掉重拍), one material after another.

The capture step (``kiosk.steps.capture``) borrows the camera while the screen shows and
runs the page detection on its own thread; this screen only polls ``step.live_preview()``
(which never waits) and draws: each new preview frame's bytes straight into one reused
texture (no copy, no new texture), the outline as one reused line. When every check has
passed for a moment the step says ``fire`` and the page is taken by itself.
"""

from __future__ import annotations

import math
from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Line
from kivy.graphics.texture import Texture
from kivy.properties import AliasProperty, BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image

from screens import theme
from screens.base import KioskScreen
from screens.widgets.big_button import BigButton
from screens.widgets.live_region import Box, LiveRegion

OUTLINE_WIDTH = 6
PICTURE_ASPECT = 16 / 9  # the camera's picture (1280 × 720) until the first frame says otherwise
# The most window pixels the live picture covers. Under a software renderer (llvmpipe, Xvfb) each new
# frame costs CPU per pixel of the picture's box (the screen manager's stencil and its clear are drawn
# over it too): 800 × 450 costs about what main's 665 × 374 did (A/B at 1920 × 1080), 960 × 540
# 0.03-0.14 core more, past issue 13's 0.5 (docs/scanning.md, "a larger preview (capview)")
MAX_PICTURE_PIXELS = 800 * 450
PREVIEW_POLLS = 25  # a second; a frame is drawn only when a new one came (the scanner reads ≤ 15 a second)


def picture_area(width: float, height: float, aspect: float) -> float:
    """The area of a picture of ``aspect`` (width / height) fitted into ``width`` × ``height``."""
    if width <= 0 or height <= 0:
        return 0.0
    shown_width = min(width, height * aspect)
    return shown_width * shown_width / aspect


def to_texture(image: Any, texture: Texture | None = None) -> Texture:
    """An RGB ``kiosk.presentation.Image`` into a texture (reused when the size matches)."""
    if texture is None or tuple(texture.size) != (image.width, image.height):
        texture = Texture.create(size=(image.width, image.height), colorfmt="rgb")
        texture.flip_vertical()  # the presenter gives the top row first
    texture.blit_buffer(image.rgb, colorfmt="rgb", bufferfmt="ubyte")
    return texture


class LivePicture(Image):
    """The live picture: an Image drawn without Kivy's stencil around it (``<-LivePicture>`` in
    capture.kv), which would cost the software renderer two more passes over the picture a frame,
    and never larger than ``max_pixels`` window pixels (``shown_size``: fitted, then scaled down)."""

    max_pixels = NumericProperty(MAX_PICTURE_PIXELS)

    def _shown_size(self) -> tuple[float, float]:
        width, height = self.norm_image_size
        if width <= 0 or height <= 0 or width * height <= self.max_pixels:
            return (width, height)
        shrink = math.sqrt(self.max_pixels / (width * height))
        return (width * shrink, height * shrink)

    shown_size = AliasProperty(_shown_size, bind=("texture", "size", "fit_mode", "max_pixels"), cache=True)


class CaptureScreen(KioskScreen):
    preview = ObjectProperty(None, allownone=True)
    material_prompt = StringProperty("")
    ready = BooleanProperty(False)  # every needed paper has a page: 下一步 becomes the main action
    guidance = StringProperty("")
    guidance_ok = BooleanProperty(False)
    has_pages = BooleanProperty(False)  # the pages taken take room only once there is one
    pages_beside = BooleanProperty(False)  # the pages in a column beside the picture, not a strip under it
    PAGES_UNDER_HEIGHT = 330  # px at 1920×1080: the strip of pages under the picture …
    PAGES_BESIDE_WIDTH = 260  # … or the column of them beside it
    PAGE_CELL = (300, PAGES_UNDER_HEIGHT)  # a page taken (picture, 删掉重拍): the strip is one high
    frames_drawn = 0                 # preview frames drawn so far (benchmarks/capture_screen.py reads it)
    _line: Line | None = None        # the outline: one line on the preview, made once, moved
    _line_colour: Color | None = None
    _line_ok: bool | None = None     # the outline's colour now: green (True), amber (False), not set (None)
    region: LiveRegion | None = None  # a new frame redraws only the picture's box (software renderers)

    def prepare(self, **params: Any) -> None:
        self._event = None
        self._drawn = -1  # the sequence number of the frame on the screen: none yet

    def on_enter(self, *_args) -> None:
        if self.region is None:
            self.region = LiveRegion(self.ids.preview, self._live_box, self._picture_box)
        self.region.start()
        self._event = Clock.schedule_interval(self._tick, 1 / PREVIEW_POLLS)
        self._tick(0)

    def leave(self) -> None:
        if getattr(self, "_event", None) is not None:
            self._event.cancel()
            self._event = None
        if self.region is not None:
            self.region.stop()

    def _live_box(self) -> Box | None:
        """The window pixels a new preview frame changes: the picture and its outline (which may
        run past the picture when the page lies partly off it), a line's width to spare."""
        widget = self.ids.preview
        if self.preview is None:
            return None
        width, height = widget.shown_size
        x0, y0 = widget.center_x - width / 2, widget.center_y - height / 2
        x1, y1 = x0 + width, y0 + height
        if self._line is not None and self._line.points:
            xs, ys = self._line.points[0::2], self._line.points[1::2]
            x0, y0, x1, y1 = min(x0, *xs), min(y0, *ys), max(x1, *xs), max(y1, *ys)
        (x0, y0), (x1, y1) = widget.to_window(x0, y0), widget.to_window(x1, y1)
        pad = OUTLINE_WIDTH + 2
        return (int(x0) - pad, int(y0) - pad, int(x1 - x0) + 1 + 2 * pad, int(y1 - y0) + 1 + 2 * pad)

    def _picture_box(self) -> Box | None:
        """The window pixels the picture covers whole (inside its edges, rounded inwards): an RGB
        texture is opaque, so these need no clear before a new frame is drawn over them."""
        widget = self.ids.preview
        if self.preview is None:
            return None
        width, height = widget.shown_size
        (x0, y0) = widget.to_window(widget.center_x - width / 2, widget.center_y - height / 2)
        (x1, y1) = widget.to_window(widget.center_x + width / 2, widget.center_y + height / 2)
        left, bottom, right, top = math.ceil(x0), math.ceil(y0), math.floor(x1), math.floor(y1)
        return (left, bottom, right - left, top - bottom) if right > left and top > bottom else None

    def place_pages(self) -> None:
        """Pages under the picture or beside it: whichever leaves the larger picture in the room the
        picture and the pages share (upright and 1280×1024: under; 1920×1080 and 1280×800: beside)."""
        room = self.ids.picture_and_pages
        if self.preview is not None:
            aspect = self.preview.width / self.preview.height
        else:
            aspect = PICTURE_ASPECT
        most = self.ids.preview.max_pixels  # past it the picture is not drawn larger: no gain
        strip, column = (theme.px(self.PAGES_UNDER_HEIGHT) + theme.px(16),
                         theme.px(self.PAGES_BESIDE_WIDTH) + theme.px(16))
        under = min(most, picture_area(room.width, room.height - strip, aspect))
        beside = min(most, picture_area(room.width - column, room.height, aspect))
        self.pages_beside = beside > under

    def on_pages_beside(self, *_args) -> None:
        if self.has_pages:
            self._show_pages()  # the pages' cells laid out the other way

    def _tick(self, _dt: float) -> None:
        view = self.step.live_preview()
        if view is None:
            self.guidance = self.step.guidance()
            self.guidance_ok = False
            return
        if view.sequence != self._drawn:
            self._show_frame(view.frame)
            self._drawn = view.sequence
        self.guidance = view.guidance
        self.guidance_ok = view.ok
        self._draw_outline(view)
        if view.fire:
            self.shoot(auto=True)

    def _show_frame(self, frame: Any) -> None:
        """The scanner's preview (RGB) into the one preview texture: its bytes as they are, no copy."""
        height, width = frame.shape[:2]
        texture = self.preview
        if texture is None or tuple(texture.size) != (width, height):
            texture = Texture.create(size=(width, height), colorfmt="rgb")
            texture.flip_vertical()  # the top row comes first
            self.preview = texture
            self.ids.preview.texture = texture
            self.place_pages()  # the picture's own shape now known
        texture.blit_buffer(frame.reshape(-1), colorfmt="rgb", bufferfmt="ubyte")
        self.ids.preview.canvas.ask_update()
        self.frames_drawn += 1

    def _draw_outline(self, view: Any) -> None:
        """The page's outline over the picture: green when all is well, amber otherwise.

        One line, made once and moved: no new canvas instructions per frame.
        """
        widget = self.ids.preview
        if self._line is None:
            with widget.canvas.after:
                self._line_colour = Color(0, 0, 0, 0)
                self._line = Line(points=[], close=True, width=OUTLINE_WIDTH)
            self._line_ok = None
        assert self._line is not None and self._line_colour is not None
        ih, iw = view.frame.shape[:2]
        shown_width, shown_height = widget.shown_size
        scale = shown_width / iw
        ox = widget.center_x - shown_width / 2
        oy = widget.center_y - shown_height / 2
        points: list[float] = []
        for x, y in view.outline:
            points += [ox + x * scale, oy + (ih - y) * scale]
        # only what changed is set: each setting of a canvas instruction, even to the same value, costs
        # a redraw of the whole window (under a software renderer ≈ 50 ms of CPU on a 1920×1080 window)
        if points != self._line.points:
            self._line.points = points
        ok = bool(view.ok)
        if ok is not self._line_ok:
            self._line_colour.rgba = theme.rgba("#1f9d55") if ok else theme.rgba("#f0a500")
            self._line_ok = ok

    def refresh(self) -> None:
        rows = self.step.materials_to_capture()
        current = self.step.material_index
        box = self.ids.materials
        box.clear_widgets()
        for i, row in enumerate(rows):
            mark = self.tr("capture.taken", count=row.pages) if row.pages else (
                self.tr("capture.required") if row.required else self.tr("capture.optional"))
            button = BigButton(kiosk_id=f"material_{i}", style="selected" if i == current else "secondary",
                               font_size=theme.BODY, height=theme.target(130),
                               text=f"{row.name}\n{theme.markup_size(28)}{mark}[/size]")
            button.bind(on_release=lambda _b, n=i: self.pick(n))
            box.add_widget(button)
        if rows:
            self.material_prompt = self.tr("capture.prompt", name=rows[min(current, len(rows) - 1)].name)
        self.ready = not self.step.missing_materials()
        self._show_pages()

    def _show_pages(self) -> None:
        strip = self.ids.pages
        strip.clear_widgets()
        count = len(self.step.pages)
        self.has_pages = count > 0
        # big enough to check by eye that the page came out whole and readable
        if self.pages_beside:  # a column: each page as wide as the column, one under another
            cell_size, cell_hint = (theme.px(self.PAGES_BESIDE_WIDTH), theme.px(self.PAGE_CELL[1])), (1, None)
        else:                  # a strip: one page beside another
            cell_size, cell_hint = (theme.px(self.PAGE_CELL[0]), theme.px(self.PAGE_CELL[1])), (None, 1)
        gaps = strip.spacing * max(0, count - 1)
        if self.pages_beside:
            strip.height = cell_size[1] * count + gaps
        else:
            strip.width = cell_size[0] * count + gaps
        for i in range(count):
            thumb = self.step.page_thumbnail(i)
            cell = BoxLayout(orientation="vertical", size_hint=cell_hint, size=cell_size, spacing=theme.px(8))
            picture = Image(fit_mode="contain")
            if thumb is not None:
                picture.texture = to_texture(thumb)
            cell.add_widget(picture)
            redo = BigButton(kiosk_id=f"page_delete_{i}", style="danger", font_size=theme.SMALL,
                             height=theme.TARGET, text=self.tr("capture.retake"))
            redo.bind(on_release=lambda _b, n=i: self.delete(n))
            cell.add_widget(redo)
            strip.add_widget(cell)

    def forget(self) -> None:
        self.ids.pages.clear_widgets()  # thumbnails of the villager's papers
        self.has_pages = False
        self.ids.materials.clear_widgets()
        self.preview = None
        self._drawn = -1
        self.ids.preview.texture = None
        self.ids.preview.canvas.after.clear()
        self._line = self._line_colour = self._line_ok = None

    def pick(self, index: int) -> None:
        self.step.select_material(index)
        self.refresh()

    def shoot(self, auto: bool = False) -> None:
        if self.run(self.step.capture_page, None, auto) is None:
            return
        self.step.page_done()
        self.refresh()

    def delete(self, index: int) -> None:
        self.run(self.step.delete_page, index)
        self.refresh()

    def next(self) -> None:
        missing = self.step.missing_materials()
        if missing:
            self.nav.show_error("capture.missing")
            return
        self.nav.forward()
