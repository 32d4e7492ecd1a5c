"""The county's reason for a grid worker's application: sealed to the applicant AND to the
worker's staff card (a second box), opened on the worklist by the card's key agreement.

The card here is an X25519 key whose ``exchange`` stands in for the card's KEY AGREE (the
APDUs themselves: tests/hardware/test_staff_card_key.py, test_pcsc.py)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from offline_queue.outbox import OfflineQueue
from offline_queue.sealing import raw_public
from offline_queue.transport import StatusChange

REASON = "户口簿照片看不清，请重新拍户主页（张三丰 44142319800101123X）"
WORKER = "GW-441423-0007"


def card_of(key: X25519PrivateKey):
    """What ``VerifiedStaffCard.agree`` does, with a call count."""
    asked = []

    def agree(eph_pub: bytes) -> bytes:
        asked.append(eph_pub)
        return key.exchange(X25519PublicKey.from_public_bytes(eph_pub))

    agree.asked = asked  # type: ignore[attr-defined]
    return agree


def by_worker(make_app):
    app = make_app()
    return replace(app, document={**app.document, "agent": {"worker_id": WORKER, "county": "441423"}})


def correction(entry_id: str, reason: str = REASON) -> StatusChange:
    return StatusChange(id=entry_id, status="correction_needed", official_number="441423-20261201-0002",
                        reason=reason, changed_at="", materials=("M1",))


def test_two_boxes_one_for_the_villager_one_for_the_worker_s_card(queue, make_app, hall_public):
    card = X25519PrivateKey.generate()
    app = by_worker(make_app)
    entry = queue.enqueue(app, hall_public, agent_card_key=raw_public(card.public_key()))
    queue.enqueue(make_app(id_number="110101199003070019"), hall_public,
                  agent_card_key=raw_public(card.public_key()))  # no agent: the key is not kept
    queue.apply_status(correction(entry.id))

    [listed] = queue.by_agent(WORKER)  # without the card: sealed, both boxes there
    assert (listed.id, listed.reason, listed.reason_sealed, listed.agent_reason_sealed) == (
        entry.id, "", True, True)
    agree = card_of(card)
    [opened] = queue.by_agent(WORKER, agree, card_public=raw_public(card.public_key()))
    assert opened.reason == REASON and len(agree.asked) == 1
    [villager] = queue.by_applicant(app.applicant_tag)  # the villager's card opens its own box
    assert villager.reason == REASON and villager.agent_reason_sealed
    assert queue.by_agent("GW-441423-0008", agree) == [] and len(agree.asked) == 1
    [skipped] = queue.by_agent(WORKER, agree, only={"another-entry"})  # only the entries asked for
    assert skipped.reason == "" and len(agree.asked) == 1

    queue.close()
    disk = b"".join(p.read_bytes() for p in sorted(queue.data_dir.rglob("*")) if p.is_file())
    for secret in (REASON.encode(), "张三丰".encode(), WORKER.encode()):
        assert secret not in disk
    db = sqlite3.connect(queue.data_dir / "outbox.sqlite3")
    rows = db.execute("SELECT agent_public, agent_reason_box IS NOT NULL FROM entries ORDER BY seq")
    rows = rows.fetchall()
    db.close()
    assert rows == [(raw_public(card.public_key()), 1), (None, 0)]


def test_another_card_opens_nothing_and_a_card_taken_out_is_the_caller_s_to_tell(queue, make_app,
                                                                                   hall_public):
    card, other = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    entry = queue.enqueue(by_worker(make_app), hall_public, agent_card_key=raw_public(card.public_key()))
    queue.apply_status(correction(entry.id))
    wrong = card_of(other)
    [closed] = queue.by_agent(WORKER, wrong)  # asked, but the box does not open: fail closed
    assert closed.reason == "" and len(wrong.asked) == 1
    [skipped] = queue.by_agent(WORKER, wrong, card_public=raw_public(other.public_key()))
    assert skipped.reason == "" and len(wrong.asked) == 1  # a box for another card: not asked at all

    class CardRemoved(Exception):
        pass

    def pulled(_eph: bytes) -> bytes:
        raise CardRemoved

    with pytest.raises(CardRemoved):
        queue.by_agent(WORKER, pulled)


def test_an_older_card_and_a_repeated_status(queue, make_app, hall_public):
    entry = queue.enqueue(by_worker(make_app), hall_public, agent_card_key=None)  # an older card
    queue.enqueue(by_worker(make_app), hall_public, agent_card_key=b"\x01" * 31)  # malformed: not kept
    queue.apply_status(correction(entry.id))
    assert queue.apply_status(correction(entry.id)) is None  # a repeat changes nothing
    rows = queue.by_agent(WORKER, card_of(X25519PrivateKey.generate()))
    assert [(e.reason_sealed, e.agent_reason_sealed) for e in rows if e.id == entry.id] == [(True, False)]
    assert all(e.reason == "" for e in rows)


def test_a_new_reason_replaces_the_card_s_box_and_purge_takes_it_away(queue, make_app, hall_public, clock):
    card = X25519PrivateKey.generate()
    entry = queue.enqueue(by_worker(make_app), hall_public, agent_card_key=raw_public(card.public_key()))
    queue.apply_status(correction(entry.id))
    queue.apply_status(correction(entry.id, "请补充户主页"))
    assert queue.by_agent(WORKER, card_of(card))[0].reason == "请补充户主页"
    queue.apply_status(StatusChange(id=entry.id, status="accepted", official_number="441423-20261201-0002",
                                    reason="", changed_at=""))
    assert not queue.by_agent(WORKER)[0].agent_reason_sealed  # no reason now: no box
    queue.apply_status(correction(entry.id))
    assert queue.purge(entry.id, "wipe")
    purged = queue.by_agent(WORKER, card_of(card))[0]
    assert (purged.reason, purged.agent_reason_sealed) == ("", False)


def test_a_queue_from_before_the_card_key_opens_and_keeps_working(tmp_path, clock, make_app, hall_public):
    data = tmp_path / "data"
    old = OfflineQueue(data, budget_bytes=10_000_000, clock=clock)
    app = by_worker(make_app)
    entry = old.enqueue(app, hall_public)
    old.apply_status(correction(entry.id))
    old.close()
    db = sqlite3.connect(data / "outbox.sqlite3")  # as the outbox was before the worker's card key
    db.execute("ALTER TABLE entries DROP COLUMN agent_reason_box")
    db.execute("ALTER TABLE entries DROP COLUMN agent_public")
    db.commit()
    db.close()

    reopened = OfflineQueue(data, budget_bytes=10_000_000, clock=clock)
    try:
        [listed] = reopened.by_agent(WORKER, card_of(X25519PrivateKey.generate()))
        assert (listed.id, listed.reason, listed.reason_sealed, listed.agent_reason_sealed) == (
            entry.id, "", True, False)
        assert reopened.by_applicant(app.applicant_tag)[0].reason == REASON  # the villager's box still opens
        card = X25519PrivateKey.generate()  # a new application after the upgrade gets both boxes
        newer = reopened.enqueue(by_worker(make_app), hall_public,
                                 agent_card_key=raw_public(card.public_key()))
        reopened.apply_status(correction(newer.id))
        assert reopened.by_agent(WORKER, card_of(card))[0].reason == REASON
    finally:
        reopened.close()
