"""What the kiosk imports once its home screen is drawn, off the UI thread.

The home screen needs no OpenCV, no page detection and no code scanner, yet importing
them took a tenth of a cold start (issue 10, ``docs/input-and-voice.md`` "Speed"). The
steps that use them import them where they are used and list them in their
``DEFERRED_IMPORTS``; ``warm_up`` imports them all as one job on the kiosk's one-shot pool
right after the first frame, so that neither the start nor the villager's first tap
(the identify screen starts the code scanner) waits for them. If a villager is quicker
than the job, the step's own import waits for the job's (Python's import lock), never
loads a module twice.

An import that fails is logged by the module's name and the error's type: the step that
needs the module meets the same error when it is used, and answers it as it always did.

When the warm-up's jobs are done, ``give_back_after`` asks glibc to return the free memory
its heaps kept from them (``malloc_trim``): building the catalog's search and importing
OpenCV free more than they keep, and the freed pages stayed counted in the app's resident
memory (≈ 14 MB on the home screen of ``benchmarks/capture_screen.py``). A C library
without ``malloc_trim`` (musl) is left as it is.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
from collections.abc import Iterable
from concurrent.futures import Future, wait

from kiosk.jobs import OneShotJobs
from kiosk.steps.capture import DEFERRED_IMPORTS as CAPTURE_IMPORTS
from kiosk.steps.identify import DEFERRED_IMPORTS as IDENTIFY_IMPORTS

# cv2 first: the others import it, and the capture and identify screens both need it.
DEFERRED_IMPORTS: tuple[str, ...] = tuple(dict.fromkeys(CAPTURE_IMPORTS + IDENTIFY_IMPORTS))

log = logging.getLogger(__name__)


def import_all(modules: Iterable[str] = DEFERRED_IMPORTS) -> list[str]:
    """Import each module; the names of those that failed (each logged once)."""
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # an optional stack missing (no zbar, no OpenCV): the step says so when used
            log.warning("deferred import of %s failed: %s", name, type(exc).__name__)
            failed.append(name)
    return failed


def warm_up(jobs: OneShotJobs, modules: Iterable[str] = DEFERRED_IMPORTS) -> Future[None]:
    """Import ``modules`` as one job on ``jobs`` (the caller's thread does not wait)."""
    names = tuple(modules)

    def job() -> None:
        import_all(names)

    return jobs.submit("warm-up imports", job)


def give_back_free_memory() -> bool:
    """glibc's ``malloc_trim(0)``: free pages of its heaps go back to the system; False when
    there is no such call (another C library) or nothing could be given back."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return bool(trim(0))


def give_back_after(jobs: OneShotJobs, futures: Iterable[Future[None]]) -> Future[None]:
    """Once every one of ``futures`` is done (failed ones too), ``give_back_free_memory`` on ``jobs``."""
    waited = tuple(futures)

    def job() -> None:
        wait(waited)
        give_back_free_memory()

    return jobs.submit("give back free memory", job)
