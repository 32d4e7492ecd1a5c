"""Catalog: categories with pictures, the items of one as big picture buttons, and a search.

Browsing: the categories down the left (``category_<id>``, the first one chosen), the
items of the chosen one on the right (``service_<code>``), and a search tile
(``catalog_search``) under the categories that never scrolls away. Upright, the categories
go two to a row above the items, which take one row each and share the room left.
Searching: letter keys in A–Z order (``letter_<a>``, ``letter_del``,
``letter_clear``) or the handwriting pad (``catalog_by_hand``; the same
``HandwritingPad`` the form uses), the results down the left (``result_<code>``) and a way
back to the categories (``catalog_by_category``). An item that cannot be done now shows
why in its button and is greyed; tapping it explains. The step decides all of that.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView

from kiosk.steps.choose import CatalogPlace
from screens import theme
from screens.base import KioskScreen
from screens.catalog_icons import PictureButton
from screens.widgets.big_button import BigButton

LETTERS = "abcdefghijklmnopqrstuvwxyz"
LETTER_COLUMNS = 7
LETTERS_MODE, HAND_MODE = "letters", "hand"


def _words(name: str, second: str, colour: str = "") -> str:
    """A name and, smaller, a second line (in ``colour``, hex, or the button's own)."""
    if not second:
        return name
    small = f"[size={theme.SMALL}]{second}[/size]"
    return f"{name}\n[color={colour}]{small}[/color]" if colour else f"{name}\n{small}"


class CatalogScreen(KioskScreen):
    greeting = StringProperty("")
    prompt = StringProperty("")
    category = StringProperty("")
    searching = BooleanProperty(False)
    mode = StringProperty(LETTERS_MODE)
    letters = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self._pad: Any = None
        self._items: GridLayout | None = None
        super().__init__(**kwargs)
        self._restore()
        self.bind(category=self._remember, searching=self._remember, mode=self._remember,
                  letters=self._remember)

    def _restore(self) -> None:
        """Where the step says this visit was (the screen may have been dropped and built again)."""
        if self.step is not None:
            place = self.step.place
            self.category, self.searching, self.mode, self.letters = (place.category, place.searching,
                                                                      place.mode, place.letters)

    def _remember(self, *_args: Any) -> None:
        if self.step is not None:
            self.step.remember(CatalogPlace(self.category, self.searching, self.mode, self.letters))

    # -- what the step says ----------------------------------------------------------------

    def prepare(self, **params: Any) -> None:
        self._restore()  # a new visit starts at the first category

    def refresh(self) -> None:
        card = self.step.card_summary()
        self.greeting = self.tr("catalog.greeting", name=card["name"]) if card["name"] else ""
        categories = self.step.categories()
        if self.category not in {c.id for c in categories} and categories:
            self.category = categories[0].id
        if self.searching:
            self._show_search()
        else:
            self._show_browse(categories)

    def forget(self) -> None:
        self.greeting = self.letters = ""
        self.searching = False
        self.mode = LETTERS_MODE
        self.category = ""
        if self._pad is not None:
            self._pad.clear()

    def on_event_catalog_search_ready(self, handwriting: bool) -> None:
        if self.searching:
            self._show_search()

    # -- browsing by category ----------------------------------------------------------------

    def _show_browse(self, categories: list[Any]) -> None:
        self.prompt = self.tr("catalog.prompt")
        side, main, pinned = self.ids.side, self.ids.main, self.ids.pinned
        side.clear_widgets()
        pinned.clear_widgets()
        # upright, the categories go two to a row above the items: the screen is narrow and tall
        tiles = GridLayout(cols=2 if theme.PORTRAIT else 1, spacing=theme.GAP, size_hint_y=None)
        tiles.bind(minimum_height=tiles.setter("height"))
        for c in categories:
            tile = PictureButton(kiosk_id=f"category_{c.id}", icon=c.icon, height=theme.target(140),
                                 style="selected" if c.id == self.category else "secondary",
                                 words=_words(c.name, self.tr("catalog.count", count=c.count)))
            tile.bind(on_release=lambda _b, cid=c.id: self.show_category(cid))
            tiles.add_widget(tile)
        side.add_widget(tiles)
        search = PictureButton(kiosk_id="catalog_search", icon="search", height=theme.target(140),
                               style="secondary",
                               words=_words(self.tr("catalog.search"), self.tr("catalog.by_letters")
                                            + " / " + self.tr("catalog.by_hand")))
        search.bind(on_release=lambda *_: self.start_search())
        pinned.add_widget(search)  # outside the scrolling list: reachable at every size without scrolling

        main.clear_widgets()
        # upright: one item a row, as tall as the room below the categories allows (fit_items)
        grid = GridLayout(cols=1 if theme.PORTRAIT else 2, spacing=theme.GAP, size_hint_y=None)
        grid.bind(minimum_height=grid.setter("height"))
        for row in self.step.rows(self.category):
            grid.add_widget(self._item_button(row, f"service_{row.code}"))
        scroll = ScrollView(do_scroll_x=False, bar_width=theme.GAP // 2)
        scroll.add_widget(grid)
        main.add_widget(scroll)
        self._fit_side()
        self._items = grid
        self.fit_items()

    def _fit_side(self) -> None:
        """How much of the screen the side column takes; upright it shares the height with the items."""
        column, side = self.ids.side_column, self.ids.side
        side.unbind(minimum_height=self._side_height_changed)
        if not theme.PORTRAIT:
            column.size_hint_y = 1
        elif self.searching:
            column.size_hint_y = 0.62  # the results above, the keys or the pad below (as tall: 1)
        else:
            side.bind(minimum_height=self._side_height_changed)
            self._side_height_changed()

    def _side_height_changed(self, *_args: Any) -> None:
        """Upright browsing: the categories and the search tile as tall as they need, up to half."""
        column, side, pinned = self.ids.side_column, self.ids.side, self.ids.pinned
        room = max(0.0, self.height - theme.BAR_HEIGHT - theme.TARGET - theme.PAD * 2)
        wanted = side.minimum_height + theme.GAP + pinned.height
        column.size_hint_y = None
        column.height = min(wanted, room * 0.5)

    def fit_items(self, *_args: Any) -> None:
        """Upright: the item tiles share the room below the categories (larger tiles, no empty third)."""
        grid = getattr(self, "_items", None)
        if grid is None or not theme.PORTRAIT or self.searching or not grid.children:
            return
        room = self.ids.main.height
        count = len(grid.children)
        each = (room - theme.GAP * (count - 1)) / count
        each = int(min(max(each, theme.BIG_TARGET), theme.BIG_TARGET * 1.6))
        for button in grid.children:
            button.least_height = each
            button.height = each  # fit_words grows it again if its words need more

    def on_kv_post(self, base_widget: Any) -> None:
        super().on_kv_post(base_widget)
        self.ids.main.bind(height=self.fit_items)
        self.ids.pinned.bind(height=lambda *_: self._fit_side())
        self.bind(height=lambda *_: self._fit_side())

    def _item_button(self, row: Any, kiosk_id: str, narrow: bool = False) -> PictureButton:
        """An item's picture button; ``narrow`` (the results column): the name without the department."""
        second = row.blocked or ("" if narrow else row.department)
        size = theme.BODY if narrow or len(row.name) > 12 else theme.LARGE
        button = PictureButton(kiosk_id=kiosk_id, icon=row.icon, height=theme.BIG_TARGET, style="secondary",
                               words_size=size,
                               words=_words(row.name, second, "8a1b16" if row.blocked else "3d3d3d"))
        if row.blocked:
            button.ground, button.ink, button.outline = theme.READ_ONLY_BG, theme.MUTED, theme.LINE
        button.bind(on_release=lambda _b, code=row.code: self.choose(code))
        return button

    def show_category(self, category_id: str) -> None:
        self.category = category_id
        self.refresh()

    # -- searching -------------------------------------------------------------------------------

    def start_search(self) -> None:
        self.searching = True
        self.letters = ""
        self.step.load_search()  # normally loaded on entering; again if that failed
        self.refresh()

    def stop_search(self) -> None:
        self.searching = False
        self.letters = ""
        self.refresh()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.letters = ""
        self._show_search()

    def press(self, key: str) -> None:
        if key == "del":
            self.letters = self.letters[:-1]
        elif key == "clear":
            self.letters = ""
        elif len(self.letters) < 12:
            self.letters += key
        self._show_results()

    def wrote(self, character: str) -> None:
        self.letters = character  # one character finds the items whose names hold it
        self._show_results()

    def _show_search(self) -> None:
        main = self.ids.main
        main.clear_widgets()
        self.ids.pinned.clear_widgets()
        self._items = None
        self._fit_side()
        modes = BoxLayout(size_hint_y=None, height=theme.TARGET, spacing=theme.GAP)
        for mode, key in ((LETTERS_MODE, "catalog.by_letters"), (HAND_MODE, "catalog.by_hand")):
            button = BigButton(kiosk_id=f"catalog_by_{mode}", text=self.tr(key), font_size=theme.LARGE,
                               style="selected" if mode == self.mode else "secondary")
            button.bind(on_release=lambda _b, m=mode: self.set_mode(m))
            modes.add_widget(button)
        main.add_widget(modes)
        main.add_widget(self._letter_keys() if self.mode == LETTERS_MODE else self._handwriting())
        self._show_results()

    def _letter_keys(self) -> GridLayout:
        grid = GridLayout(cols=LETTER_COLUMNS, spacing=theme.GAP // 2)
        for key in (*LETTERS, "del", "clear"):
            text = key if len(key) == 1 else self.tr(f"catalog.key_{key}")
            button = BigButton(kiosk_id=f"letter_{key}", text=text, size_hint_y=1,
                               font_size=theme.HEADING if len(key) == 1 else theme.BODY,
                               style="danger" if key == "clear" else "secondary")
            button.bind(on_release=lambda _b, k=key: self.press(k))
            grid.add_widget(button)
        return grid

    def _handwriting(self) -> Any:
        from screens.widgets.handwriting_pad import HandwritingPad

        if self._pad is None:
            self._pad = HandwritingPad()
            self._pad.bind(on_choose=lambda _pad, text: self.wrote(text))
        self._pad.recognizer = self.step.handwriting
        self._pad.undo_text = self.tr("catalog.pad_undo")
        self._pad.clear_text = self.tr("catalog.pad_clear")
        if self._pad.parent is not None:
            self._pad.parent.remove_widget(self._pad)
        return self._pad

    def _show_results(self) -> None:
        """The side column: the way back to the categories, what was typed, the items found."""
        side = self.ids.side
        side.clear_widgets()
        back = BigButton(kiosk_id="catalog_by_category", text=self.tr("catalog.by_category"),
                         style="secondary", font_size=theme.LARGE)
        back.bind(on_release=lambda *_: self.stop_search())
        side.add_widget(back)
        if not self.step.search_ready:
            note = self.tr("catalog.loading")
            rows: list[Any] = []
        elif not self.letters:
            note, rows = self.tr("catalog.search_start"), []
        else:
            rows = self.step.search(self.letters)
            note = self.tr("catalog.typed", letters=self.letters) + "\n" + (
                "" if rows else self.tr("catalog.no_results"))
        self.prompt = self.tr("catalog.search_hint")
        found = GridLayout(cols=1, spacing=theme.GAP, size_hint_y=None)
        found.bind(minimum_height=found.setter("height"))
        label = Label(text=note.strip(), font_size=theme.BODY, color=theme.TEXT, size_hint_y=None,
                      height=theme.TARGET, halign="left", valign="middle")
        label.kiosk_id = "catalog_search_note"
        label.bind(size=lambda w, size: setattr(w, "text_size", size))
        found.add_widget(label)
        for row in rows:
            found.add_widget(self._item_button(row, f"result_{row.code}", narrow=True))
        side.add_widget(found)  # the side column scrolls as a whole (catalog.kv)

    # -- choosing ----------------------------------------------------------------------------------

    def choose(self, code: str) -> None:
        if self.run(self.step.choose, code):
            self.nav.forward()
