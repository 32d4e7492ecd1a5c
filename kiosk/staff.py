"""The PC/SC reader at the kiosk: grid workers' staff cards and villagers' social security cards.

``SmartCardDesk(reader)`` watches a ``hardware.pcsc_reader.PcscCardReader`` (built with
``require_removal``, so a card left lying there is read once) on a worker thread and
hands every card read to ``on_card`` and every failure to ``on_error``; ``check_pin``
connects to the staff card still on the reader and VERIFYs the PIN there. A card with a
key pair stays connected after the PIN (``take_verified``: a ``VerifiedStaffCard``), so
that the worklist can ask it to open the county's reasons sealed to its key.

``StaffLogin`` is a grid worker who is signed in (代办 mode): the presenter stamps
``agent()`` on every application started meanwhile (with the card's public key, which
the outbox seals reasons to), and ends the login on logout or after ``idle_timeout_s``
without a touch; ``end()`` lets go of the card.

``id_card_from_social_security`` turns a social security card into the ``IdCard`` the
session and the form know. The card carries no address and no validity of an ID card:
the application says so (``identity_source`` ``social_security_card``).

No Kivy here; no personal data in a log line.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from hardware.errors import PinBlocked, WrongPin
from hardware.interfaces import IdCard
from hardware.pcsc_cards import SocialSecurityCard, StaffCardClient, StaffCardReading, VerifiedStaffCard
from kiosk.catalog import ServiceItem
from workers import BackgroundLoop

SmartCardReading = SocialSecurityCard | StaffCardReading

log = logging.getLogger(__name__)

SOCIAL_SECURITY_SOURCE = "social_security_card"
READ_TIMEOUT_S = 0.5
ERROR_BACKOFF_S = 2.0
PIN_TIMEOUT_S = 3.0


class CardKey(Protocol):
    """A staff card's key agreement (``hardware.pcsc_cards.VerifiedStaffCard``)."""

    public_key: bytes

    @property
    def usable(self) -> bool: ...

    def agree(self, peer_public: bytes) -> bytes: ...

    def close(self) -> None: ...


@dataclass
class StaffLogin:
    """A signed-in grid worker; ``last_active`` moves with every touch.

    ``card``: the staff card verified with the PIN, when it has a key pair (None for an
    older card, or once it left the reader and was let go)."""

    worker_id: str
    county: str
    role: str | None
    since: float
    last_active: float
    card: CardKey | None = field(default=None, repr=False, compare=False)

    def agent(self) -> dict[str, str]:
        """What the visit carries as ``agent``: the sealed document keeps the worker id and
        county; the outbox keeps ``card_key`` (the card's public key, hex) to seal the
        county's reasons to the card too (``kiosk.intake``)."""
        agent = {"worker_id": self.worker_id, "county": self.county}
        if self.card is not None:
            agent["card_key"] = self.card.public_key.hex()
        return agent

    def end(self) -> None:
        """Let go of the card (the connection kept since the PIN)."""
        card, self.card = self.card, None
        if card is not None:
            card.close()


@dataclass(frozen=True)
class PinResult:
    """The answer to a PIN typed on the keypad: ``ok``, or why not (translated ``message``)."""

    ok: bool
    message: str = ""
    tries_left: int | None = None
    blocked: bool = False
    gone: bool = False  # the card left the reader: ask again when it is back


def id_card_from_social_security(card: SocialSecurityCard) -> IdCard:
    """The session's ``IdCard`` for a social security card (no address, no ID-card validity)."""
    return IdCard(card_type="social_security", name=card.name, sex=card.sex, ethnicity=card.ethnicity,
                  birth_date=card.birth_date, address="", id_number=card.id_number, issuer="",
                  valid_from=card.issued or card.birth_date, valid_to=card.expires)


def needs_address(item: ServiceItem) -> bool:
    """Whether the item's form wants the address from the card (which a social security card lacks)."""
    return any(f.source == "card.address" and f.required for f in item.fields)


class SmartCardReader(Protocol):
    """What the desk needs of ``hardware.pcsc_reader.PcscCardReader``."""

    def read_card(self, timeout: float) -> SmartCardReading | None: ...

    def close(self) -> None: ...


