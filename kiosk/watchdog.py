"""Telling systemd the kiosk is alive: ``READY=1`` once, then ``WATCHDOG=1`` from the UI loop.

The unit (``deploy/kiosk.service``) says ``Type=notify`` and ``WatchdogSec=``: systemd
hands the app a ``NOTIFY_SOCKET`` (a unix datagram socket, ``@`` for the abstract
namespace) and ``WATCHDOG_USEC``, and restarts the app when the pings stop. The pings
are sent by the Kivy clock (``kiosk.app``), on the UI thread itself: a UI that hangs —
a callback stuck in a loop, a dead lock — stops pinging, which is the point; a ping from
a worker thread would keep a frozen screen alive forever.

The protocol is one datagram of ``KEY=value`` lines (``sd_notify(3)``); it is written
here in a few lines rather than taken from a package. Without ``NOTIFY_SOCKET`` (a
developer's shell, the tests) every call does nothing. A failed send is logged once and
never raised: the watchdog must not be what brings the kiosk down.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class SystemdNotifier:
    """Sends ``sd_notify`` messages to ``NOTIFY_SOCKET``, if systemd gave one."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self.address = "\0" + address[1:] if address.startswith("@") else address
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        watched = usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid()))
        self.watchdog_usec = int(usec) if watched else 0
        self._socket: socket.socket | None = None
        self._failed = False

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    @property
    def ping_interval(self) -> float | None:
        """Seconds between pings: half the watchdog's time, as ``sd_watchdog_enabled(3)`` advises."""
        return self.watchdog_usec / 2_000_000 if self.enabled and self.watchdog_usec else None

    def notify(self, **fields: str | int) -> bool:
        """Send ``KEY=value`` lines (``notify(READY=1, STATUS="…")``); False if not sent."""
        if not self.enabled:
            return False
        message = "\n".join(f"{key}={value}" for key, value in fields.items()).encode()
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._socket.sendto(message, self.address)
            return True
        except OSError as exc:
            if not self._failed:
                log.warning("could not notify systemd (%s); the watchdog may restart the kiosk",
                            type(exc).__name__)
                self._failed = True
            return False

    def ready(self) -> bool:
        return self.notify(READY=1, STATUS="home screen shown")

    def ping(self) -> bool:
        return self.notify(WATCHDOG=1)

    def stopping(self) -> bool:
        return self.notify(STOPPING=1)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
