"""The take-your-card reminder (event ``take_card_reminder``, ``kiosk.take_card``): a big
请取回身份证 over whatever shows, with a drawn card leaving its reader. It closes when the
card is taken or after a timeout (``take_card_done``), or at any touch: the touch then goes
on to the screen beneath, so the next person's first tap is never lost to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.modalview import ModalView


class TakeCardOverlay(ModalView):
    kiosk_id = StringProperty("take_card")
    title = StringProperty("")
    text = StringProperty("")
    ok_text = StringProperty("")

    def on_touch_down(self, touch: Any) -> bool:
        self.dismiss()
        return False  # not modal: the touch reaches what lies beneath


_KV = Path(__file__).with_suffix(".kv")
if str(_KV) not in Builder.files:
    Builder.load_file(str(_KV))
