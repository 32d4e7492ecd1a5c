"""The blob store: named by hash, written atomically, checked on read."""

import os

import pytest

from offline_queue.blobs import BlobStore, sha256_hex
from offline_queue.errors import BlobCorrupt, StorageError


def test_put_get_delete(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    sha = store.put(b"sealed bytes")
    assert sha == sha256_hex(b"sealed bytes")
    assert store.path_for(sha) == tmp_path / "blobs" / sha[:2] / sha
    assert store.get(sha) == b"sealed bytes"
    assert store.exists(sha)
    assert store.names() == [sha]
    assert store.delete(sha) is True
    assert store.delete(sha) is False
    assert not store.exists(sha)


def test_put_is_idempotent_and_total_size(tmp_path):
    store = BlobStore(tmp_path)
    store.put(b"a" * 100)
    store.put(b"a" * 100)
    store.put(b"b" * 50)
    assert store.total_size() == 150
    assert len(store.names()) == 2


def test_no_temporaries_left_and_file_is_private(tmp_path):
    store = BlobStore(tmp_path)
    sha = store.put(b"x" * 1000)
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != sha]
    assert leftovers == []
    assert (store.path_for(sha).stat().st_mode & 0o777) == 0o600


def test_stray_temporary_from_a_crash_is_swept(tmp_path):
    store = BlobStore(tmp_path)
    sha = store.put(b"whole")
    (tmp_path / sha[:2] / ".tmp-deadbeef").write_bytes(b"half writ")
    reopened = BlobStore(tmp_path)
    assert reopened.swept == 1
    assert reopened.names() == [sha]
    assert reopened.get(sha) == b"whole"


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    store = BlobStore(tmp_path)

    def broken_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(StorageError):
        store.put(b"never lands")
    monkeypatch.undo()
    assert store.names() == []
    assert store.total_size() == 0


def test_read_checks_the_hash(tmp_path):
    store = BlobStore(tmp_path)
    sha = store.put(b"original")
    store.path_for(sha).write_bytes(b"tampered")
    with pytest.raises(BlobCorrupt):
        store.get(sha)


def test_missing_blob_and_bad_name(tmp_path):
    store = BlobStore(tmp_path)
    with pytest.raises(BlobCorrupt):
        store.get("0" * 64)
    with pytest.raises(StorageError):
        store.get("../../etc/passwd")
