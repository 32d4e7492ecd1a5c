"""``DeviceLease``: a device used by one step at a time, lent and taken back by its one owner.

The camera serves two steps that must never read it at once: the identify step looks for
codes held up to it (``hardware.barcode_scanner.ContinuousScanner``), the capture step
watches the page (``hardware.docscan.live.LiveScanner``). Neither stops the other: each
*borrows* the camera from the lease, and the lease takes it back from whoever holds it —
by calling that borrower's ``give_back()`` — before lending it on.

    lease = DeviceLease("camera", camera)
    camera = lease.lend(code_scan)     # code_scan.give_back() is called when another borrows
    lease.release(code_scan)           # done with it (no-op when it was taken back already)

``device`` may be swapped (a camera reopened, or a test holding up another picture); the
next ``lend`` hands out the new one.
"""

from __future__ import annotations

import logging
import threading
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)

D = TypeVar("D")


class Borrower(Protocol):
    """Something that uses a lent device; ``give_back`` stops that use now."""

    def give_back(self) -> None: ...


class DeviceLease(Generic[D]):
    """One device, one borrower at a time; see the module docstring."""

    def __init__(self, name: str, device: D | None) -> None:
        self.name = name
        self.device = device
        self._holder: Borrower | None = None
        self._lock = threading.RLock()

    @property
    def holder(self) -> Borrower | None:
        return self._holder

    def lend(self, borrower: Borrower) -> D | None:
        """Take the device back from its holder (if another) and lend it to ``borrower``."""
        with self._lock:
            holder = self._holder
            if holder is not None and holder is not borrower:
                log.info("%s: taken back from %s for %s", self.name, type(holder).__name__,
                         type(borrower).__name__)
                holder.give_back()
            self._holder = borrower
            return self.device

    def release(self, borrower: Borrower) -> None:
        """``borrower`` is done; it stops its own use before calling this."""
        with self._lock:
            if self._holder is borrower:
                self._holder = None

    def take_back(self) -> None:
        """Shutting down: stop whoever holds the device."""
        with self._lock:
            holder, self._holder = self._holder, None
        if holder is not None:
            holder.give_back()
