"""A full disk mid-write loses nothing confirmed and corrupts nothing; the kiosk refuses new work.

Two ways: a fault-injecting write layer (always runs: the blob writer fails with ENOSPC
part-way through a file), and, as root, a real 8 MB tmpfs holding the whole outbox
(SQLite included), filled until the kernel says no.
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import sqlite3
import subprocess
import uuid

import pytest

from offline_queue.errors import DiskFull, QueueFull
from offline_queue.health import QueueLimits, assess
from offline_queue.outbox import OfflineQueue
from tests.chaos.harness import make_application

HALL_KEY = bytes(range(32))


class FillingDisk:
    """``os.write`` until ``capacity`` bytes in all, then ENOSPC (after a partial write, as a disk does)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.written = 0

    def __call__(self, fd: int, data: memoryview) -> int:
        room = self.capacity - self.written
        if room <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = os.write(fd, data[:room])
        self.written += n
        return n


def _check_intact(data_dir, confirmed: dict[str, int]) -> None:
    db = sqlite3.connect(data_dir / "outbox.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    queue = OfflineQueue(data_dir, budget_bytes=10**9)
    try:
        ids = {e.id for e in queue.entries()}
        assert set(confirmed) <= ids
        for app_id, pages in confirmed.items():
            atts = queue.attachments(app_id)
            assert len(atts) == pages
            for att in atts:
                assert len(queue.read_blob(att.sha256)) == att.size  # read_blob checks the hash
            assert queue.sealed_document(app_id)
        assert not [p for p in (data_dir / "blobs").rglob(".tmp-*")]
    finally:
        queue.close()


def test_fault_injecting_writer_fills_up_mid_blob(tmp_path):
    disk = FillingDisk(capacity=1_000_000)
    queue = OfflineQueue(tmp_path, budget_bytes=10**9, write=disk)
    rng = random.Random(3)
    confirmed: dict[str, int] = {}
    with pytest.raises(DiskFull) as caught:
        for i in range(50):
            app = make_application("441423", 2, 150_000, i, rng)
            queue.enqueue(app, HALL_KEY)
            confirmed[app.id] = 2
    assert caught.value.message_key == "queue.disk_full"
    assert isinstance(caught.value, QueueFull)
    assert 2 <= len(confirmed) < 50
    assert queue.summary().counts["sealed"] == len(confirmed)
    queue.close()
    _check_intact(tmp_path, confirmed)


@pytest.fixture
def small_fs(tmp_path):
    """An 8 MB tmpfs, as root; skipped, saying why, where mounting is not allowed."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("the size-limited filesystem test needs root (mount -t tmpfs); "
                    "the fault-injecting writer test covers the same path")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_real_small_filesystem_fills_up(small_fs):
    data_dir = small_fs / "outbox"
    queue = OfflineQueue(data_dir, budget_bytes=10**9, min_free_bytes=0)
    rng = random.Random(4)
    confirmed: dict[str, int] = {}
    with pytest.raises(DiskFull):
        for i in range(100):
            app = make_application("441423", 3, 200_000, i, rng)
            queue.enqueue(app, HALL_KEY)
            confirmed[app.id] = 3
    assert confirmed
    # squeeze the last bytes out with a filler file, then try a small write: still refused cleanly
    filler = small_fs / "filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    with pytest.raises((DiskFull, QueueFull)):
        queue.enqueue(make_application("441423", 1, 50_000, 999, rng), HALL_KEY)
    assert queue.summary().counts["sealed"] == len(confirmed)
    queue.close()
    filler.unlink()
    _check_intact(data_dir, confirmed)
    # and the kiosk refuses new work *before* a villager starts
    reopened = OfflineQueue(data_dir, budget_bytes=10**9, min_free_bytes=64 * 1024 * 1024)
    try:
        health = assess(reopened.summary(), QueueLimits(min_free_bytes=64 * 1024 * 1024))
        assert not health.can_take_applications
        assert health.notices[0].message_key == "queue.notice.full"
        with pytest.raises(DiskFull):
            reopened.enqueue(make_application("441423", 1, 1000, 1000, rng), HALL_KEY)
    finally:
        reopened.close()
    assert str(uuid.UUID(next(iter(confirmed))))  # ids are intact UUIDs
