"""Capture: the live picture with the page's outline and plain advice, a big 拍照 button,
the pages taken (thumbnails with 删掉重拍), one material after another.

The capture step (``kiosk.steps.capture``) borrows the camera while the screen shows and
runs the page detection on its own thread; this screen only polls ``step.scan_preview()``
(which never waits) and draws. When every check has passed for a moment the step says
``fire`` and the page is taken by itself.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Line
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image

from screens import theme
from screens.base import KioskScreen
from screens.widgets.big_button import BigButton

PREVIEW_FPS = 10


def to_texture(image: Any, texture: Texture | None = None) -> Texture:
    """An RGB ``kiosk.presentation.Image`` into a texture (reused when the size matches)."""
    if texture is None or tuple(texture.size) != (image.width, image.height):
        texture = Texture.create(size=(image.width, image.height), colorfmt="rgb")
        texture.flip_vertical()  # the presenter gives the top row first
    texture.blit_buffer(image.rgb, colorfmt="rgb", bufferfmt="ubyte")
    return texture


class CaptureScreen(KioskScreen):
    preview = ObjectProperty(None, allownone=True)
    material_prompt = StringProperty("")
    ready = BooleanProperty(False)  # every needed paper has a page: 下一步 becomes the main action
    guidance = StringProperty("")
    guidance_ok = BooleanProperty(False)

    def prepare(self, **params: Any) -> None:
        self._event = None
        self._outline: tuple = ()

    def on_enter(self, *_args) -> None:
        self._event = Clock.schedule_interval(self._tick, 1 / PREVIEW_FPS)
        self._tick(0)

    def leave(self) -> None:
        if getattr(self, "_event", None) is not None:
            self._event.cancel()
            self._event = None

    def _tick(self, _dt: float) -> None:
        view = self.step.scan_preview()
        if view is None:
            self.guidance = self.step.guidance()
            self.guidance_ok = False
            return
        self.preview = to_texture(view.image, self.preview)
        self.ids.preview.texture = self.preview
        self.ids.preview.canvas.ask_update()
        self.guidance = view.guidance
        self.guidance_ok = view.ok
        self._outline = view.outline
        self._draw_outline(view)
        if view.fire:
            self.shoot(auto=True)

    def _draw_outline(self, view: Any) -> None:
        """The page's outline over the picture: green when all is well, amber otherwise."""
        widget = self.ids.preview
        canvas = widget.canvas.after
        canvas.clear()
        if not view.outline:
            return
        iw, ih = view.image.width, view.image.height
        scale = min(widget.width / iw, widget.height / ih)
        ox = widget.x + (widget.width - iw * scale) / 2
        oy = widget.y + (widget.height - ih * scale) / 2
        points: list[float] = []
        for x, y in view.outline:
            points += [ox + x * scale, oy + (ih - y) * scale]
        with canvas:
            Color(*(theme.rgba("#1f9d55") if view.ok else theme.rgba("#f0a500")))
            Line(points=points, close=True, width=6)

    def refresh(self) -> None:
        rows = self.step.materials_to_capture()
        current = self.step.material_index
        box = self.ids.materials
        box.clear_widgets()
        for i, row in enumerate(rows):
            mark = self.tr("capture.taken", count=row.pages) if row.pages else (
                self.tr("capture.required") if row.required else self.tr("capture.optional"))
            button = BigButton(kiosk_id=f"material_{i}", style="selected" if i == current else "secondary",
                               font_size=theme.BODY, height=130,
                               text=f"{row.name}\n[size=28]{mark}[/size]")
            button.bind(on_release=lambda _b, n=i: self.pick(n))
            box.add_widget(button)
        if rows:
            self.material_prompt = self.tr("capture.prompt", name=rows[min(current, len(rows) - 1)].name)
        self.ready = not self.step.missing_materials()
        self._show_pages()

    def _show_pages(self) -> None:
        strip = self.ids.pages
        strip.clear_widgets()
        for i in range(len(self.step.pages)):
            thumb = self.step.page_thumbnail(i)
            # big enough to check by eye that the page came out whole and readable
            cell = BoxLayout(orientation="vertical", size_hint_x=None, width=300, spacing=8)
            picture = Image(fit_mode="contain")
            if thumb is not None:
                picture.texture = to_texture(thumb)
            cell.add_widget(picture)
            redo = BigButton(kiosk_id=f"page_delete_{i}", style="danger", font_size=theme.SMALL,
                             height=84, text=self.tr("capture.retake"))
            redo.bind(on_release=lambda _b, n=i: self.delete(n))
            cell.add_widget(redo)
            strip.add_widget(cell)

    def forget(self) -> None:
        self.ids.pages.clear_widgets()  # thumbnails of the villager's papers
        self.ids.materials.clear_widgets()
        self.preview = None
        self.ids.preview.texture = None
        self.ids.preview.canvas.after.clear()

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
