"""A chunk goes to disk outside SQLite's write lock (hall/services/uploads.py ``append_chunk``).

With two hall workers on SQLite every writer of both processes shares one write lock; a
chunk that held it across its fsync, its SHA-256 and the blob's rename (three trips to the
disk; the network for object storage) made the uploads' stalls of the load mix (issue 9,
"Load"). Here a second writer on its own connection, which never waits for a lock, must
get the lock at each of those disk trips; and the compare and set after them keeps a
duplicate chunk from moving the offset twice. Real SQLite, real files, in-process.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from datetime import UTC, datetime

import pytest

from hall.core.config import load_settings
from hall.db import make_engine, make_sessionmaker, migrate
from hall.errors import Conflict
from hall.models import Device
from hall.services import uploads


def test_the_chunk_is_written_fsynced_and_stored_without_the_write_lock(tmp_path, monkeypatch):
    settings = load_settings(data_dir=tmp_path / "hall-data", environ={})
    settings.ensure_dirs()
    migrate(settings.db_url, settings.county)
    engine = make_engine(settings.db_url)
    sessions = make_sessionmaker(engine)
    other_writer = sqlite3.connect(settings.db_url.removeprefix("sqlite:///"), timeout=0,
                                   isolation_level=None)
    locked_during: list[str] = []
    real_fsync = os.fsync

    def fsync_then_try_the_lock(fd: int) -> None:
        real_fsync(fd)
        try:
            other_writer.execute("BEGIN IMMEDIATE")
            other_writer.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:  # "database is locked": the chunk holds it
            locked_during.append(str(exc))

    monkeypatch.setattr(os, "fsync", fsync_then_try_the_lock)  # the chunk's file and the store's folder
    blob = os.urandom(10_000)
    try:
        with sessions() as db:
            device = Device(id="kiosk-00000001", county="441423", public_key=b"k" * 32,
                            enrolled_at=datetime.now(UTC))
            db.add(device)
            db.commit()
            digest = hashlib.sha256(blob).hexdigest()
            upload, _ = uploads.create_upload(db, settings, device, digest, len(blob))
            first = uploads.append_chunk(db, settings, device, upload.id, 0, blob[:4000])
            assert (first.offset, first.complete) == (4000, False)
            with pytest.raises(Conflict):  # a duplicate of that chunk: the offset moved already
                uploads.append_chunk(db, settings, device, upload.id, 0, blob[:4000])
            last = uploads.append_chunk(db, settings, device, upload.id, 4000, blob[4000:])
            assert (last.offset, last.complete) == (len(blob), True)
        assert uploads.read_attachment(settings, hashlib.sha256(blob).hexdigest()) == blob
    finally:
        other_writer.close()
        engine.dispose()
    assert locked_during == []
