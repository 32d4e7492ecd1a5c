"""A supplement through the hostile link: answers dropped after the hall did the work,
garbage, resets, 5xx — it still joins its application exactly once (docs/protocol.md 11.1)."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from hall.models import ApplicationAttachment, Supplement
from kiosk.applications import PlainAttachment
from offline_queue.store import CORRECTION_NEEDED, SUBMITTED
from tests.chaos.proxy import Faults


@dataclass(frozen=True)
class ChaosSupplement:
    id: str
    created_at: str
    document: dict
    attachments: tuple


def test_a_supplement_joins_once_through_every_fault(hall, proxy, make_kiosk):
    kiosk = make_kiosk(min_bytes=8 * 1024, max_bytes=64 * 1024, start_bytes=16 * 1024)
    parent = kiosk.enqueue(pages=1, page_bytes=20_000)
    kiosk.sync_until_drained()
    hall.set_status(parent.id, "correction_needed", reason="第一页看不清")
    reports = []
    for _ in range(20):  # the status pull (bounded: a pass may wait out the hall's Retry-After)
        reports.append(kiosk.engine.run_once())
        if kiosk.queue.get(parent.id).state == CORRECTION_NEEDED:
            break
        time.sleep(0.1)
    parent = kiosk.queue.get(parent.id)
    assert parent.state == CORRECTION_NEEDED, [(r.status_updates, r.errors, r.wait_s) for r in reports]

    rng = random.Random(12)
    pages = tuple(PlainAttachment("M1", rng.randbytes(90_000), "image/jpeg") for _ in range(2))
    supplement = ChaosSupplement(id=str(uuid.uuid4()), created_at="2026-12-01T08:00:00Z",
                                 document={"application_id": parent.id}, attachments=pages)
    entry = kiosk.queue.enqueue_supplement(parent, supplement, kiosk.identity.hall_seal_public_key)
    # Every answer of the supplement's post is dropped at first, then every fault at once.
    proxy.faults = Faults(p_drop_answer=1.0, only_paths=(f"/api/v1/applications/{parent.id}/supplements",))
    for _ in range(3):
        kiosk.engine.run_once()
    assert kiosk.queue.get(entry.id).state != SUBMITTED  # it never heard the hall's answer
    proxy.faults = Faults(latency_s=0.003, bandwidth_bps=3_000_000, reset_every=60_000, p_reset=0.05,
                          p_truncate=0.05, p_drop_answer=0.1, p_garbage=0.05, p_503=0.05, p_429=0.05,
                          retry_after_s=0)
    kiosk.sync_until_drained(max_passes=300, deadline_s=120)
    proxy.faults = Faults()
    kiosk.sync_until_drained()
    assert kiosk.queue.get(entry.id).state == SUBMITTED

    engine = create_engine(hall.db_url)
    try:
        with Session(engine) as db:
            supplements = db.scalar(select(func.count()).select_from(Supplement)
                                    .where(Supplement.application_id == parent.id))
            joined = db.scalar(select(func.count()).select_from(ApplicationAttachment)
                               .where(ApplicationAttachment.supplement_id == entry.id))
    finally:
        engine.dispose()
    assert (supplements, joined) == (1, 2)
    assert [a["status"] for a in hall.applications() if a["id"] == parent.id] == ["supplemented"]
