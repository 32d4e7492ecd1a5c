"""A plain message in big type with one button; used for every error a villager meets."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.modalview import ModalView


class ErrorPopup(ModalView):
    message = StringProperty("")
    ok_text = StringProperty("")
    kiosk_id = StringProperty("error_popup")
