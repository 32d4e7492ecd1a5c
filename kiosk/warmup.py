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
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from concurrent.futures import Future

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
