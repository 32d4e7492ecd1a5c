"""Turning a finished visit into a sealed, queued application: one path for all.

The confirm step (``kiosk.steps.confirm.ReviewStep.confirm``) and `kiosk submit` both
come through here, so a paper application gets exactly the validation and sealing a
kiosk one does.

Before anything is sealed, the size of the ``POST /applications`` request that will
carry the application is bounded from above (``request_bytes``) and checked against the
protocol's JSON limit (docs/protocol.md section 2: 4 MiB): the hall would refuse a larger
one for good, after it had waited in the queue (issue 9: a 13 MB request was sent).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from kiosk.applications import Application, build_application
from kiosk.catalog import ServiceItem
from kiosk.errors import ApplicationTooLarge
from kiosk.visit import Visit
from offline_queue.identity import DeviceIdentity
from offline_queue.outbox import OfflineQueue, QueueEntry

log = logging.getLogger(__name__)

PROTOCOL_MAX_JSON_BYTES = 4 * 1024 * 1024  # docs/protocol.md section 2
_SEAL_OVERHEAD = 4 + 32 + 12 + 48 + 12 + 16  # offline_queue.sealing: header and GCM tag
_ENVELOPE_BYTES = 1024  # the request's own keys, UUID, numbers, codes and dates
_ATTACHMENT_ROW_BYTES = 256  # {"sha256": 64 hex, "size", "material", "pages"} in the request
_SHA_IN_DOCUMENT = len(',"sha256":""') + 64  # the queue adds each page's hash to the document


def request_bytes(app: Application) -> int:
    """An upper bound of the ``POST /applications`` body that will carry ``app``.

    The sealed document is the document's compact JSON (as the queue writes it, with each
    attachment's sha256 added), sealed (a fixed overhead) and base64-encoded.
    """
    document = json.dumps(app.document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    plain = len(document.encode("utf-8")) + _SHA_IN_DOCUMENT * len(app.attachments)
    sealed_b64 = 4 * ((plain + _SEAL_OVERHEAD + 2) // 3)
    return _ENVELOPE_BYTES + sealed_b64 + _ATTACHMENT_ROW_BYTES * len(app.attachments)


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
    size = request_bytes(app)
    if size > PROTOCOL_MAX_JSON_BYTES:
        raise ApplicationTooLarge(size, PROTOCOL_MAX_JSON_BYTES)
    entry = queue.enqueue(app, identity.hall_seal_public_key, agent_card_key=agent_card_key(session))
    log.info("application queued: %s (%s, %d pages)", entry.provisional_number, item.code, app.page_count)
    return entry


def agent_card_key(session: Visit) -> bytes | None:
    """The staff card key of the grid worker who applied (``StaffLogin.agent``), for the
    outbox to seal the county's reasons to; None without one (or when it is not hex)."""
    key = (session.agent or {}).get("card_key", "")
    try:
        return bytes.fromhex(key) if key else None
    except ValueError:
        return None
