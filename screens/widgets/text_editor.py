"""Writing Chinese text for one form field: the handwriting pad, the pinyin keyboard, digits.

Villagers cannot type on a system keyboard, so a free-text field opens this full-screen
view: the field's name and the text so far on one side, and one way of writing on the
other — the handwriting pad first (most elderly villagers write, few know pinyin), a
switch to the pinyin keyboard (characters and phrases), and a switch to the big number
keys for house numbers in an address. Only the way of writing in use is in the widget
tree, so its key ids (``keypad_1`` …) never meet another's.

The editor only shows and asks: it is handed the engines (``kiosk.input.engines.InputEngines``,
which may still be loading: it looks again a few times a second until both are there)
and gives the text back as ``on_done(text)``; ``on_cancel`` leaves the field as it was.
ids: editor_text, editor_delete, editor_mode_<write|pinyin|digits>, editor_done, editor_cancel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import NumericProperty, ObjectProperty, OptionProperty, StringProperty
from kivy.uix.modalview import ModalView

from screens import widgets
from screens.widgets.handwriting_pad import HandwritingPad
from screens.widgets.keypad import NumericKeypad
from screens.widgets.pinyin_keyboard import PinyinKeyboard

MODES = ("write", "pinyin", "digits")
ENGINE_CHECK_S = 0.25  # while an engine is still loading


class TextEditor(ModalView):
    """``engines``, ``label``, ``text``, ``max_length`` and the button words in; ``on_done(text)`` out."""

    engines = ObjectProperty(None, allownone=True)
    label = StringProperty("")
    text = StringProperty("")
    max_length = NumericProperty(0)  # 0: no limit of its own
    mode = OptionProperty("write", options=list(MODES))
    notice = StringProperty("")  # a way of writing that is not available, or still loading
    words = ObjectProperty(None)  # callable key -> text (the screen's translations)
    voice = ObjectProperty(None, allownone=True)  # VoiceControls: says how to write in each way

    __events__ = ("on_done", "on_cancel")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        tr = self.words or (lambda key: key)
        self.pad = HandwritingPad(undo_text=tr("input.pad.undo"), clear_text=tr("input.pad.clear"))
        self.keyboard = PinyinKeyboard(del_text=tr("input.keyboard.delete"),
                                       clear_text=tr("input.keyboard.clear"),
                                       prev_text=tr("input.keyboard.previous"),
                                       next_text=tr("input.keyboard.next"))
        self.keypad = NumericKeypad(del_text=tr("form.delete"), clear_text=tr("form.clear"))
        for chooser in (self.pad, self.keyboard):
            chooser.bind(on_choose=lambda _w, chosen: self.add(chosen))
        self.keypad.bind(on_key=lambda _w, key: self.on_digit(key))
        self._checking: Any = None
        self.bind(mode=self._show_mode)
        self._show_mode()

    def on_done(self, text: str) -> None:
        pass

    def on_cancel(self) -> None:
        pass

    # -- the text -----------------------------------------------------------------------

    def add(self, chosen: str) -> None:
        text = self.text + chosen
        if self.max_length:
            text = text[: int(self.max_length)]
        self.text = text

    def delete(self) -> None:
        self.text = self.text[:-1]

    def on_digit(self, key: str) -> None:
        if key == "del":
            self.delete()
        elif key == "clear":
            self.text = ""
        else:
            self.add(key)

    def finish(self) -> None:
        text = self.text
        self._close()
        self.dispatch("on_done", text)

    def cancel(self) -> None:
        self._close()
        self.dispatch("on_cancel")

    def _close(self) -> None:
        if self._checking is not None:
            self._checking.cancel()
            self._checking = None
        self.pad.clear()
        self.keyboard.press("clear")
        self.text = ""  # nothing the villager wrote stays in a closed widget
        self.dismiss()

    # -- the ways of writing ------------------------------------------------------------

    def choose_mode(self, mode: str) -> None:
        self.mode = mode

    def on_open(self) -> None:
        self._say_how()

    def _show_mode(self, *_args: Any) -> None:
        body = self.ids.editor_body
        body.clear_widgets()
        body.add_widget({"write": self.pad, "pinyin": self.keyboard, "digits": self.keypad}[self.mode])
        self._hand_over()
        if self._window is not None:  # open: a switch of the way of writing
            self._say_how()

    def _say_how(self) -> None:
        prompt = {"write": "voice.handwriting", "pinyin": "voice.pinyin"}.get(self.mode)
        if self.voice is not None and prompt is not None:
            self.voice.say(prompt)

    def on_engines(self, *_args: Any) -> None:
        if hasattr(self, "pad"):  # not while the properties are first set, before the widgets exist
            self._hand_over()

    def _hand_over(self, *_args: Any) -> bool:
        """Give the pad and the keyboard their engines; say which is missing or still loading."""
        engines = self.engines
        if engines is not None:
            self.pad.recognizer = engines.handwriting
            self.keyboard.engine = engines.pinyin
        needed = {"write": "handwriting", "pinyin": "pinyin"}.get(self.mode)
        loaded = needed is None or (engines is not None and getattr(engines, needed) is not None)
        ready = engines is not None and engines.ready.is_set()
        tr = self.words or (lambda key: key)
        if loaded:
            self.notice = ""
        elif ready:
            self.notice = tr(engines.problems.get(needed, f"input.{needed}_unavailable"))
        else:
            self.notice = tr("input.editor.loading")
        waiting = engines is not None and not ready
        if waiting and self._checking is None:
            self._checking = Clock.schedule_interval(self._hand_over, ENGINE_CHECK_S)
        elif not waiting and self._checking is not None:
            self._checking.cancel()
            self._checking = None
        return True


def _load_rules() -> None:
    widgets.load()  # BigButton, NumericKeypad
    path = str(Path(__file__).with_suffix(".kv"))
    if path not in Builder.files:
        Builder.load_file(path)


_load_rules()
