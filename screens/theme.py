"""Sizes and colours of the kiosk's screens, in one place (pixels at 1920×1080).

Elderly villagers with weak eyes: large type, dark text on a light ground, one strong
colour for the one main action of each screen. ``.kv`` files read these names.
"""

from __future__ import annotations


def rgba(hex_colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255, alpha)


# type sizes (px)
TITLE = 64
HEADING = 52
LARGE = 44
BODY = 34
SMALL = 28  # the smallest text on any screen

# touch targets (px)
TARGET = 110  # the least height of anything one touches
BIG_TARGET = 200
BAR_HEIGHT = 130
PAD = 32
GAP = 24

# colours
BACKGROUND = rgba("#F6F3EA")
SURFACE = rgba("#FFFFFF")
TEXT = rgba("#141414")
MUTED = rgba("#3D3D3D")  # still 10:1 on the background
PRIMARY = rgba("#0B4F9C")  # the one main action: white on deep blue, 8:1
PRIMARY_DOWN = rgba("#073A74")
ON_PRIMARY = rgba("#FFFFFF")
SECONDARY_LINE = rgba("#0B4F9C")
BAR = rgba("#0B4F9C")
DANGER = rgba("#A4201A")
WARNING_BG = rgba("#FFE8A3")
WARNING_TEXT = rgba("#4A3500")
LINE = rgba("#8A8A8A")
READ_ONLY_BG = rgba("#E9E6DD")
SELECTED_BG = rgba("#D6E6FA")

# state badge colours: colour name (from kiosk.service.STATE_LOOK) -> (ground, text)
BADGE_COLOURS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "green": (rgba("#1E6B34"), rgba("#FFFFFF")),
    "blue": (rgba("#0B4F9C"), rgba("#FFFFFF")),
    "amber": (rgba("#FFC629"), rgba("#1A1300")),
    "red": (rgba("#A4201A"), rgba("#FFFFFF")),
    "grey": (rgba("#5A5A5A"), rgba("#FFFFFF")),
}
