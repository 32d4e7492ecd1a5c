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
