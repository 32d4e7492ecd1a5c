"""A minimal Kivy app holding the handwriting pad and the pinyin keyboard, for GUI tests.

The widgets are not in the form yet (that comes after the screens' reshape), so they
are tried here on their own, with the real engines: Zinnia with the Debian model, and
the pinyin index on jieba's whole dictionary, both loaded off the UI thread by
``kiosk.input.engines.InputEngines`` as the kiosk will.
"""

from __future__ import annotations

from typing import Any

from tests.screens.signing import sign_and_submit


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


# -- the form uses them: an unreadable card, item 008 finished by touch ---------------------

ITEM_008 = "GD-SAMPLE-008"
# 王 (横 横 竖 横) and 三 (横 横 横), in pad fractions, as a finger writes them
WANG = [_line(0.2, 0.2, 0.8, 0.2), _line(0.25, 0.5, 0.75, 0.5), _line(0.5, 0.2, 0.5, 0.82),
        _line(0.15, 0.82, 0.85, 0.82)]
SAN = [_line(0.25, 0.22, 0.75, 0.22), _line(0.3, 0.5, 0.7, 0.5), _line(0.15, 0.8, 0.85, 0.8)]


def _write(d: Any, strokes: list[list[tuple[float, float]]], character: str) -> list[str]:
    """Write one character on the open editor's pad and choose it; the candidates offered."""
    pad = d.call(lambda: d.app.nav.current_screen.editor.pad)
    for stroke in strokes:
        d.call(_draw, stroke, pad.ids.pad_canvas)
    d.wait_for(lambda: character in list(pad.candidates), 10, what=f"{character} among the candidates")
    offered = d.call(lambda: list(pad.candidates))
    d.tap(f"pad_candidate_{offered.index(character)}")
    return offered


def _visible_in_scroll(widget: Any, scroll: Any) -> bool:
    x, y = widget.to_window(widget.x, widget.y)
    sx, sy = scroll.to_window(scroll.x, scroll.y)
    return y >= sy - 1 and y + widget.height <= sy + scroll.height + 1


def _said_last(d: Any, key: str, lang: str | None = None) -> bool:
    """Wait until ``key`` (in ``lang``) is the prompt most lately started (False if it never is)."""
    prompter = d.app.voice.prompter

    def last() -> bool:
        newest = prompter.history[-1] if prompter.history else ("", "", "")
        return newest[0] == key and lang in (None, newest[1])

    try:
        d.wait_for(last, 20, what=f"the prompt {key}", on_ui=False)
    except TimeoutError:
        return False
    return True


def _voice_first(d: Any) -> dict[str, Any]:
    """The voice on home (粤语 chosen, mute and back) and a card read: its prompt, then the next screen's;
    the top bar's mute and volume; home again, with Mandarin chosen back for the next villager."""
    prompter = d.app.voice.prompter
    found: dict[str, Any] = {"home_buttons": all(d.exists(f"voice_lang_{c}") for c in ("cmn", "yue", "hak"))}
    d.tap("voice_lang_yue")
    found["home_in_cantonese"] = _said_last(d, "voice.home", "yue")
    d.tap("voice_mute_home")
    found["muted"] = d.call(lambda: prompter.muted)
    d.screenshot("40-home-voice")
    d.tap("voice_mute_home")
    prompter.history.clear()  # it keeps the last 50: an earlier walk's catalog prompt is not this one
    d.tap("start_button")  # the sample card lies on the reader: read at once
    d.wait_for_screen("catalog", timeout=30)
    d.wait_for(lambda: any(h[0] == "voice.catalog" for h in list(prompter.history)), 20,
               what="the catalog's prompt", on_ui=False)
    keys = [key for key, _lang, _source in prompter.history]
    at = keys.index("voice.catalog")
    found["card_then_catalog"] = keys[at - 1:at + 1] if at else keys[:1]
    found["top_bar"] = d.exists("voice_mute") and d.exists("voice_volume")
    level = d.call(lambda: d.app.nav.voice.level)
    d.tap("voice_volume")
    found["volume_turned"] = (level, d.call(lambda: d.app.nav.voice.level))
    d.screenshot("41-catalog-voice-buttons")
    d.tap("home_button")
    d.wait_for_screen("home")
    d.wait_for(lambda: d.app.service.visit is None, what="the visit to end")
    d.tap("voice_lang_cmn")
    return found


