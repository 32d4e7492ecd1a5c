"""Sizes and colours of the kiosk's screens, in one place, from one scale of the window.

Elderly villagers with weak eyes: large type, dark text on a light ground, one strong
colour for the one main action of each screen. ``.kv`` files read these names.

Every size is drawn at 1920×1080 (upright: 1080×1920) and multiplied by one ``scale``:
the window's short side over 1080 and its long side over 1920, whichever is smaller, so
that a design that fits the big screen fits the small one. Two floors hold at every
size: no text below ``MIN_TEXT`` px and nothing one touches below ``MIN_TARGET`` px; the
floors, not the scale, are what a weak eye and a thick finger need. ``apply_window`` is
called once the window's size is known and before any screen is built (``kiosk.app``);
the names below are module globals that kv rules read when a widget is built, so a
window that changes size has its screens built again (``KioskApp._relayout``).

In kv: ``theme.px(600)`` for a length, ``theme.font(56)`` for a type size,
``theme.target(160)`` for the height of something one touches, ``theme.PORTRAIT`` for
layouts that reflow (upright: the keypad goes under the form).
"""

from __future__ import annotations


def rgba(hex_colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255, alpha)


DESIGN_LONG, DESIGN_SHORT = 1920, 1080  # the screen the sizes below were drawn for
MIN_TEXT = 28  # px: the least height of any text, at every supported size
MIN_TARGET = 96  # px: the least height and width of anything one touches
LINE_HEIGHT = 1.45  # a line of Noto Sans CJK, in em

# type sizes at scale 1 (px)
_TYPE = {"TITLE": 64, "HEADING": 52, "LARGE": 44, "BODY": 34, "SMALL": 28}
# touch targets and room at scale 1 (px)
_TARGETS = {"TARGET": 110, "BIG_TARGET": 200, "BAR_HEIGHT": 130}
_ROOM = {"PAD": 32, "GAP": 24}

scale = 1.0
PORTRAIT = False
WINDOW = (DESIGN_LONG, DESIGN_SHORT)

TITLE = HEADING = LARGE = BODY = SMALL = MIN_TEXT
TARGET = BIG_TARGET = BAR_HEIGHT = MIN_TARGET
PAD = GAP = 0


def scale_for(width: float, height: float) -> float:
    """The one scale of a window: what makes the 1920×1080 design fit it."""
    long_side, short_side = max(width, height), min(width, height)
    return min(short_side / DESIGN_SHORT, long_side / DESIGN_LONG)


def px(value: float) -> int:
    """A length drawn at 1920×1080, at this window's scale."""
    return round(value * scale)


def font(value: float) -> int:
    """A type size drawn at 1920×1080, at this window's scale, never below ``MIN_TEXT``."""
    return max(MIN_TEXT, round(value * scale))


def target(value: float) -> int:
    """The height (or width) of something one touches, never below ``MIN_TARGET``."""
    return max(MIN_TARGET, round(value * scale))


def line(type_size: float, lines: int = 1) -> int:
    """The height ``lines`` lines of text of ``type_size`` px take (Noto CJK: 1.45 em a line)."""
    return round(type_size * LINE_HEIGHT * lines)


def markup_size(value: float) -> str:
    """``[size=…]`` for text inside markup (it does not pass through ``font``)."""
    return f"[size={font(value)}]"


def apply_window(width: float, height: float) -> float:
    """Set every size for a window of ``width`` × ``height`` px; returns the scale."""
    global scale, PORTRAIT, WINDOW
    scale = scale_for(width, height)
    PORTRAIT = height > width
    WINDOW = (int(width), int(height))
    names = globals()
    for name, value in _TYPE.items():
        names[name] = font(value)
    for name, value in _TARGETS.items():
        names[name] = target(value)
    for name, value in _ROOM.items():
        names[name] = px(value)
    names["BAR_HEIGHT"] = max(names["BAR_HEIGHT"], MIN_TARGET + px(20))  # its buttons are targets too
    return scale


apply_window(DESIGN_LONG, DESIGN_SHORT)

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
DANGER = rgba("#961D17")  # 7.6:1 on the background
WARNING_BG = rgba("#FFE8A3")
WARNING_TEXT = rgba("#4A3500")
LINE = rgba("#8A8A8A")
READ_ONLY_BG = rgba("#E9E6DD")
SELECTED_BG = rgba("#D6E6FA")
SUCCESS = rgba("#17572A")  # green words on the background, 7.8:1
GOOD_BG = rgba("#175E33")  # white on it 7.8:1
WAIT_BG = rgba("#7A4200")  # white on it 8:1

# state badge colours: colour name (from kiosk.service.STATE_LOOK) -> (ground, text)
BADGE_COLOURS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "green": (rgba("#185A2B"), rgba("#FFFFFF")),
    "blue": (rgba("#0B4F9C"), rgba("#FFFFFF")),
    "amber": (rgba("#FFC629"), rgba("#1A1300")),
    "red": (rgba("#961D17"), rgba("#FFFFFF")),
    "grey": (rgba("#4F4F4F"), rgba("#FFFFFF")),
}
