"""Turning a finished visit into a sealed, queued application: one path for all.

The confirm step (``kiosk.steps.confirm.ReviewStep.confirm``) and `kiosk submit` both
come through here, so a paper application gets exactly the validation and sealing a
kiosk one does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from kiosk.applications import build_application
from kiosk.catalog import ServiceItem
from kiosk.visit import Visit
from offline_queue.identity import DeviceIdentity
from offline_queue.outbox import OfflineQueue, QueueEntry

log = logging.getLogger(__name__)


def enqueue_session(
    session: Visit,
    item: ServiceItem,
    *,
    queue: OfflineQueue,
    identity: DeviceIdentity,
    county: str,
    data_dir: Path,
    clock: Callable[[], float] = time.time,
) -> QueueEntry:
    """Validate, seal to the hall's key and store; raises ``ApplicationInvalid`` or ``QueueFull``."""
    app = build_application(
        session,
        item,
        device_id=identity.device_id,
        county=county,
        sequence=queue.next_sequence(),
        tag_key_dir=data_dir,
        clock=clock,
    )
    entry = queue.enqueue(app, identity.hall_seal_public_key)
    log.info("application queued: %s (%s, %d pages)", entry.provisional_number, item.code, app.page_count)
    return entry
