"""hall/storage/: one contract suite run on the local-disk store and on a real S3-compatible
server (moto's standalone server, its own process, reached over HTTP by boto3)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hall.storage import BlobNotFound, BlobStore, StorageUnavailable, copy_all
from hall.storage.local import LocalDiskStore
from tests.support.hall_process import free_port, hall_command
from tests.support.s3_server import CREDENTIALS, S3Server


@pytest.fixture
def aws_env(monkeypatch) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)


def s3_store(server: S3Server, prefix: str = "county-441423") -> BlobStore:
    from hall.storage.s3 import S3Store

    return S3Store(endpoint=server.endpoint, bucket=server.new_bucket(), prefix=prefix)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, aws_env) -> Iterator[BlobStore]:
    if request.param == "local":
        yield LocalDiskStore(tmp_path / "hall-data")
    else:
        yield s3_store(request.getfixturevalue("s3_server"))


def test_whole_blobs_by_key(store: BlobStore, tmp_path: Path):
    key = "attachments/" + "a" * 64
    assert not store.exists(key)
    with pytest.raises(BlobNotFound):
        store.get(key)
    store.put(key, b"sealed box one")
    assert store.exists(key) and store.get(key) == b"sealed box one"
    store.put(key, b"two")  # a second put replaces the whole blob
    assert store.get(key) == b"two"

    wheel = tmp_path / "kiosk-0.2.0-py3-none-any.whl"
    wheel.write_bytes(bytes(range(256)) * 40)
    store.put_file("releases/0.2.0/kiosk-0.2.0-py3-none-any.whl", wheel)
    assert wheel.exists()  # put_file copies
    partial = tmp_path / "up-123"
    partial.write_bytes(b"finished upload")
    store.adopt("attachments/" + "b" * 64, partial)
    assert not partial.exists()  # adopt consumes the local file
    assert store.get("attachments/" + "b" * 64) == b"finished upload"

    assert sorted(store.keys("attachments")) == ["attachments/" + "a" * 64, "attachments/" + "b" * 64]
    assert list(store.keys("releases")) == ["releases/0.2.0/kiosk-0.2.0-py3-none-any.whl"]
    assert list(store.keys("results")) == []
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # deleting what is gone is not an error


def test_ranged_reads(store: BlobStore):
    data = bytes(range(256)) * 64  # 16 KiB
    store.put("releases/1.0/w.whl", data)
    assert store.get_range("releases/1.0/w.whl", 0, 9) == data[:10]
    assert store.get_range("releases/1.0/w.whl", 1000, 5095) == data[1000:5096]
    assert store.get_range("releases/1.0/w.whl", 16000, 99999) == data[16000:]  # clipped at the end
    assert store.get_range("releases/1.0/w.whl", len(data), len(data) + 10) == b""
    with pytest.raises(BlobNotFound):
        store.get_range("releases/1.0/missing.whl", 0, 9)


@pytest.mark.parametrize("key", ["../etc/passwd", "attachments/../../x", "attachments//x", ".hidden",
                                 "attachments/", "/abs", "a b"])
def test_keys_are_plain_relative_paths(key: str, tmp_path: Path):
    store = LocalDiskStore(tmp_path)
    with pytest.raises(ValueError):
        store.put(key, b"x")
    with pytest.raises(ValueError):
        store.get(key)


def test_local_store_keeps_the_old_paths_and_writes_owner_only(tmp_path: Path):
    """Data written before the interface (data_dir/attachments/<sha>) is read through it."""
    digest = hashlib.sha256(b"old").hexdigest()
    (tmp_path / "attachments").mkdir()
    (tmp_path / "attachments" / digest).write_bytes(b"old")
    store = LocalDiskStore(tmp_path)
    assert store.get(f"attachments/{digest}") == b"old"
    store.put("results/" + "c" * 64, b"box")
    assert (tmp_path / "results" / ("c" * 64)).read_bytes() == b"box"
    assert oct((tmp_path / "results").stat().st_mode & 0o777) == "0o700"
    assert not [p for p in (tmp_path / "results").iterdir() if p.name.startswith(".")]  # no temporaries left


def test_unreachable_object_storage_is_unavailable_not_a_crash(aws_env):
    from hall.storage.s3 import S3Store

    store = S3Store(endpoint=f"http://127.0.0.1:{free_port()}", bucket="nowhere")
    for call in (lambda: store.put("results/x", b"1"), lambda: store.get("results/x"),
                 lambda: store.exists("results/x"), lambda: store.get_range("results/x", 0, 1)):
        with pytest.raises(StorageUnavailable) as caught:
            call()
        assert caught.value.status == 503 and caught.value.retry_after
    assert "secret" not in repr(store).lower() and CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in repr(store)


def test_a_missing_bucket_is_unavailable(s3_server, aws_env, tmp_path):
    from hall.storage.s3 import S3Store

    store = S3Store(endpoint=s3_server.endpoint, bucket="no-such-bucket-here")
    with pytest.raises(StorageUnavailable):
        store.put("results/x", b"1")
    with pytest.raises(StorageUnavailable):
        list(store.keys("attachments"))
    # `serve` checks the bucket before it starts: one plain line, exit 2, no traceback, no key.
    served = subprocess.run([*hall_command(), "serve", "--data-dir", str(tmp_path), "--port",
                             str(free_port()), "--storage", "s3", "--s3-endpoint", s3_server.endpoint,
                             "--s3-bucket", "no-such-bucket-here"],
                            capture_output=True, text=True, timeout=120)
    assert served.returncode == 2, served.stderr
    assert "object storage did not answer" in served.stderr and "Traceback" not in served.stderr
    assert CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in served.stderr


def test_copy_all_moves_a_county_from_disk_to_a_bucket(tmp_path: Path, s3_server, aws_env):
    disk = LocalDiskStore(tmp_path)
    disk.put("attachments/" + "d" * 64, b"a")
    disk.put("results/" + "e" * 64, b"r")
    disk.put("releases/0.3/k.whl", b"w")
    (tmp_path / "hall.db").write_bytes(b"not a blob")  # only the blob folders are copied
    bucket = s3_store(s3_server, prefix="")
    assert copy_all(disk, bucket) == 3
    assert copy_all(disk, bucket) == 0  # again: nothing new
    assert bucket.get("results/" + "e" * 64) == b"r"
    assert sorted(bucket.keys()) == ["attachments/" + "d" * 64, "releases/0.3/k.whl", "results/" + "e" * 64]
    assert os.environ["AWS_ACCESS_KEY_ID"] == CREDENTIALS["AWS_ACCESS_KEY_ID"]


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_diagnostics_boxes_live_in_the_store_and_go_with_their_rows(kind, tmp_path, request, aws_env):
    from datetime import UTC, datetime

    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from hall.core.config import load_settings
    from hall.db import make_engine, make_sessionmaker, migrate
    from hall.models import Device, DiagnosticsUpload
    from hall.services import fleet_diagnostics
    from hall.storage import open_store
    from kiosk.agent.diagnostics import sealed_diagnostics

    s3 = {}
    if kind == "s3":
        server = request.getfixturevalue("s3_server")
        s3 = {"storage": "s3", "s3_endpoint": server.endpoint, "s3_bucket": server.new_bucket()}
    settings = load_settings(data_dir=tmp_path / "hall-data", environ={}, diagnostics_kept=2, **s3)
    settings.ensure_dirs()
    migrate(settings.db_url, settings.county)
    engine = make_engine(settings.db_url)
    seal_key = X25519PrivateKey.generate()
    public = seal_key.public_key().public_bytes_raw()
    boxes = [sealed_diagnostics({"logs": f"beat {n}\n"}, "kiosk-00000001", public)[0] for n in range(3)]
    with make_sessionmaker(engine)() as db:
        device = Device(id="kiosk-00000001", county="441423", public_key=b"k" * 32,
                        enrolled_at=datetime.now(UTC))
        db.add(device)
        db.add(DiagnosticsUpload(device_id=device.id, received_at=datetime.now(UTC), size=len(boxes[0]),
                                 sha256=hashlib.sha256(boxes[0]).hexdigest(), box=boxes[0]))  # before 0007
        db.commit()
        legacy = db.scalars(select_ids(DiagnosticsUpload)).one()
        assert fleet_diagnostics.open_upload(db, settings, seal_key, device.id, legacy)["logs"] == "beat 0\n"
        rows = [fleet_diagnostics.store(db, settings, device, box).id for box in boxes[1:]]
        assert all(db.get(DiagnosticsUpload, i).box is None for i in rows)  # not in the database
        opened = fleet_diagnostics.open_upload(db, settings, seal_key, device.id, rows[-1])
        assert opened["logs"] == "beat 2\n"
        kept = {r.id for r in fleet_diagnostics.list_for(db, device.id)}
        assert kept == set(rows)  # the newest two: the legacy row went
        newest = fleet_diagnostics.store(db, settings, device, boxes[0]).id  # pushes rows[0] out
        assert sorted(open_store(settings).keys("diagnostics")) == sorted(
            f"diagnostics/{device.id}/{hashlib.sha256(b).hexdigest()}" for b in (boxes[0], boxes[2]))
        assert fleet_diagnostics.open_upload(db, settings, seal_key, device.id, newest)["logs"] == "beat 0\n"
    engine.dispose()


def select_ids(model):
    from sqlalchemy import select

    return select(model.id)
