"""The PC/SC reader at the kiosk: grid workers' staff cards and villagers' social security cards.

``SmartCardDesk(reader)`` watches a ``hardware.pcsc_reader.PcscCardReader`` (built with
``require_removal``, so a card left lying there is read once) on a worker thread and
hands every card read to ``on_card`` and every failure to ``on_error``; ``check_pin``
connects to the staff card still on the reader and VERIFYs the PIN there.

``StaffLogin`` is a grid worker who is signed in (代办 mode): the presenter stamps
``agent()`` on every application started meanwhile, and ends the login on logout or
after ``idle_timeout_s`` without a touch.

``id_card_from_social_security`` turns a social security card into the ``IdCard`` the
session and the form know. The card carries no address and no validity of an ID card:
the application says so (``identity_source`` ``social_security_card``).

No Kivy here; no personal data in a log line.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from hardware.interfaces import IdCard

log = logging.getLogger(__name__)

SOCIAL_SECURITY_SOURCE = "social_security_card"
READ_TIMEOUT_S = 0.5
ERROR_BACKOFF_S = 2.0
PIN_TIMEOUT_S = 3.0


@dataclass
class StaffLogin:
    """A signed-in grid worker; ``last_active`` moves with every touch."""

    worker_id: str
    county: str
    role: str | None
    since: float
    last_active: float

    def agent(self) -> dict[str, str]:
        """What the sealed application document carries as ``agent``."""
        return {"worker_id": self.worker_id, "county": self.county}


@dataclass(frozen=True)
class PinResult:
    """The answer to a PIN typed on the keypad: ``ok``, or why not (translated ``message``)."""

    ok: bool
    message: str = ""
    tries_left: int | None = None
    blocked: bool = False
    gone: bool = False  # the card left the reader: ask again when it is back


def id_card_from_social_security(card: Any) -> IdCard:
    """The session's ``IdCard`` for a social security card (no address, no ID-card validity)."""
    return IdCard(card_type="social_security", name=card.name, sex=card.sex, ethnicity=card.ethnicity,
                  birth_date=card.birth_date, address="", id_number=card.id_number, issuer="",
                  valid_from=card.issued or card.birth_date, valid_to=card.expires)


def needs_address(item: Any) -> bool:
    """Whether the item's form wants the address from the card (which a social security card lacks)."""
    return any(f.source == "card.address" and f.required for f in item.fields)


class SmartCardDesk:
    """Watches the PC/SC reader on a worker thread; checks staff-card PINs on demand."""

    def __init__(self, reader: Any, *, pin_reader_factory: Callable[[str], Any] | None = None) -> None:
        self.reader = reader
        self._pin_reader_factory = pin_reader_factory
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def watch(self, on_card: Callable[[Any], None], on_error: Callable[[Exception], None]) -> None:
        if self.running:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop, on_card, on_error),
                                        name="pcsc-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def close(self) -> None:
        self.stop()
        close = getattr(self.reader, "close", None)
        if callable(close):
            try:
                close()
            except Exception as exc:
                log.warning("closing the PC/SC reader failed: %s", type(exc).__name__)

    def _run(self, stop: threading.Event, on_card: Callable[[Any], None],
             on_error: Callable[[Exception], None]) -> None:
        while not stop.is_set():
            try:
                card = self.reader.read_card(READ_TIMEOUT_S)
            except Exception as exc:
                if stop.is_set():
                    return
                log.info("pcsc watch: %s", type(exc).__name__)
                try:
                    on_error(exc)
                except Exception as cb_exc:
                    log.error("pcsc error callback failed: %s", type(cb_exc).__name__)
                stop.wait(ERROR_BACKOFF_S)
                continue
            if card is None or stop.is_set():
                continue
            try:
                on_card(card)
            except Exception as exc:
                log.error("pcsc card callback failed: %s", type(exc).__name__)

    def check_pin(self, pin: str) -> Any:
        """VERIFY ``pin`` on the staff card in the reader; the reading with its role.

        Raises ``WrongPin`` / ``PinBlocked`` / ``CardReadError`` from the device layer.
        """
        factory = self._pin_reader_factory
        if factory is None:
            from hardware.pcsc_reader import PcscCardReader

            def factory(pin: str) -> Any:
                return PcscCardReader(getattr(self.reader, "reader", None), pin=pin, require_removal=False)

        reader = factory(pin)
        try:
            reading = reader.read_card(PIN_TIMEOUT_S)
        finally:
            close = getattr(reader, "close", None)
            if callable(close):
                close()
        return reading


def pin_result(exc: BaseException | None, t: Callable[..., str]) -> PinResult:
    """A ``PinResult`` for what VERIFY raised (None: it passed)."""
    if exc is None:
        return PinResult(ok=True)
    name = type(exc).__name__
    if name == "PinBlocked":
        return PinResult(ok=False, message=t("staff.pin_blocked"), tries_left=0, blocked=True)
    if name == "WrongPin":
        tries = getattr(exc, "retries_left", None)
        if tries is None:
            return PinResult(ok=False, message=t("staff.pin_format"))
        return PinResult(ok=False, message=t("staff.pin_wrong", tries=tries), tries_left=tries)
    return PinResult(ok=False, message=t("staff.card_gone"), gone=True)


def today_of(clock: Callable[[], float]) -> date:
    return date.fromtimestamp(clock())
