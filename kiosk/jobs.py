"""``OneShotJobs``: short jobs the UI must not wait for, on one shared pool of worker threads.

Printing a receipt slip and checking a staff card's PIN take a moment on a device and
happen once; they do not loop, so they are not a ``workers.BackgroundLoop`` each but jobs
on this pool. A job that raises is logged (its type only: a message may hold personal
data) and the pool's threads go on serving the next job.

``hold()`` keeps the jobs submitted from then on waiting (queued, not lost) until
``release()``: the app holds them while it builds its first frame, so that a job started
on the way there (the home screen's device check, which loads OpenCV to read the camera)
does not take the UI thread's time; ``KioskService.warm_up`` releases them once the frame
is drawn.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)


class OneShotJobs:
    """A small shared thread pool; ``submit(what, job)`` never raises from the job."""

    def __init__(self, name: str = "kiosk-job", workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self.failures = 0
        self._released = threading.Event()
        self._released.set()
        self._closed = False

    def hold(self) -> None:
        """Jobs wait from now on until ``release()`` (or ``close()``, which drops them)."""
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    @property
    def held(self) -> bool:
        return not self._released.is_set()

    def submit(self, what: str, job: Callable[[], None]) -> Future[None]:
        def guarded() -> None:
            self._released.wait()
            if self._closed:
                return  # closed while held: the kiosk is stopping, the job is moot
            try:
                job()
            except Exception as exc:
                self.failures += 1
                log.error("%s failed: %s", what, type(exc).__name__)

        return self._pool.submit(guarded)

    def close(self, wait: bool = False) -> None:
        self._closed = True
        self._released.set()  # held jobs end at once instead of keeping their threads
        self._pool.shutdown(wait=wait, cancel_futures=True)
