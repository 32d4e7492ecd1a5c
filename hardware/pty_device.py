"""A simulated serial device on a pseudo-terminal, the base of the device simulators.

The simulator holds the master side and serves the device's protocol on a thread (a
``workers.BackgroundLoop``: a bug in ``_serve`` is logged and serving starts again);
``port`` is the slave's path, which the real driver opens through pyserial exactly as it
would open ``/dev/ttyUSB0``. Subclasses set up their state, then call ``_start_pty``,
and implement ``_serve`` (a loop that ends when ``_stop`` is set).
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from typing import Self

from workers.loop import BackgroundLoop


class PtyDevice:
    thread_name = "pty-device"

    def _start_pty(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        # one pass is one call of ``_serve``, which returns only once ``_stop`` is set
        self._loop = BackgroundLoop(self.thread_name, self._serve, interval_s=0.0, crash_backoff_s=0.05)
        self._loop.start()

    @property
    def _stop(self) -> threading.Event:
        """Set when the simulator closes; ``_serve`` loops until then."""
        return self._loop.stopping

    def _serve(self) -> None:
        raise NotImplementedError

    def _read_chunk(self) -> bytes | None:
        """What the driver wrote since the last call (None when nothing came in 50 ms).

        An ``OSError`` (closing, or nobody on the slave side for a moment) also gives None,
        after a short pause, so that ``_serve`` loops simply ``while not self._stop``.
        """
        try:
            ready, _, _ = select.select([self._master], [], [], 0.05)
            return os.read(self._master, 4096) if ready else None
        except OSError:
            time.sleep(0.05)
            return None

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._loop.stop(2)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
