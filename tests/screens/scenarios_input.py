"""A minimal Kivy app holding the handwriting pad and the pinyin keyboard, for GUI tests.

The widgets are not in the form yet (that comes after the screens' reshape), so they
are tried here on their own, with the real engines: Zinnia with the Debian model, and
the pinyin index on jieba's whole dictionary, both loaded off the UI thread by
``kiosk.input.engines.InputEngines`` as the kiosk will.
"""

from __future__ import annotations

from typing import Any


def build_app(params: dict[str, Any]) -> Any:
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.label import Label

    from kiosk.app import font_cache_dir, register_fonts
    from kiosk.i18n import Translator
    from kiosk.input.engines import InputEngines
    from screens import theme
    from screens.widgets.handwriting_pad import HandwritingPad
    from screens.widgets.pinyin_keyboard import PinyinKeyboard

    width, height = params.get("size", (1920, 1080))

    class InputApp(App):
        def build(self) -> Any:
            register_fonts(font_cache_dir())  # the kiosk's own Simplified-Chinese face
            Window.size = (width, height)
            Window.clearcolor = theme.BACKGROUND
            t = Translator.load(lang="zh")
            portrait = height > width
            root = BoxLayout(orientation="vertical", padding=theme.PAD, spacing=theme.GAP)
            self.chosen = Label(text="", font_size=theme.TITLE, color=theme.TEXT, size_hint_y=None,
                                height=theme.TARGET)
            self.chosen.kiosk_id = "chosen_text"
            root.add_widget(self.chosen)
            body = BoxLayout(orientation="vertical" if portrait else "horizontal", spacing=theme.GAP)
            self.pad = HandwritingPad(undo_text=t.t("input.pad.undo"), clear_text=t.t("input.pad.clear"))
            self.keyboard = PinyinKeyboard(del_text=t.t("input.keyboard.delete"),
                                           clear_text=t.t("input.keyboard.clear"),
                                           prev_text=t.t("input.keyboard.previous"),
                                           next_text=t.t("input.keyboard.next"))
            if not portrait:
                self.pad.size_hint_x, self.keyboard.size_hint_x = 0.42, 0.58
            for widget in (self.pad, self.keyboard):
                widget.bind(on_choose=lambda _w, text: setattr(self.chosen, "text", self.chosen.text + text))
                body.add_widget(widget)
            root.add_widget(body)

            def ready(engines: InputEngines) -> None:  # on the loader's thread
                def hand_over(_dt: float) -> None:
                    self.pad.recognizer = engines.handwriting
                    self.keyboard.engine = engines.pinyin

                Clock.schedule_once(hand_over, 0)

            self.engines = InputEngines(on_ready=ready)
            self.engines.start()
            return root

        def on_stop(self) -> None:
            self.engines.stop()

    return InputApp()


def _draw(stroke_points: list[tuple[float, float]], canvas: Any) -> None:
    """One finger stroke through Kivy's input path, in canvas fractions (0..1, y downwards)."""
    from kivy.tests.common import UnitTestTouch

    def at(fx: float, fy: float) -> tuple[float, float]:
        return canvas.to_window(canvas.x + fx * canvas.width, canvas.top - fy * canvas.height)

    touch = UnitTestTouch(*at(*stroke_points[0]))
    touch.touch_down()
    for fx, fy in stroke_points[1:]:
        touch.touch_move(*at(fx, fy))
    touch.touch_up()


def _line(x0: float, y0: float, x1: float, y1: float, n: int = 10) -> list[tuple[float, float]]:
    return [(x0 + (x1 - x0) * i / (n - 1), y0 + (y1 - y0) * i / (n - 1)) for i in range(n)]


def _targets(root: Any) -> list[dict[str, Any]]:
    """Every button: its size and whether it lies inside the window."""
    from kivy.core.window import Window
    from kivy.uix.button import Button

    found = []
    for widget in root.walk():
        if isinstance(widget, Button):
            x, y = widget.to_window(widget.x, widget.y)
            found.append({"id": getattr(widget, "kiosk_id", "") or widget.text, "w": widget.width,
                          "h": widget.height, "inside": x >= 0 and y >= 0 and x + widget.width <= Window.width
                          + 1 and y + widget.height <= Window.height + 1})
    return found


def write_and_type(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    name = "input-widgets-{}x{}".format(*params.get("size", (1920, 1080)))
    app = d.app
    d.wait_frames(5)
    targets = d.call(lambda: _targets(app.root))

    d.wait_for(lambda: app.pad.recognizer is not None and app.keyboard.engine is not None, 90,
               what="input engines")
    d.screenshot(f"{name}-1-empty")
    # handwriting: 十, as a finger writes it (横 then 竖)
    canvas = app.pad.ids.pad_canvas
    d.call(_draw, _line(0.15, 0.5, 0.85, 0.5), canvas)
    d.call(_draw, _line(0.5, 0.12, 0.5, 0.88), canvas)
    d.wait_for(lambda: list(app.pad.candidates), 10, what="handwriting candidates")
    pad_candidates = d.call(lambda: list(app.pad.candidates))
    d.screenshot(f"{name}-2-written")
    d.tap("pad_candidate_0")
    d.wait_for(lambda: app.chosen.text != "", 5, what="chosen character")

    # pinyin: zhangsan, then the candidate 张三
    for letter in "zhangsan":
        d.tap(f"pinyin_key_{letter}")
    shown = d.call(lambda: [c.text for c in app.keyboard.shown])
    d.screenshot(f"{name}-3-typed")
    index = shown.index("张三") if "张三" in shown else -1
    if index >= 0:
        d.tap(f"pinyin_candidate_{index}")
    d.tap("pinyin_key_n")
    d.tap("pinyin_next")  # page 2 of the candidates for "n"
    page = d.call(lambda: app.keyboard.page)
    d.screenshot(f"{name}-4-chosen")
    return {"pad_candidates": pad_candidates, "shown": shown, "chosen": d.call(lambda: app.chosen.text),
            "letters_left": d.call(lambda: app.keyboard.letters), "page": page, "targets": targets}
