"""Issue 9 finding 8: the outbox keeps a memory-hard lookup key, never the applicant tag.

The attack of the issue: with the disk (tag.key, outbox, identity.json) try ID numbers,
compute their tags and match the rows. Here the cheap step (the HMAC) matches nothing on
disk; only the slow step (scrypt under the kiosk's salt) would. What one slow guess costs
is measured in benchmarks/applicant_lookup.py, not here.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3

import pytest

from offline_queue.applicant_lookup import ApplicantLookup, LookupParams
from offline_queue.outbox import OfflineQueue
from offline_queue.store import LOOKUP_KDF_KEY

TAG_KEY = b"test-tag-key"  # conftest.make_app tags with this key, as kiosk.privacy does with tag.key


def _tag(id_number: str) -> str:
    return hmac.new(TAG_KEY, id_number.encode(), hashlib.sha256).hexdigest()


def _disk_bytes(queue: OfflineQueue) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(queue.data_dir.rglob("*")) if p.is_file())


def test_the_cheap_guess_matches_nothing_on_disk(tmp_path, clock, make_app, hall_public):
    queue = OfflineQueue(tmp_path / "data", budget_bytes=10_000_000, clock=clock)
    app = make_app(id_number="44142319800101123X")
    queue.enqueue(app, hall_public)
    candidates = [f"441423198001011{n:02d}" for n in range(100)] + ["44142319800101123X"]
    queue.close()
    disk = _disk_bytes(queue)
    assert not any(_tag(c).encode() in disk for c in candidates)  # the 2.4 s/birth year attack
    # what the attacker must do instead: one scrypt per guess (shown here for the right one)
    db = sqlite3.connect(tmp_path / "data" / "outbox.sqlite3")
    params = LookupParams.from_json(db.execute("SELECT value FROM meta WHERE key = ?",
                                               (LOOKUP_KDF_KEY,)).fetchone()[0])
    stored = {r[0] for r in db.execute("SELECT applicant_tag FROM entries")}
    db.close()
    assert ApplicantLookup(params).key_for(_tag("44142319800101123X")) in stored
    assert params.n >= 2**15 and params.r >= 8 and len(params.salt) == 32


def test_lookup_survives_reopen_and_each_kiosk_has_its_own_salt(tmp_path, clock, make_app, hall_public):
    app = make_app()
    first = OfflineQueue(tmp_path / "a", budget_bytes=10_000_000, clock=clock)
    entry = first.enqueue(app, hall_public)
    first.close()
    again = OfflineQueue(tmp_path / "a", budget_bytes=10_000_000, clock=clock)
    assert [e.id for e in again.by_applicant(app.applicant_tag)] == [entry.id]
    assert again.by_applicant("") == [] and again.by_applicant(_tag("110101199003070019")) == []
    other = OfflineQueue(tmp_path / "b", budget_bytes=10_000_000, clock=clock)
    other_entry = other.enqueue(app, hall_public)
    assert other_entry.applicant_tag != entry.applicant_tag  # no table serves two kiosks
    again.close()
    other.close()


def test_an_outbox_with_plain_tags_is_converted_on_open(tmp_path, clock, make_app, hall_public):
    data = tmp_path / "data"
    queue = OfflineQueue(data, budget_bytes=10_000_000, clock=clock)
    apps = [make_app(), make_app(), make_app(id_number="110101199003070019")]
    entries = [queue.enqueue(a, hall_public) for a in apps]
    queue.close()
    db = sqlite3.connect(data / "outbox.sqlite3")  # as an outbox of schema 2 stored them
    for app in apps:
        db.execute("UPDATE entries SET applicant_tag = ? WHERE id = ?", (app.applicant_tag, app.id))
    db.execute("DELETE FROM meta WHERE key = ?", (LOOKUP_KDF_KEY,))
    db.commit()
    db.close()

    converted = OfflineQueue(data, budget_bytes=10_000_000, clock=clock)
    assert [e.id for e in converted.by_applicant(apps[0].applicant_tag)] == [entries[0].id, entries[1].id]
    assert [e.id for e in converted.by_applicant(apps[2].applicant_tag)] == [entries[2].id]
    converted.close()
    disk = _disk_bytes(converted)
    assert apps[0].applicant_tag.encode() not in disk and apps[2].applicant_tag.encode() not in disk


def test_purge_drops_the_lookup_key_with_the_sealed_copies(queue, clock, make_app, hall_public):
    app = make_app()
    entry = queue.enqueue(app, hall_public)
    queue.mark_submitted(entry.id, "GD2026-000042")
    clock.advance(100)
    assert queue.purge_confirmed(10) == 1
    assert queue.by_applicant(app.applicant_tag) == []
    assert [e.id for e in queue.by_number("GD2026-000042")] == [entry.id]  # the receipt still finds it


@pytest.mark.parametrize("text", [
    '{"kdf": "pbkdf2", "n": 32768, "r": 8, "p": 1, "salt": "00"}',
    '{"kdf": "scrypt", "n": 16, "r": 8, "p": 1, "salt": "' + "00" * 32 + '"}',
    '{"kdf": "scrypt", "n": 30000, "r": 8, "p": 1, "salt": "' + "00" * 32 + '"}',
    '{"kdf": "scrypt", "n": 32768, "r": 8, "p": 1, "salt": "0000"}',
])
def test_weak_or_odd_parameters_are_refused(text):
    with pytest.raises(ValueError):
        LookupParams.from_json(text)


# -- the hall's reasons (issue 9 "low": correction reasons in the clear in the outbox) ---------

REASON = "张三丰的户口簿第2页不清楚，请联系13800138000补交"


class _Change:
    def __init__(self, id, status, official_number="GD2026-000007", reason=""):
        self.id, self.status, self.official_number, self.reason = id, status, official_number, reason


def test_a_correction_reason_is_sealed_at_rest_and_opened_by_the_card(tmp_path, clock, make_app,
                                                                      hall_public):
    queue = OfflineQueue(tmp_path / "data", budget_bytes=10_000_000, clock=clock)
    app = make_app()
    entry = queue.enqueue(app, hall_public)
    queue.apply_status(_Change(entry.id, "correction_needed", reason=REASON))
    assert queue.get(entry.id).reason == "" and queue.get(entry.id).reason_sealed
    assert [e.reason for e in queue.by_number("GD2026-000007")] == [""]  # a found receipt does not open it
    assert [e.reason for e in queue.by_applicant(app.applicant_tag)] == [REASON]
    assert queue.by_applicant(_tag("110101199003070019")) == []
    queue.close()
    disk = _disk_bytes(queue)
    for needle in (REASON, "户口簿", "13800138000"):
        assert needle.encode("utf-8") not in disk
    reopened = OfflineQueue(tmp_path / "data", budget_bytes=10_000_000, clock=clock)
    assert [e.reason for e in reopened.by_applicant(app.applicant_tag)] == [REASON]
    reopened.close()


def test_the_kiosks_own_failure_codes_stay_readable(queue, make_app, hall_public):
    """The grid worker's quarantine list shows why an entry failed: codes, not the clerk's text."""
    entry = queue.enqueue(make_app(), hall_public)
    queue.claim(entry.id)
    queue.mark_failed(entry.id, "too_large: 20 MB")
    assert (queue.get(entry.id).reason, queue.get(entry.id).reason_sealed) == ("too_large: 20 MB", False)


def test_without_an_applicant_tag_the_reason_is_not_kept(queue, make_app, hall_public):
    app = make_app()
    entry = queue.enqueue(type(app)(**{**app.__dict__, "applicant_tag": ""}), hall_public)
    changed = queue.apply_status(_Change(entry.id, "rejected", reason=REASON))
    assert (changed.state, changed.reason, changed.reason_sealed) == ("rejected", "", False)
    assert queue.apply_status(_Change(entry.id, "rejected", reason=REASON)) is None  # a repeat


def test_plain_reasons_of_an_older_outbox_are_sealed_on_open(tmp_path, clock, make_app, hall_public):
    data = tmp_path / "data"
    queue = OfflineQueue(data, budget_bytes=10_000_000, clock=clock)
    app = make_app()
    entry = queue.enqueue(app, hall_public)
    queue.close()
    db = sqlite3.connect(data / "outbox.sqlite3")  # as schema 2 kept it: plain tag, plain reason
    db.execute("UPDATE entries SET applicant_tag = ?, reason_public = NULL, state = 'correction_needed',"
               " reason = ? WHERE id = ?", (app.applicant_tag, REASON, entry.id))
    db.execute("DELETE FROM meta WHERE key = ?", (LOOKUP_KDF_KEY,))
    db.commit()
    db.close()
    upgraded = OfflineQueue(data, budget_bytes=10_000_000, clock=clock)
    assert [e.reason for e in upgraded.by_applicant(app.applicant_tag)] == [REASON]
    assert upgraded.get(entry.id).reason == ""
    upgraded.close()
    assert REASON.encode("utf-8") not in _disk_bytes(upgraded)


def test_the_first_process_to_record_lookup_parameters_wins(queue, make_app, hall_public):
    """Two processes opening a new outbox at once (the kiosk and `kiosk queue status`) agree on one salt."""
    app = make_app()
    queue.enqueue(app, hall_public)
    in_force = queue._store.get_meta(LOOKUP_KDF_KEY)
    late = LookupParams.fresh().to_json()
    assert queue._store.convert_applicant_tags({"x": ("y", b"z")}, late) == in_force
    assert queue._store.get_meta(LOOKUP_KDF_KEY) == in_force
    assert len(queue.by_applicant(app.applicant_tag)) == 1
