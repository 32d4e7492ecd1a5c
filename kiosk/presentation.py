"""What the presenter hands the screens: view rows, the error screens catch, and helpers.

The step controllers (``kiosk.steps``) share them without importing each other. No Kivy,
no personal data beyond what a screen shows (masked).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from kiosk.catalog import FormField
from kiosk.errors import KioskError

log = logging.getLogger("kiosk.service")


MODE_APPLY = "apply"
MODE_STATUS = "status"
UNEXPECTED_KEY = "kiosk.unexpected"
CARD_POLL_S = 0.5
PREVIEW_MAX_WIDTH = 960
THUMB_MAX_WIDTH = 320
JPEG_QUALITY = 85

# Queue state -> (wording key, colour name). Screens map colour names to RGBA.
STATE_LOOK: dict[str, tuple[str, str]] = {
    "sealed": ("status.state.waiting", "grey"),
    "uploading": ("status.state.waiting", "grey"),
    "submitted": ("status.state.submitted", "blue"),
    "accepted": ("status.state.accepted", "green"),
    "correction_needed": ("status.state.correction_needed", "amber"),
    "completed": ("status.state.completed", "green"),
    "rejected": ("status.state.rejected", "red"),
    "failed": ("status.state.failed", "red"),
}
UNKNOWN_STATE_LOOK = ("status.state.unknown", "grey")


class ActionFailed(KioskError):
    """What a screen may meet: shows ``t(message_key)``; ``errors`` maps field ids to keys."""

    message_key = "kiosk.error"

    def __init__(self, message_key: str, detail: str = "", errors: dict[str, str] | None = None) -> None:
        self.message_key = message_key
        self.errors = dict(errors or {})
        super().__init__(detail or message_key)


F = TypeVar("F", bound=Callable[..., Any])


def guarded(method: F) -> F:
    """Translate every exception into ``ActionFailed`` with a message key; never personal data."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ActionFailed:
            raise
        except Exception as exc:
            raise as_action_failed(exc, method.__name__) from exc

    return wrapper  # type: ignore[return-value]


def as_action_failed(exc: BaseException, where: str = "") -> ActionFailed:
    key = getattr(exc, "message_key", None)
    if isinstance(key, str) and key:
        log.warning("%s failed: %s (%s)", where, type(exc).__name__, key)
        return ActionFailed(key, f"{type(exc).__name__} in {where}", getattr(exc, "errors", None))
    log.error("unexpected %s in %s", type(exc).__name__, where)  # no str(exc): it may hold data
    return ActionFailed(UNEXPECTED_KEY, f"{type(exc).__name__} in {where}")


@dataclass(frozen=True)
class Image:
    """Pixels for a screen: RGB, top row first."""

    width: int
    height: int
    rgb: bytes


@dataclass(frozen=True)
class ScanPreview:
    """The capture screen's live picture: RGB image, the page outline in its pixels, advice."""

    image: Image
    outline: tuple[tuple[float, float], ...]  # four corners, clockwise from top-left; () = none
    message_key: str
    guidance: str           # translated advice
    ok: bool                # every check passes
    progress: float         # 0–1, the hold before auto-capture
    fire: bool              # auto-capture: take the page now
    stalled: bool


@dataclass(frozen=True)
class FormRow:
    field: FormField
    label: str
    value: str
    from_card: bool  # fixed: read from the card, or the number typed on the identify screen
    error: str  # translated message, "" when fine
    choices: tuple[tuple[str, str], ...]  # (value, translated label)
    source_key: str = "form.from_card"  # says where a fixed value came from


@dataclass(frozen=True)
class MaterialRow:
    id: str
    name: str
    required: bool
    count: int
    pages: int
    e_certificate: bool


@dataclass(frozen=True)
class ReviewLine:
    label: str
    value: str


@dataclass(frozen=True)
class Receipt:
    provisional_number: str
    qr_text: str
    service_name: str
    created_at: str
    visits_needed: int
    agent: str = ""  # the grid worker's id when one applied on the villager's behalf (代办)


@dataclass(frozen=True)
class StatusRow:
    service_name: str
    provisional_number: str
    official_number: str
    state: str
    state_text: str
    colour: str
    reason: str
    created_at: str
    entry_id: str = ""  # the outbox id: what 补交材料 names (not personal)
    materials: tuple[str, ...] = ()  # a correction: the materials asked for, by their catalog names
    can_supplement: bool = False  # a correction waiting for its pages: the 补交材料 button shows
    supplement_sent: bool = False  # the pages were added here and wait for the county's check
    results: int = 0  # a completed application's results on the hall (the printable slip)
    reason_note: str = ""  # the worklist: why the county's reason is not shown (the card it needs)


def mask_name(name: str) -> str:
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id(number: str) -> str:
    try:
        from kiosk.idnumber import mask_id_number

        return mask_id_number(number)
    except Exception:
        return number[:2] + "*" * max(0, len(number) - 4) + number[-2:]



def to_image(frame: Any, max_width: int) -> Image:
    import cv2

    height, width = frame.shape[:2]
    if width > max_width:
        scale = max_width / width
        frame = cv2.resize(frame, (max_width, max(1, int(height * scale))), interpolation=cv2.INTER_AREA)
    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    return Image(width=rgb.shape[1], height=rgb.shape[0], rgb=rgb.tobytes())


def short_time(stamp: Any) -> str:
    """China Standard Time, whatever the kiosk's clock zone: the villager's own time."""
    from kiosk.applications import CHINA_TIME

    if isinstance(stamp, int | float):
        return datetime.fromtimestamp(stamp, CHINA_TIME).strftime("%Y-%m-%d %H:%M")
    text = str(stamp)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text[:16]
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")
