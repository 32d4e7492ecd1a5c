"""The real sync against the real hall through a hostile link (tests/chaos/proxy.py)."""

from __future__ import annotations

import time

from offline_queue.store import SUBMITTED
from tests.chaos.harness import Tally, check_delivery
from tests.chaos.proxy import Faults


def _delivered(hall, kiosk, ids) -> Tally:
    tally = Tally()
    check_delivery(hall, kiosk.data_dir, kiosk.identity.device_id, set(ids), tally)
    assert (tally.lost, tally.duplicated, tally.corrupt, tally.problems) == (0, 0, 0, []), tally.problems
    return tally


def test_resets_mid_stream_resume_without_resending_confirmed_bytes(hall, proxy, make_kiosk):
    kiosk = make_kiosk(min_bytes=16 * 1024, max_bytes=256 * 1024, start_bytes=64 * 1024)
    ids = [kiosk.enqueue(pages=2, page_bytes=400_000).id for _ in range(3)]
    proxy.faults = Faults(bandwidth_bps=4_000_000, reset_every=300_000, latency_s=0.002)
    reports = kiosk.sync_until_drained()
    assert sum(r.sent for r in reports) == 3
    assert proxy.stats.resets >= 5
    stats = kiosk.client.stats
    assert stats.confirmed_resent_bytes == 0  # nothing the hall confirmed went up twice
    # only the chunk in flight at a reset is sent again
    assert stats.resent_bytes <= proxy.stats.resets * kiosk.client.chunk_sizer.max_bytes
    assert stats.resumes >= 1
    _delivered(hall, kiosk, ids)


def test_every_kind_of_fault_at_once(hall, proxy, make_kiosk):
    kiosk = make_kiosk(min_bytes=8 * 1024, max_bytes=128 * 1024, start_bytes=32 * 1024)
    ids = [kiosk.enqueue(pages=2, page_bytes=120_000).id for _ in range(5)]
    proxy.faults = Faults(latency_s=0.003, bandwidth_bps=3_000_000, reset_every=250_000, p_reset=0.04,
                          p_truncate=0.04, p_drop_answer=0.04, p_garbage=0.04, p_stall=0.015, stall_s=3.2,
                          p_503=0.04, p_429=0.04, retry_after_s=0)
    reports = kiosk.sync_until_drained(max_passes=400, deadline_s=150)
    stats = proxy.stats
    hit = {k: getattr(stats, k) for k in ("resets", "truncated", "dropped", "garbage", "injected_5xx",
                                          "injected_429")}
    assert all(v > 0 for v in hit.values()), hit
    assert kiosk.queue.summary().waiting == 0, [r.errors for r in reports[-3:]]
    assert all(kiosk.queue.get(i).state == SUBMITTED for i in ids)
    assert kiosk.client.stats.confirmed_resent_bytes == 0
    _delivered(hall, kiosk, ids)


def test_garbage_answers_never_count_as_submitted(hall, proxy, make_kiosk):
    """The hall takes the application but the kiosk reads garbage: it must not believe it is in,
    and the repeat (same Idempotency-Key) must return the first answer, not a second application."""
    kiosk = make_kiosk()
    entry = kiosk.enqueue(pages=1, page_bytes=30_000)
    proxy.faults = Faults(p_garbage=1.0, only_paths=("/api/v1/applications",))
    for _ in range(3):
        time.sleep(0.1)  # past the short test backoff
        report = kiosk.engine.run_once()
        # garbage cannot carry the hall's signature: refused before it is even parsed
        assert report.sent == 0 and "answer_unverified" in report.errors
        assert kiosk.queue.get(entry.id).state == "sealed"
    on_hall = [a for a in hall.applications() if a["id"] == entry.id]
    assert len(on_hall) == 1  # the hall did take it, once
    proxy.faults = Faults()
    kiosk.sync_until_drained()
    local = kiosk.queue.get(entry.id)
    assert local.state == SUBMITTED and local.official_number == on_hall[0]["official_number"]
    _delivered(hall, kiosk, [entry.id])


def test_busy_hall_429_and_5xx_back_off_and_do_not_block(hall, proxy, make_kiosk):
    """A 429's Retry-After holds every pass off (the hall sheds load); a 503 backs off one entry."""
    kiosk = make_kiosk()
    ids = [kiosk.enqueue(pages=1, page_bytes=20_000).id for _ in range(3)]
    proxy.faults = Faults(p_429=1.0, retry_after_s=2)
    report = kiosk.engine.run_once()
    assert report.errors == ["hall_busy"] and report.retried == 1 and report.wait_s > 1
    first = kiosk.queue.get(ids[0])
    assert first.next_attempt_at is not None and first.next_attempt_at - first.updated_at >= 1.9
    proxy.faults = Faults()
    held = kiosk.engine.run_once()
    assert held.errors == ["hall_busy"] and held.sent == 0  # the hall asked for quiet: not contacted
    time.sleep(2.1)
    proxy.faults = Faults(p_503=1.0)
    assert kiosk.engine.run_once().errors == ["hall_busy"]
    proxy.faults = Faults()
    time.sleep(0.2)  # past the 503's own short backoff
    kiosk.sync_until_drained()
    assert {e.id for e in kiosk.queue.entries(("sealed",))} == set()