def walk_item_008(d: Any, out: dict[str, Any]) -> None:
    """The voice first; then no card: the ID number typed; item 008's name by handwriting, the baby's
    name by pinyin, the rest by keypad and choice buttons; "next" with the phone missing scrolls to
    it and says so; a page for each material, consent and signature, the receipt; home again.

    A walk of ``tests.screens.scenarios_walks_sizes`` (an app with the voice on); ``out`` gets what
    it found."""
    from hardware.sample_cards import MIDDLE_AGED_VILLAGER

    service = d.app.service
    d.wait_for_screen("home")
    service.id_reader.simulator.present_card(MIDDLE_AGED_VILLAGER)
    out["voice"] = voice = _voice_first(d)
    service.id_reader.simulator.remove_card()  # the card will not read: no card on the reader
    d.tap("start_button")
    d.wait_for_screen("identify")
    d.tap("manual_entry")
    out["ok_text"] = d.text("manual_ok")
    for key in MIDDLE_AGED_VILLAGER.id_number:
        d.tap("manual_x" if key == "X" else f"keypad_{key}")
    d.screenshot("42-manual-entry")
    d.tap("manual_ok")
    d.wait_for_screen("catalog", timeout=20)
    d.tap("category_family")  # item 008 (birth registration) is among 户口生育
    d.tap(f"service_{ITEM_008}")
    d.wait_for_screen("guide")
    d.tap("guide_start")
    d.wait_for_screen("form")
    d.screenshot("43-form-empty")

    # the applicant's name, written by hand
    d.tap("field_name")
    d.wait_for(lambda: d._find("editor_done") is not None, what="the writing view")
    engines = d.app.nav.input_engines
    d.wait_for(lambda: engines.handwriting is not None, 60, what="the handwriting engine")
    out["wang_offered"] = _write(d, WANG, "王")
    _write(d, SAN, "三")
    out["written"] = d.text("editor_text")
    d.screenshot("44-handwriting")
    d.tap("editor_done")
    d.wait_for(lambda: d._find("editor_done") is None, what="the writing view to close")
    d.tap("choice_relation_father")

    # the baby's name, on the pinyin keyboard: wangxiaoming -> 王晓明
    d.tap("field_baby_name")
    d.tap("editor_mode_pinyin")
    d.wait_for(lambda: engines.pinyin is not None, 120, what="the pinyin engine")
    for letter in "wangxiaoming":
        d.tap(f"pinyin_key_{letter}")
    keyboard = d.call(lambda: d.app.nav.current_screen.editor.keyboard)
    out["pinyin_shown"] = shown = d.call(lambda: [c.text for c in keyboard.shown])
    d.screenshot("45-pinyin")  # the candidates offered for wangxiaoming
    out["wang_lines"] = rendered_lines(d, f"pinyin_candidate_{shown.index('王晓明')}")  # one line
    d.tap(f"pinyin_candidate_{shown.index('王晓明')}")
    d.tap("editor_done")
    d.wait_for(lambda: d._find("editor_done") is None, what="the writing view to close")
    d.tap("choice_baby_sex_male")
    d.tap("field_baby_birth_date")
    for digit in "20261115":
        d.tap(f"keypad_{digit}")

    # the phone is missing: "next" scrolls down to its red row and says so
    screen = d.app.nav.current_screen
    d.call(lambda: setattr(screen.ids.form_scroll, "scroll_y", 1))
    d.tap("form_next")
    d.wait_for(lambda: d._find("popup_ok") is not None, what="the 'fill in' message")
    d.wait_frames(4)
    out["phone_row_shown"] = d.call(lambda: _visible_in_scroll(screen.row_widgets["phone"],
                                                               screen.ids.form_scroll))
    out["errors"] = d.call(lambda: dict(screen.errors))
    d.screenshot("46-scrolled-to-error")
    d.tap("popup_ok")
    d.wait_for(lambda: d._find("popup_ok") is None, what="the message to close")
    voice["error_said"] = _said_last(d, "voice.error.form.fix_red")
    d.tap("field_phone")
    for digit in "13800138000":
        d.tap(f"keypad_{digit}")
    said = d.call(lambda: {key for key, _lang, _source in d.app.voice.prompter.history})  # the last 50
    fields = d.call(lambda: dict(service.visit.fields))
    out["fields"] = {k: fields.get(k) for k in ("name", "baby_name", "relation", "baby_sex",
                                                 "baby_birth_date", "id_number")}
    d.screenshot("47-form-filled")

    d.tap("form_next")
    d.wait_for_screen("capture")
    capture = service.steps.capture
    d.wait_for(lambda: capture.camera_frame() is not None, what="a camera frame")
    for _ in range(6):
        if not d.call(capture.missing_materials):
            break
        taken = len(capture.pages)
        d.tap("capture_shoot")
        d.wait_for(lambda taken=taken: len(capture.pages) > taken, what="a page")
    d.tap("capture_next")
    d.wait_for_screen("review")
    d.tap("review_confirm")
    sign_and_submit(d)  # consent and signature seal it
    d.wait_for_screen("receipt", timeout=30)
    out["receipt_number"] = d.text("receipt_number")
    d.screenshot("48-receipt")
    said |= d.call(lambda: {key for key, _lang, _source in d.app.voice.prompter.history})
    voice["said"] = sorted(said)
    d.tap("receipt_done")
    d.wait_for_screen("rating")
    d.tap("rating_skip")  # 好差评 may be skipped
    d.wait_for_screen("home", timeout=15)
    d.wait_for(lambda: service.visit is None, what="the visit to end")


def rendered_lines(d: Any, widget_id: str) -> list[str]:
    """The lines Kivy drew for a label or button (where it wrapped its text)."""
    def lines() -> list[str]:
        label = d._find(widget_id)._label
        return ["".join(word.text for word in line.words).strip() for line in label._cached_lines]

    return d.call(lines)
