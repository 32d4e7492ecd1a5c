"""Form: what the card gave (read-only, grey) and what is asked (big keypad, big choices,
Chinese text written by hand or on the pinyin keyboard in ``TextEditor``).

"Next" with an error scrolls the form to the first red row (7 of 13 items are taller
than the screen), then says what to do.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from screens import theme
from screens.base import KioskScreen
from screens.widgets.field_widgets import field_widget


class FormScreen(KioskScreen):
    selected = StringProperty("")  # the field the keypad types into
    decimal = BooleanProperty(False)  # the selected field takes a decimal point
    keypad_hint = StringProperty("")

    def prepare(self, **params: Any) -> None:
        self.errors: dict[str, str] = {}
        self.selected = ""
        self.editor: Any = None

    def refresh(self) -> None:
        rows = self.run(self.step.rows, getattr(self, "errors", {}))
        if rows is None:
            return
        box = self.ids.rows
        box.clear_widgets()
        self.row_widgets: dict[str, BoxLayout] = {}
        keypad_fields = [r.field.id for r in rows if field_widget(r.field.kind).keypad and not r.from_card]
        if self.selected not in keypad_fields:
            self.selected = keypad_fields[0] if keypad_fields else ""
        engines = getattr(self.nav, "input_engines", None)
        writes = any(field_widget(r.field.kind).writes_text and not r.from_card for r in rows)
        if engines is not None and writes:
            # once per kiosk, and only when text is to be written: building the pinyin index holds
            # Python's lock for seconds, so a visit whose card fills the names never pays for it
            engines.start()
        for row in rows:
            self.row_widgets[row.field.id] = self._row(row)
            box.add_widget(self.row_widgets[row.field.id])
        self.keypad_hint = self.tr("form.keypad_hint") if self.selected else ""
        self.ids.keypad.opacity = 1 if self.selected else 0
        self.ids.keypad.disabled = not self.selected
        keypad = next((field_widget(r.field.kind).keypad for r in rows if r.field.id == self.selected), None)
        self.decimal = bool(keypad and keypad.decimal)

    def _row(self, row: Any) -> BoxLayout:
        f = row.field
        outer = BoxLayout(orientation="vertical", size_hint_y=None, spacing=theme.px(8))
        label = row.label + ("" if f.required else self.tr("form.optional"))
        outer.add_widget(_text(label, theme.BODY, theme.MUTED, theme.line(theme.BODY)))
        if row.from_card:
            from_card = f"{theme.markup_size(28)}[color=3d3d3d]{self.tr(row.source_key)}[/color][/size]"
            value = _text(f"{row.value}    {from_card}",
                          theme.LARGE, theme.TEXT, theme.TARGET, ground=theme.READ_ONLY_BG)
            outer.add_widget(value)
        else:
            outer.add_widget(field_widget(f.kind).build(self, row))
        if row.error:
            outer.add_widget(_text(row.error, theme.BODY, theme.DANGER, theme.line(theme.BODY), bold=True))
        outer.height = sum(c.height for c in outer.children) + theme.px(8) * (len(outer.children) - 1)
        return outer

    def forget(self) -> None:
        self.close_editor()
        self.ids.rows.clear_widgets()
        self.row_widgets = {}
        self.errors = {}
        self.selected = ""

    def leave(self) -> None:
        self.close_editor()

    # -- Chinese text: the writing view ----------------------------------------------------

    def edit_text(self, field_id: str) -> None:
        """Open the writing view for a text field (handwriting first, pinyin and digits a tap away)."""
        from screens.widgets.text_editor import TextEditor

        rows = self.run(self.step.rows) or []
        row = next((r for r in rows if r.field.id == field_id), None)
        if row is None or row.from_card:
            return
        self.close_editor()
        editor = TextEditor(engines=getattr(self.nav, "input_engines", None), label=row.label, text=row.value,
                            max_length=row.field.max_length or 0, words=self.tr,
                            voice=getattr(self.nav, "voice", None))
        editor.bind(on_done=lambda _e, text, fid=field_id: self._text_written(fid, text))
        editor.bind(on_dismiss=lambda e: self._editor_closed(e))
        self.editor = editor
        editor.open()

    def _text_written(self, field_id: str, text: str) -> None:
        self.set_value(field_id, text.strip())

    def _editor_closed(self, editor: Any) -> None:
        if getattr(self, "editor", None) is editor:
            self.editor = None

    def close_editor(self) -> None:
        editor, self.editor = getattr(self, "editor", None), None
        if editor is not None:
            editor.cancel()

    def select(self, field_id: str) -> None:
        self.selected = field_id
        self.refresh()

    def set_value(self, field_id: str, value: str) -> None:
        self.run(self.step.set_field, field_id, value)
        self.errors.pop(field_id, None)
        self.refresh()

    def on_key(self, key: str) -> None:
        if not self.selected:
            return
        rows = self.run(self.step.rows) or []
        row = next((r for r in rows if r.field.id == self.selected), None)
        if row is None:
            return
        keypad = field_widget(row.field.kind).keypad
        value = keypad.type(row.value, key, row.field.max_length) if keypad else None
        if value is None:
            return
        self.set_value(self.selected, value)

    def next(self) -> None:
        errors = self.run(self.step.validate)
        if errors is None:
            return
        self.errors = errors
        if errors:
            self.refresh()
            self.scroll_to_first_error()
            self.nav.show_error("form.fix_red")
            return
        self.nav.forward()

    def scroll_to_first_error(self) -> None:
        """Bring the first red row into view (after the next layout, when its place is known)."""
        first = next((w for fid, w in self.row_widgets.items() if fid in self.errors), None)
        if first is None:
            return

        def scroll(_dt: float, again: bool = True) -> None:
            if first.parent is not None:
                self.ids.form_scroll.scroll_to(first, padding=theme.GAP, animate=False)
            if again:  # the rows' layout may settle a frame later: look once more
                Clock.schedule_once(lambda dt: scroll(dt, again=False), 0)

        Clock.schedule_once(scroll, 0)


def _text(text: str, size: int, colour, height: int, ground=None, bold: bool = False) -> Label:
    label = Label(text=text, font_size=size, color=colour, markup=True, bold=bold, size_hint_y=None,
                  height=height, halign="left", valign="middle", padding=(24, 0) if ground else (4, 0))
    label.bind(size=lambda w, s: setattr(w, "text_size", s))
    if ground is not None:
        from kivy.graphics import Color, RoundedRectangle

        with label.canvas.before:
            Color(*ground)
            rect = RoundedRectangle(pos=label.pos, size=label.size, radius=[14])
        label.bind(pos=lambda w, p: setattr(rect, "pos", p), size=lambda w, s: setattr(rect, "size", s))
    return label
