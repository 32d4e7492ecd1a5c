"""Which PC/SC readers are there, which hold a card, and a watcher that reports changes.

``reader_states()`` asks ``pcscd`` once (``SCardListReaders`` + ``SCardGetStatusChange``
with a zero timeout) and returns ``{reader name: ReaderState}``; it raises
``SmartCardUnavailable`` when the service does not answer. ``PcscMonitor`` polls it on a
``workers.BackgroundLoop`` (a poll that raises is logged and polling goes on) and calls
``on_event(PcscEvent)`` for each change:

=================  ===========================================================
kind               when
=================  ===========================================================
reader_added       a reader appeared (or the service came back with it)
reader_removed     a reader went away — unplugged, or ``pcscd`` itself stopped
card_inserted      a card is now in a reader (``atr`` is its ATR, hex)
card_removed       the card left the reader (also sent before ``reader_removed``)
=================  ===========================================================

Polling (every 0.2 s by default) instead of pyscard's blocking observers: it survives
``pcscd`` restarting under it (a fresh context is made when the old one dies), needs no
cancellation of a blocked call to stop, and an ATR is no personal data.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from hardware.errors import SmartCardUnavailable
from workers.loop import BackgroundLoop

log = logging.getLogger(__name__)

READER_ADDED = "reader_added"
READER_REMOVED = "reader_removed"
CARD_INSERTED = "card_inserted"
CARD_REMOVED = "card_removed"


@dataclass(frozen=True)
class ReaderState:
    name: str
    card_present: bool
    atr: str  # hex, "" without a card


@dataclass(frozen=True)
class PcscEvent:
    kind: str
    reader: str
    atr: str = ""


class PcscContext:
    """One ``SCardEstablishContext``, made again whenever the service dropped it."""

    def __init__(self) -> None:
        self._context = None
        self._lock = threading.Lock()

    def states(self) -> dict[str, ReaderState]:
        from smartcard import scard

        with self._lock:
            for attempt in (1, 2):
                context = self._get()
                rc, readers = scard.SCardListReaders(context, [])
                no_readers = rc == scard.SCARD_S_SUCCESS and not readers
                if rc == scard.SCARD_E_NO_READERS_AVAILABLE or no_readers:
                    return {}
                if rc != scard.SCARD_S_SUCCESS:
                    self._drop()  # the service restarted or went away: a fresh context, once
                    if attempt == 2:
                        raise SmartCardUnavailable(f"listing readers failed ({_text(rc)})")
                    continue
                rc, states = scard.SCardGetStatusChange(
                    context, 0, [(name, scard.SCARD_STATE_UNAWARE) for name in readers]
                )
                if rc != scard.SCARD_S_SUCCESS:
                    self._drop()
                    if attempt == 2:
                        raise SmartCardUnavailable(f"reader states failed ({_text(rc)})")
                    continue
                out = {}
                for name, event_state, atr in states:
                    present = bool(event_state & scard.SCARD_STATE_PRESENT) and not (
                        event_state & scard.SCARD_STATE_MUTE
                    )
                    out[name] = ReaderState(name, present, bytes(atr).hex().upper() if present else "")
                return out
        return {}

    def _get(self):  # noqa: ANN202 - a pcsc-lite handle
        from smartcard import scard

        if self._context is None:
            rc, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if rc != scard.SCARD_S_SUCCESS:
                raise SmartCardUnavailable(f"no PC/SC service ({_text(rc)})")
            self._context = context
        return self._context

    def _drop(self) -> None:
        from smartcard import scard

        context, self._context = self._context, None
        if context is not None:
            try:
                scard.SCardReleaseContext(context)
            except Exception:  # the service that made it is gone
                pass

    def close(self) -> None:
        with self._lock:
            self._drop()


def _text(rc: int) -> str:
    from smartcard import scard

    try:
        return str(scard.SCardGetErrorMessage(rc)).strip().rstrip(".")
    except Exception:
        return f"0x{rc & 0xFFFFFFFF:08X}"


def reader_states() -> dict[str, ReaderState]:
    """One look at every reader; raises ``SmartCardUnavailable`` without a PC/SC service."""
    context = PcscContext()
    try:
        return context.states()
    finally:
        context.close()


def diff_states(before: dict[str, ReaderState], after: dict[str, ReaderState]) -> list[PcscEvent]:
    """The events that turn ``before`` into ``after``, in a sensible order."""
    events = []
    for name, old in before.items():
        new = after.get(name)
        if old.card_present and (new is None or not new.card_present or new.atr != old.atr):
            events.append(PcscEvent(CARD_REMOVED, name))
        if new is None:
            events.append(PcscEvent(READER_REMOVED, name))
    for name, new in after.items():
        previous = before.get(name)
        if previous is None:
            events.append(PcscEvent(READER_ADDED, name))
        if new.card_present and (previous is None or not previous.card_present or new.atr != previous.atr):
            events.append(PcscEvent(CARD_INSERTED, name, new.atr))
    return events


class PcscMonitor:
    """Polls the readers on a thread and reports ``PcscEvent``s; ``start()``/``stop()``.

    ``service_up`` tells whether the last poll reached ``pcscd``. Readers whose names do not
    pass ``reader_filter`` are ignored. ``on_event`` runs on the monitor's thread.
    """

    def __init__(
        self,
        on_event: Callable[[PcscEvent], None],
        *,
        interval: float = 0.2,
        reader_filter: Callable[[str], bool] | None = None,
    ) -> None:
        self.on_event = on_event
        self.interval = interval
        self.reader_filter = reader_filter
        self.service_up = False
        self.states: dict[str, ReaderState] = {}
        self._context = PcscContext()
        # a poll that raises (an odd answer from pyscard) is logged and the next one runs
        self.loop = BackgroundLoop("pcsc-monitor", self.poll_once, interval_s=interval)

    def poll(self) -> list[PcscEvent]:
        """One poll: update ``states`` and return (and report) the events."""
        try:
            now = self._context.states()
            self.service_up = True
        except SmartCardUnavailable:
            if self.service_up:
                log.warning("PC/SC service lost")
            now, self.service_up = {}, False
        if self.reader_filter is not None:
            now = {n: s for n, s in now.items() if self.reader_filter(n)}
        events = diff_states(self.states, now)
        self.states = now
        for event in events:
            log.info("pcsc: %s on %s", event.kind, event.reader)
            try:
                self.on_event(event)
            except Exception as exc:
                log.error("pcsc observer failed: %s", type(exc).__name__)
        return events

    def poll_once(self) -> None:
        """One pass of the monitor's loop."""
        self.poll()

    @property
    def running(self) -> bool:
        return self.loop.running

    def start(self) -> PcscMonitor:
        self.loop.start()
        return self

    def stop(self) -> None:
        self.loop.stop(5)
        self._context.close()

    def __enter__(self) -> PcscMonitor:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