class SmartCardDesk:
    """Watches the PC/SC reader on a worker thread; checks staff-card PINs on demand."""

    def __init__(self, reader: SmartCardReader,
                 *, card_opener: Callable[[str], tuple[StaffCardReading, VerifiedStaffCard | None]]
                 | None = None) -> None:
        self.reader = reader
        self._card_opener = card_opener
        self._verified: VerifiedStaffCard | None = None
        self._verified_lock = threading.Lock()
        self._on_card: Callable[[SmartCardReading], None] = _ignore
        self._on_error: Callable[[Exception], None] = _ignore
        # A callback that raises is logged by the loop, which waits ERROR_BACKOFF_S and goes on.
        self.loop = BackgroundLoop("pcsc-watch", self._watch_pass, interval_s=0.0,
                                   crash_backoff_s=ERROR_BACKOFF_S)

    @property
    def running(self) -> bool:
        return self.loop.running

    def watch(self, on_card: Callable[[SmartCardReading], None],
              on_error: Callable[[Exception], None]) -> None:
        if self.running:
            return
        self._on_card, self._on_error = on_card, on_error
        self.loop.start()

    def stop(self, timeout: float = 2.0) -> None:
        self.loop.stop(timeout)

    def close(self) -> None:
        self.stop()
        verified = self.take_verified()
        if verified is not None:
            verified.close()
        try:
            self.reader.close()
        except Exception as exc:
            log.warning("closing the PC/SC reader failed: %s", type(exc).__name__)

    def _watch_pass(self) -> float:
        """One read of the reader: a card goes to ``on_card``, a failure to ``on_error``."""
        try:
            card = self.reader.read_card(READ_TIMEOUT_S)
        except Exception as exc:
            if self.loop.stopping.is_set():
                return 0.0
            log.info("pcsc watch: %s", type(exc).__name__)
            self._on_error(exc)
            return ERROR_BACKOFF_S
        if card is not None and not self.loop.stopping.is_set():
            self._on_card(card)
        return 0.0

    def check_pin(self, pin: str) -> SmartCardReading | None:
        """VERIFY ``pin`` on the staff card in the reader; the reading with its role.

        A card with a key pair stays connected, verified, for ``take_verified``.
        Raises ``WrongPin`` / ``PinBlocked`` / ``CardReadError`` from the device layer.
        """
        reading, verified = (self._card_opener or self._open_staff_card)(pin)
        with self._verified_lock:
            previous, self._verified = self._verified, verified
        if previous is not None:
            previous.close()
        return reading

    def take_verified(self) -> VerifiedStaffCard | None:
        """The card verified by the last ``check_pin`` (once; the caller closes it), or None."""
        with self._verified_lock:
            verified, self._verified = self._verified, None
        return verified

    def _open_staff_card(self, pin: str) -> tuple[StaffCardReading, VerifiedStaffCard | None]:
        from hardware.errors import SmartCardError
        from hardware.pcsc_reader import PcscCardReader

        # the same PC/SC reader as the watcher's when it names one; else the first reader there is
        name = self.reader.reader if isinstance(self.reader, PcscCardReader) else None
        reader = PcscCardReader(name, require_removal=False)
        transport = None
        try:
            connected = reader.connect(PIN_TIMEOUT_S)
            if connected is None:
                raise SmartCardError("the staff card left the reader")
            transport = connected[1]
            client = StaffCardClient(transport)
            reading = client.read(pin)
        except BaseException:
            if transport is not None:
                transport.close()
            reader.close()
            raise
        if reading.public_key is None:  # an older card: nothing to keep connected
            transport.close()
            reader.close()
            return reading, None

        def release() -> None:
            transport.close()
            reader.close()

        return reading, VerifiedStaffCard(client, reading.public_key, on_close=release)


def _ignore(_value: object) -> None:
    """What the desk does with a card or an error before ``watch`` names the listeners."""


def pin_result(exc: BaseException | None, t: Callable[..., str]) -> PinResult:
    """A ``PinResult`` for what VERIFY raised (None: it passed)."""
    if exc is None:
        return PinResult(ok=True)
    if isinstance(exc, PinBlocked):
        return PinResult(ok=False, message=t("staff.pin_blocked"), tries_left=0, blocked=True)
    if isinstance(exc, WrongPin):
        tries = exc.retries_left
        if tries is None:
            return PinResult(ok=False, message=t("staff.pin_format"))
        return PinResult(ok=False, message=t("staff.pin_wrong", tries=tries), tries_left=tries)
    return PinResult(ok=False, message=t("staff.card_gone"), gone=True)
