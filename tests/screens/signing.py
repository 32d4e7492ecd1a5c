"""Signing on the signature screen by touch, for every GUI scenario that submits an application."""

from __future__ import annotations

from typing import Any


def draw_signature(d: Any) -> None:
    """A finger signs across the pad: real touch down, moves and up on the pad widget."""
    import math

    pad = d.find("signature_pad")

    def scrawl() -> None:
        from kivy.tests.common import UnitTestTouch

        for stroke in range(2):
            points = [pad.to_window(pad.x + pad.width * (0.1 + 0.4 * stroke + 0.012 * i),
                                    pad.y + pad.height * (0.5 + 0.25 * math.sin(i / 3 + stroke)))
                      for i in range(30)]
            touch = UnitTestTouch(*points[0])
            touch.touch_down()
            for x, y in points[1:]:
                touch.touch_move(x, y)
            touch.touch_up()

    d.call(scrawl)
    d.wait_for(lambda: len(pad.strokes) == 2, what="the signature's strokes")


def sign_and_submit(d: Any, shots: bool = False) -> None:
    """On the signature screen (after 确认无误): agree, sign, submit. Other scenarios use it too."""
    d.wait_for_screen("signature")
    if shots:
        d.screenshot("22a-signature")
    d.tap("consent_agree")
    d.wait_for(lambda: d.app.service.steps.signature.agreed, what="the consent")
    if shots:  # agreed but not signed: a clear message, nothing sealed
        d.tap("signature_confirm")
        d.wait_for(lambda: d._find("popup_ok") is not None, what="the 'sign first' message")
        d.screenshot("22b-signature-empty")
        d.tap("popup_ok")
        d.wait_for(lambda: d._find("popup_ok") is None, what="the message to close")
    draw_signature(d)
    if shots:
        d.screenshot("22-signature")
    d.tap("signature_confirm")
