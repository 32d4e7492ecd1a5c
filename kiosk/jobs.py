"""``OneShotJobs``: short jobs the UI must not wait for, on one shared pool of worker threads.

Printing a receipt slip and checking a staff card's PIN take a moment on a device and
happen once; they do not loop, so they are not a ``workers.BackgroundLoop`` each but jobs
on this pool. A job that raises is logged (its type only: a message may hold personal
data) and the pool's threads go on serving the next job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)


class OneShotJobs:
    """A small shared thread pool; ``submit(what, job)`` never raises from the job."""

    def __init__(self, name: str = "kiosk-job", workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self.failures = 0

    def submit(self, what: str, job: Callable[[], None]) -> Future[None]:
        def guarded() -> None:
            try:
                job()
            except Exception as exc:
                self.failures += 1
                log.error("%s failed: %s", what, type(exc).__name__)

        return self._pool.submit(guarded)

    def close(self, wait: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)
