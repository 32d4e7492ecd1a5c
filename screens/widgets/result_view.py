"""The result shown big when the kiosk cannot print it: one page as large as the screen
allows, or several pages each the screen's full width one under the other, to scroll; where
to get the paper above, one button to close (nothing kept after the visit)."""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, Rectangle
from kivy.graphics.texture import Texture
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image as ImageWidget
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.scrollview import ScrollView

from screens import theme
from screens.widgets.big_button import BigButton


class ResultView(ModalView):
    def __init__(self, pictures: list[Any], message: str, close_text: str, **kwargs: Any) -> None:
        super().__init__(size_hint=(0.96, 0.96), auto_dismiss=False, **kwargs)
        self.background_color = (0, 0, 0, 0.6)
        box = BoxLayout(orientation="vertical", padding=theme.PAD, spacing=theme.GAP)
        with box.canvas.before:
            Color(*theme.SURFACE)
            ground = Rectangle()
        box.bind(pos=lambda w, p: setattr(ground, "pos", p), size=lambda w, s: setattr(ground, "size", s))
        note = Label(text=message, font_size=theme.LARGE, bold=True, color=theme.TEXT, size_hint_y=None,
                     height=theme.line(theme.LARGE, 3 if len(pictures) > 1 else 2), halign="center",
                     valign="middle")
        note.bind(width=lambda w, width: setattr(w, "text_size", (width, None)))
        note.kiosk_id = "result_message"
        box.add_widget(note)
        if len(pictures) == 1:
            box.add_widget(ImageWidget(texture=_texture(pictures[0]), fit_mode="contain"))
        else:  # pages the screen's width, one under the other (the page number is on each)
            pages = BoxLayout(orientation="vertical", size_hint_y=None, spacing=theme.GAP)
            pages.bind(minimum_height=pages.setter("height"))
            for picture in pictures:
                image = ImageWidget(texture=_texture(picture), fit_mode="contain", size_hint_y=None)
                image.bind(width=lambda w, width, p=picture: setattr(w, "height", width * p.height / p.width))
                pages.add_widget(image)
            scroller = ScrollView(do_scroll_x=False, bar_width=theme.px(24), scroll_type=["bars", "content"])
            scroller.kiosk_id = "result_pages"
            scroller.add_widget(pages)
            box.add_widget(scroller)
        close = BigButton(kiosk_id="result_close", text=close_text, size_hint=(None, None),
                          width=theme.px(600), height=theme.target(130), pos_hint={"center_x": 0.5})
        close.bind(on_release=lambda *_a: self.dismiss())
        box.add_widget(close)
        self.add_widget(box)


def _texture(picture: Any) -> Texture:
    texture = Texture.create(size=(picture.width, picture.height), colorfmt="rgb")
    texture.blit_buffer(picture.rgb, colorfmt="rgb", bufferfmt="ubyte")
    texture.flip_vertical()  # the rows come top first
    return texture
