"""An application's card, as the status screen and the grid worker's worklist show it.

A correction shows what the county asked for in big plain words (the materials named,
the clerk's reason when the card opened it — the villager's ID card on the status screen,
the grid worker's staff card on the worklist —, else which card opens it) and a big
补交材料 button.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from screens import theme
from screens.widgets.big_button import BigButton
from screens.widgets.status_badge import StatusBadge


def _spaced(number: str) -> str:
    return f" {number} " if number else number


def unbroken_number(text: str) -> str:
    """A line holding a number padded with spaces (``_spaced``), tidied: Kivy breaks a line
    only at spaces, so a long number inside Chinese words (which have none) was cut wherever
    the width ran out (K803A-20261202-0001-615 | 47537); with a space either side it moves
    to a line of its own instead, whole. Runs of spaces become one."""
    return re.sub(" {2,}", " ", text).strip()


def status_card(screen: Any, index: int, row: Any, prefix: str,
                on_supplement: Callable[[str], None],
                on_result: Callable[[str], None] | None = None) -> BoxLayout:
    """One application on a white card: what, which number, when, the county's words, its badge."""
    card = BoxLayout(size_hint_y=None, padding=(theme.px(32), theme.px(20)), spacing=theme.px(24))
    texts = BoxLayout(orientation="vertical", spacing=theme.px(6))
    # the official number (办件编号) once the county accepted it; till then the receipt's
    number = (screen.tr("status.official_number", number=_spaced(row.official_number)) if row.official_number
              else screen.tr("status.receipt_number", number=_spaced(row.provisional_number)))
    lines = [(row.service_name, theme.LARGE, True),
             (unbroken_number(number), theme.BODY, False),
             (screen.tr("status.date", date=row.created_at), theme.SMALL, False)]
    named: dict[int, str] = {1: f"{prefix}_number_{index}"}  # line -> kiosk_id (what the tests read)
    if row.materials:
        named[len(lines)] = f"{prefix}_materials_{index}"
        lines.append((screen.tr("status.correction_materials", materials="、".join(row.materials)),
                      theme.LARGE, True))
    if row.reason and row.state in ("correction_needed", "rejected", "failed"):
        named[len(lines)] = f"{prefix}_reason_{index}"
        lines.append((screen.tr("status.reason", reason=row.reason), theme.BODY, True))
    elif row.reason_note:  # the worklist: the reason is there but needs a card to open
        named[len(lines)] = f"{prefix}_reason_note_{index}"
        lines.append((row.reason_note, theme.BODY, False))
    if row.supplement_sent:
        lines.append((screen.tr("status.supplement_sent"), theme.BODY, True))
    for n, (text, size, bold) in enumerate(lines):
        # a long name wraps (an upright screen is narrow) and its card grows with it
        label = Label(text=text, font_size=size, bold=bold, color=theme.TEXT, halign="left",
                      valign="middle", size_hint_y=None, height=theme.line(size))
        if n in named:
            label.kiosk_id = named[n]
        least = theme.line(size)
        label.bind(width=lambda w, width: setattr(w, "text_size", (width, None)),
                   texture_size=lambda w, ts, least=least: setattr(w, "height", max(least, ts[1])))
        texts.add_widget(label)

    def fit(*_args: object) -> None:
        inner = sum(c.height for c in texts.children) + texts.spacing * (len(texts.children) - 1)
        card.height = max(inner + 2 * theme.px(20), theme.px(160))

    if row.can_supplement:
        # a fixed width from the start: the words never shrink to fit a button still being laid out
        button = BigButton(kiosk_id=f"{prefix}_supplement_{index}", text=screen.tr("status.supplement"),
                           size_hint=(None, None), width=theme.px(520), height=theme.target(130),
                           font_size=theme.LARGE)
        button.bind(on_release=lambda _b, entry_id=row.entry_id: on_supplement(entry_id))
        texts.add_widget(button)
    if on_result is not None and row.results > 0 and row.state == "completed":
        result = BigButton(kiosk_id=f"{prefix}_result_{index}", text=screen.tr("status.result"),
                           size_hint=(None, None), width=theme.px(520), height=theme.target(130),
                           font_size=theme.LARGE)
        result.bind(on_release=lambda _b, entry_id=row.entry_id: on_result(entry_id))
        texts.add_widget(result)
    for label in texts.children:
        label.bind(height=fit)
    fit()
    card.add_widget(texts)
    badge = StatusBadge(text=row.state_text, colour=row.colour, pos_hint={"center_y": 0.5})
    badge.kiosk_id = f"{prefix}_badge_{index}"
    card.add_widget(badge)
    from kivy.graphics import Color, RoundedRectangle

    with card.canvas.before:
        Color(*theme.SURFACE)
        rect = RoundedRectangle(radius=[18])
    card.bind(pos=lambda w, p: setattr(rect, "pos", p), size=lambda w, s: setattr(rect, "size", s))
    return card
