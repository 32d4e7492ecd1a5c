"""``BackgroundLoop``: the one way the kiosk runs work on a thread of its own.

A kiosk thread that dies silently is the worst bug a kiosk can have: nothing says so,
and the thing it did (sending the queue, reading the card) just stops. So every worker
thread is a ``BackgroundLoop``: it calls one *pass* function again and again, and a pass
that raises is logged and counted, never fatal. Only ``stop()``, or a pass returning
``STOP``, ends the loop.

    loop = BackgroundLoop("offline-queue-sync", one_pass, interval_s=30)
    loop.start()
    loop.wake()        # run the next pass now instead of after the interval
    loop.running       # True while the thread is alive and not asked to stop
    loop.stats         # passes, crashes, the last crash's exception type
    loop.stop()

A pass returns ``None`` (wait ``interval_s`` before the next), a number (wait that many
seconds; ``0`` runs again at once), or ``BackgroundLoop.STOP`` (end the loop: for a
worker that learns it must not go on, e.g. a revoked kiosk). Long passes can look at
``loop.stopping`` (a ``threading.Event``) to give up early, and ``loop.sleep(s)`` waits
inside a pass yet wakes on ``stop()``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class LoopStats:
    """What a loop has done, for health reports and for tests that prove it is alive."""

    passes: int = 0
    crashes: int = 0
    last_crash: str = ""  # the exception's type name only: a message may hold personal data


class _Stop:
    def __repr__(self) -> str:
        return "BackgroundLoop.STOP"


PassResult = float | int | None | _Stop


class BackgroundLoop:
    """Runs ``one_pass`` on a daemon thread until stopped; see the module docstring."""

    STOP = _Stop()

    def __init__(
        self,
        name: str,
        one_pass: Callable[[], PassResult],
        interval_s: float,
        *,
        crash_backoff_s: float | None = None,
        on_crash: Callable[[BaseException], None] | None = None,
        on_exit: Callable[[], None] | None = None,
        lower_priority: bool = False,
    ) -> None:
        self.name = name
        self.one_pass = one_pass
        self.interval_s = interval_s
        # After a crash, wait at least this long: a pass that fails at once must not spin.
        self.crash_backoff_s = interval_s if crash_backoff_s is None else crash_backoff_s
        self.on_crash = on_crash
        self.on_exit = on_exit
        self.lower_priority = lower_priority
        self.stats = LoopStats()
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- control ------------------------------------------------------------------

    def start(self) -> None:
        """Start the thread; does nothing while it runs. A stopped loop can start again."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and not self.stopping.is_set():
                return
            old = self._thread
            if old is not None and old is not threading.current_thread():
                old.join()
            self.stopping = threading.Event()
            self._wake.clear()
            self._thread = threading.Thread(target=self._run, args=(self.stopping,), name=self.name,
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Ask the loop to end and wait up to ``timeout_s``; True when the thread has ended."""
        self.stopping.set()
        self._wake.set()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout_s)
        if thread.is_alive():
            log.warning("%s: still in a pass %.1f s after stop()", self.name, timeout_s)
            return False
        return True

    def wake(self) -> None:
        """Run the next pass now rather than after the interval."""
        self._wake.set()

    def sleep(self, seconds: float) -> bool:
        """Wait inside a pass; returns early (True) when the loop is being stopped."""
        return self.stopping.wait(seconds)

    @property
    def running(self) -> bool:
        """True while the thread is alive and has not been asked to stop."""
        thread = self._thread
        return thread is not None and thread.is_alive() and not self.stopping.is_set()

    @property
    def alive(self) -> bool:
        """True while the thread exists at all (also while it finishes after ``stop()``)."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def join(self, timeout_s: float | None = None) -> None:
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    # -- the thread ---------------------------------------------------------------

    def _run(self, stopping: threading.Event) -> None:
        if self.lower_priority:
            _lower_priority()
        try:
            while not stopping.is_set():
                self._wake.clear()
                delay = self._one_pass_guarded()
                if isinstance(delay, _Stop):
                    log.info("%s: ended by its own pass", self.name)
                    return
                if stopping.is_set():
                    return
                if delay is None:
                    delay = self.interval_s
                if delay > 0:
                    self._wake.wait(delay)
        finally:
            if self.on_exit is not None:
                try:
                    self.on_exit()
                except Exception:  # noqa: BLE001 - the thread is ending anyway; say so
                    log.exception("%s: on_exit failed", self.name)

    def _one_pass_guarded(self) -> PassResult:
        try:
            result = self.one_pass()
        except Exception as exc:  # noqa: BLE001 - the whole point: a pass never kills the loop
            self.stats.crashes += 1
            self.stats.last_crash = type(exc).__name__
            log.exception("%s: a pass failed (%s); the loop goes on", self.name, type(exc).__name__)
            if self.on_crash is not None:
                try:
                    self.on_crash(exc)
                except Exception:  # noqa: BLE001
                    log.exception("%s: on_crash failed", self.name)
            return self.crash_backoff_s
        finally:
            self.stats.passes += 1
        if isinstance(result, _Stop) or result is None:
            return result
        return max(0.0, float(result))


def _lower_priority() -> None:
    """Make this thread yield to the UI (Linux: threads have their own nice value)."""
    import os

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass
