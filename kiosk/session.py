"""One applicant at the kiosk: the only place their personal data lives in the clear.

A ``Session`` holds the card read, the chosen service item, the form values and the
photographed pages. ``wipe()`` drops all of it: page bytes are kept in ``bytearray`` s
and overwritten with zeros, the card and form values are dropped (Python strings cannot
be overwritten), and the applicant's name is forgotten by the log filter.

``SessionKeeper`` owns the current session and wipes it on ``finish``, ``cancel`` and
idle timeout (``expire_if_idle``, which the presenter calls from a timer). Time comes
from the injected ``clock``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from hardware.interfaces import IdCard
from kiosk import privacy
from kiosk.errors import NoActiveSession, SessionExpired


@dataclass(repr=False, eq=False)
class Page:
    """One photographed page of a material. ``data`` is held as a bytearray so it can be wiped."""

    material_id: str
    data: bytes | bytearray = field(repr=False)
    media_type: str = "image/jpeg"
    width: int = 0
    height: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.data, bytearray):
            self.data = bytearray(self.data)

    def wipe(self) -> None:
        self.data[:] = bytes(len(self.data))
        self.data = bytearray()

    def __repr__(self) -> str:
        return (f"Page(material_id={self.material_id!r}, {len(self.data)} bytes, "
                f"{self.media_type}, {self.width}x{self.height})")


class Session:
    """One applicant's visit. Setting ``card`` registers the name with the log filter."""

    def __init__(self, id: str, started_at: float) -> None:
        self.id = id
        self.started_at = started_at
        self.last_activity = started_at
        self.service_code: str | None = None
        self.fields: dict[str, str] = {}
        self.pages: list[Page] = []
        self.wiped = False
        # "card": read from the ID card reader; "paper": typed in from a paper form
        # taken during an outage (`kiosk submit`), so card validity is unknown;
        # "social_security_card": read from a social security card (no address on it).
        self.identity_source = "card"
        self._card: IdCard | None = None
        # a grid worker applying on the villager's behalf (代办): {"worker_id", "county"}
        self.agent: dict[str, str] | None = None

    @property
    def card(self) -> IdCard | None:
        return self._card

    @card.setter
    def card(self, card: IdCard | None) -> None:
        self._card = card
        if card is not None:
            privacy.register_name(card.name)
            if card.english_name:
                privacy.register_name(card.english_name)

    def touch(self, now: float) -> None:
        """Record activity (a tap, a card read, a page taken) at ``now``."""
        self.last_activity = max(self.last_activity, now)

    def idle_for(self, now: float) -> float:
        return max(0.0, now - self.last_activity)

    def add_page(self, page: Page) -> None:
        self.pages.append(page)

    def pages_for(self, material_id: str) -> list[Page]:
        return [page for page in self.pages if page.material_id == material_id]

    def remove_page(self, index: int) -> None:
        self.pages.pop(index).wipe()

    def wipe(self) -> None:
        """Drop every piece of personal data; idempotent."""
        for page in self.pages:
            page.wipe()
        self.pages.clear()
        for key in list(self.fields):
            self.fields[key] = ""
        self.fields.clear()
        self._card = None
        self.service_code = None
        self.agent = None
        self.wiped = True
        privacy.forget_names()

    def __repr__(self) -> str:
        return (f"Session(id={self.id!r}, card={'yes' if self._card else 'no'}, "
                f"service={self.service_code!r}, fields={len(self.fields)}, pages={len(self.pages)})")


class SessionKeeper:
    """Owns the current session; at most one at a time."""

    def __init__(self, idle_timeout_s: float, clock: Callable[[], float] = time.time) -> None:
        self.idle_timeout_s = float(idle_timeout_s)
        self.clock = clock
        self._current: Session | None = None
        self._expired = False
        self._lock = threading.RLock()

    @property
    def current(self) -> Session | None:
        """The session being served, or None."""
        return self._current

    def start(self) -> Session:
        """Wipe any session left over and start a new one."""
        with self._lock:
            self._end()
            self._expired = False
            self._current = Session(id=uuid.uuid4().hex, started_at=self.clock())
            return self._current

    def require(self) -> Session:
        """The current session, checked for idleness first.

        Raises ``SessionExpired`` (once, after an idle timeout wiped it) or ``NoActiveSession``.
        """
        with self._lock:
            self.expire_if_idle()
            if self._current is None:
                if self._expired:
                    self._expired = False
                    raise SessionExpired("the session was idle too long and has been wiped")
                raise NoActiveSession("no applicant is being served")
            return self._current

    def touch(self) -> None:
        """Record activity on the current session now (no-op without one)."""
        with self._lock:
            if self._current is not None:
                self._current.touch(self.clock())

    def finish(self) -> None:
        """The application was handed on: wipe the session."""
        with self._lock:
            self._end()

    def cancel(self) -> None:
        """The applicant gave up (or a grid worker pressed cancel): wipe the session."""
        with self._lock:
            self._end()

    def expire_if_idle(self) -> bool:
        """Wipe the session if it has been idle for ``idle_timeout_s``; True when it did."""
        with self._lock:
            session = self._current
            if session is None or session.idle_for(self.clock()) < self.idle_timeout_s:
                return False
            self._end()
            self._expired = True
            return True

    def _end(self) -> None:
        if self._current is not None:
            self._current.wipe()
            self._current = None
