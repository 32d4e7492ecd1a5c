"""An on-screen pinyin keyboard: big letter keys, a candidate bar with pages.

The keyboard only shows and asks: the letters go to a pinyin engine handed in
(``kiosk.input.pinyin.PinyinIndex`` or anything with its ``candidates``), and a chosen
candidate leaves as ``on_choose(text)``. A candidate that covers only the first
syllables (a single character for ``zhangsan``) keeps the rest of the letters for the
next choice. Lookups take a few ms, so they run on the UI thread; the engine itself is
loaded off it (about a second) and handed in when ready: until then the letters show
and the bar stays empty. Key texts for delete/clear/pages come from the screen's
translations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from screens import theme, widgets
from screens.widgets.big_button import BigButton

ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
PAGE_SIZE = 6
FETCH = 60  # candidates fetched per lookup: ten pages
MAX_LETTERS = 24
KEY_GAP = 4  # ten keys in a row must stay >= 96 px wide on an upright 1080 px screen


class PinyinKeyboard(BoxLayout):
    """``engine`` in; ``on_choose(text)`` out. ids: pinyin_key_<letter>, pinyin_key_del, pinyin_clear,
    pinyin_apostrophe, pinyin_prev, pinyin_next, pinyin_candidate_<n>, pinyin_letters."""

    engine = ObjectProperty(None, allownone=True)
    letters = StringProperty("")
    page = NumericProperty(0)
    shown = ListProperty([])  # the candidates of the current page
    has_prev = BooleanProperty(False)
    has_next = BooleanProperty(False)
    del_text = StringProperty("⌫")
    clear_text = StringProperty("")
    prev_text = StringProperty("◀")
    next_text = StringProperty("▶")

    __events__ = ("on_choose",)

    def __init__(self, **kwargs: Any) -> None:
        self._all: list[Any] = []
        super().__init__(**kwargs)
        self._build_keys()
        self.bind(letters=self._lookup, engine=self._lookup, page=self._show_page)

    def on_choose(self, text: str) -> None:
        pass

    # -- the candidate bar's room -------------------------------------------------------
    INSET = 24  # px between a candidate's characters and its outline (both sides)

    @classmethod
    def candidate_room(cls, text: str) -> float:
        """What a candidate needs across (the bar shares its width in these proportions):
        its characters on one line at the least type size, never less than a finger's
        target. A phrase (王晓明) gets the room for one line on the narrow upright screen,
        where six equal buttons broke it in two (王晓 / 明)."""
        return float(max(theme.MIN_TARGET, len(text) * (theme.MIN_TEXT + 2) + cls.INSET))

    @classmethod
    def candidate_font(cls, width: float, text: str) -> float:
        """The largest type (up to a heading) that puts the candidate on one line."""
        return max(theme.SMALL, min(theme.HEADING, (width - cls.INSET) / max(1, len(text))))

    def _build_keys(self) -> None:
        rows = self.ids.pinyin_rows
        for row_letters in ROWS:
            row = BoxLayout(spacing=KEY_GAP)
            for letter in row_letters:
                key = BigButton(text=letter, style="secondary", font_size=theme.font(52),
                                kiosk_id=f"pinyin_key_{letter}")
                key.bind(on_release=lambda _b, ch=letter: self.press(ch))
                row.add_widget(key)
            rows.add_widget(row)

    # -- keys -------------------------------------------------------------------------

    def press(self, key: str) -> None:
        if key == "del":
            self.letters = self.letters[:-1]
        elif key == "clear":
            self.letters = ""
        elif len(self.letters) < MAX_LETTERS and (key.isalpha() and key.isascii() or key == "'"):
            self.letters += key.lower()

    def choose(self, index: int) -> None:
        if not 0 <= index < len(self.shown):
            return
        candidate = self.shown[index]
        self.letters = self.letters[candidate.consumed:].lstrip("'")
        self.dispatch("on_choose", candidate.text)

    def turn(self, step: int) -> None:
        last = max(0, (len(self._all) - 1) // PAGE_SIZE)
        self.page = min(max(self.page + step, 0), last)

    # -- candidates -------------------------------------------------------------------

    def _lookup(self, *_args: Any) -> None:
        self._all = self.engine.candidates(self.letters, limit=FETCH) if self.engine and self.letters else []
        if self.page != 0:
            self.page = 0  # _show_page runs from the binding
        else:
            self._show_page()

    def _show_page(self, *_args: Any) -> None:
        start = int(self.page) * PAGE_SIZE
        self.shown = self._all[start:start + PAGE_SIZE]
        self.has_prev = self.page > 0
        self.has_next = start + PAGE_SIZE < len(self._all)


def _load_rules() -> None:
    widgets.load()  # BigButton
    path = str(Path(__file__).with_suffix(".kv"))
    if path not in Builder.files:
        Builder.load_file(path)


_load_rules()
