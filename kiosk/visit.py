"""One person at the kiosk: the only place their personal data lives in the clear.

A ``Visit`` holds everything about the villager being served, whichever way they were
identified: the card read (ID card or social security card), an ID number typed on the
keypad or read from a barcode, the applicant tag and the application number of a status
lookup (receipt QR), the chosen service item, the form values, the photographed pages,
the last camera frame, the material being photographed, the e-certificates the hall found
for them (and whether they agreed to use them), and the grid worker applying on their
behalf (代办).

``wipe()`` drops all of it as one: page bytes are kept in ``bytearray`` s and overwritten
with zeros, everything else is dropped (Python strings cannot be overwritten), and the
applicant's name is forgotten by the log filter. Nothing about a villager may be kept
anywhere else: a new attribute that holds personal data belongs here, so that the idle
timeout, finish, cancel and the crash handler wipe it with the rest.

``VisitKeeper`` owns the current visit and wipes it on ``finish``, ``cancel`` and idle
timeout (``expire_if_idle``, which the app calls from a timer). Time comes from the
injected ``clock``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hardware.interfaces import IdCard
from kiosk import privacy
from kiosk.certificates import CertificateOffer

MODE_APPLY = "apply"
MODE_STATUS = "status"

# Where the identity of an application came from (``Visit.identity_source``).
FROM_ID_CARD = "card"
FROM_PAPER = "paper"  # typed in from a paper form taken during an outage (`kiosk submit`)
FROM_SOCIAL_SECURITY_CARD = "social_security_card"  # no address, no ID-card validity
FROM_TYPED_NUMBER = "typed_id_number"  # the card would not read: number typed, name written on the form


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
        if isinstance(self.data, bytearray):  # always, after __post_init__
            self.data[:] = bytes(len(self.data))
        self.data = bytearray()

    def __repr__(self) -> str:
        return (f"Page(material_id={self.material_id!r}, {len(self.data)} bytes, "
                f"{self.media_type}, {self.width}x{self.height})")


class Visit:
    """One villager's visit. Setting ``card`` registers the name with the log filter."""

    def __init__(self, id: str, started_at: float, mode: str = MODE_APPLY) -> None:
        self.id = id
        self.started_at = started_at
        self.last_activity = started_at
        self.mode = mode  # "apply" or "status" (a status lookup keeps no card, only a tag)
        self.identity_source = FROM_ID_CARD
        self._card: IdCard | None = None
        self.typed_id_number: str | None = None  # typed on the keypad or read from a barcode
        self.applicant_tag: str | None = None  # status lookup: HMAC of the ID number
        self.lookup_number: str | None = None  # status lookup: the number on a receipt QR
        self.service_code: str | None = None
        self.fields: dict[str, str] = {}
        self.pages: list[Page] = []
        self.material_index = 0  # the material the capture step photographs now
        self.signature: Page | None = None  # the villager's signature (PNG), sealed with the application
        self.consent_text = ""  # the words the villager agreed to ("" = not agreed yet)
        # the hall's e-certificates for this item (kiosk.certificates): found, and agreed to or not
        self.certificates: CertificateOffer | None = None
        self.last_frame: Any = None  # the newest camera picture: may show a document
        # a grid worker applying on the villager's behalf (代办): {"worker_id", "county"}
        # (and "card_key": the staff card's public key, hex, which the outbox keeps; not sent)
        self.agent: dict[str, str] | None = None
        # the visit ended well (an application sealed, the status seen): the idle timeout
        # then closes it quietly, with no countdown and no "wiped" notice (kiosk.idle)
        self.finished = False
        self.used_id_reader = False  # an ID card was read here: remind to take it at the end
        self.submitted_number: str | None = None  # the provisional number of the application sealed
        self.rated = False  # its 好差评 was queued (once per application)
        # answering a correction (kiosk.steps.supplement): the application's outbox id, the
        # materials to photograph again, and the supplement's entry once sealed and queued
        self.supplement_for: str | None = None
        self.supplement_materials: tuple[str, ...] = ()
        self.supplement_sent: str | None = None
        # a completed application's results fetched from the hall for this villager, page by
        # page (shown or printed, never written to disk): wiped with the visit
        self.result_pages: list[Page] = []
        self.wiped = False

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

    @property
    def identified(self) -> bool:
        """The villager is known: a card, a typed or scanned number, or a receipt's number."""
        known = (self.typed_id_number, self.applicant_tag, self.lookup_number)
        return self._card is not None or any(known)

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

    def clear_application(self) -> None:
        """A new service item was chosen: its form and pages start empty."""
        for page in self.pages:
            page.wipe()
        self.pages.clear()
        self.fields.clear()
        self.material_index = 0
        self.clear_signature()
        self.consent_text = ""
        if self.certificates is not None:
            self.certificates.wipe()
        self.certificates = None

    def clear_signature(self) -> None:
        if self.signature is not None:
            self.signature.wipe()
        self.signature = None

    def wipe(self) -> None:
        """Drop every piece of personal data; idempotent."""
        self.clear_application()
        self._card = None
        self.typed_id_number = None
        self.applicant_tag = None
        self.lookup_number = None
        self.service_code = None
        self.submitted_number = None
        self.supplement_for = None
        self.supplement_materials = ()
        self.supplement_sent = None
        for page in self.result_pages:
            page.wipe()
        self.result_pages = []
        self.last_frame = None
        self.agent = None
        self.wiped = True
        privacy.forget_names()

    def __repr__(self) -> str:
        return (f"Visit(id={self.id!r}, mode={self.mode!r}, card={'yes' if self._card else 'no'}, "
                f"service={self.service_code!r}, fields={len(self.fields)}, pages={len(self.pages)}, "
                f"signed={'yes' if self.signature else 'no'})")


class VisitKeeper:
    """Owns the current visit; at most one at a time."""

    def __init__(self, idle_timeout_s: float, clock: Callable[[], float] = time.time) -> None:
        self.idle_timeout_s = float(idle_timeout_s)
        self.clock = clock
        self._current: Visit | None = None
        self._lock = threading.RLock()

    @property
    def current(self) -> Visit | None:
        """The visit being served, or None."""
        return self._current

    def start(self, mode: str = MODE_APPLY) -> Visit:
        """Wipe any visit left over and start a new one."""
        with self._lock:
            self._end()
            self._current = Visit(id=uuid.uuid4().hex, started_at=self.clock(), mode=mode)
            return self._current

    def finish(self) -> None:
        """The application was handed on: wipe the visit."""
        with self._lock:
            self._end()

    def cancel(self) -> None:
        """The villager gave up, a grid worker pressed cancel, or something broke: wipe the visit."""
        with self._lock:
            self._end()

    def expire_if_idle(self) -> bool:
        """Wipe the visit if it has been idle for ``idle_timeout_s``; True when it did."""
        with self._lock:
            visit = self._current
            if visit is None or visit.idle_for(self.clock()) < self.idle_timeout_s:
                return False
            self._end()
            return True

    def _end(self) -> None:
        if self._current is not None:
            self._current.wipe()
            self._current = None
