"""Where the hall keeps its blobs: one interface, two stores.

Sealed attachments (``attachments/<sha256>``), sealed results (``results/<sha256 of the
box>``) and release files (``releases/<version>/<file>``) are written once and read many
times by key; the database keeps only their keys. A hall with one machine keeps them on
its own disk (:class:`~hall.storage.local.LocalDiskStore`, under the data dir, the same
paths as before the interface existed); several hall processes on several machines share
an S3-compatible bucket (:class:`~hall.storage.s3.S3Store`). The store is chosen by the
settings (``--storage local|s3``, ``--s3-endpoint``, ``--s3-bucket``); the S3 credentials
come only from the environment (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, or any
source boto3 reads), so they are never in the settings, a log line or ``ps``.

Unfinished uploads stay on the hall's local disk (``<data dir>/uploads/``): chunks are
appended in place there, and only the finished, hash-checked file goes to the store.

Errors (both are ``HallError``, so the API answers them like any other)::

    StorageError                 the store failed
    ├── BlobNotFound             404 blob_not_found: no blob under that key
    └── StorageUnavailable       503 storage_unavailable + Retry-After: the store did not
                                 answer or refused; transient for a kiosk, an alarm for IT
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from hall.errors import HallError

if TYPE_CHECKING:
    from hall.core.config import Settings

# Keys are relative paths of plain segments: what a kiosk or a request names never
# reaches a key unchecked (hashes are checked, release files come from signed manifests).
_SEGMENT = re.compile(r"^[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,199}$")
KINDS = ("local", "s3")


class StorageError(HallError):
    status = 500
    code = "storage_error"


class BlobNotFound(StorageError):
    status = 404
    code = "blob_not_found"


class StorageUnavailable(StorageError):
    status = 503
    code = "storage_unavailable"
    retry_after = 30


def check_key(key: str) -> str:
    parts = key.split("/")
    if not parts or not all(_SEGMENT.match(part) for part in parts):
        raise ValueError(f"not a blob key: {key!r}")
    return key


class BlobStore(Protocol):
    """Blobs by key; every write is whole (a reader never sees half a blob)."""

    def put(self, key: str, data: bytes) -> None: ...

    def put_file(self, key: str, path: Path) -> None:
        """Store a copy of a local file (streamed, not read into memory)."""

    def adopt(self, key: str, path: Path) -> None:
        """Store a finished local file and remove it (a rename where the store allows)."""

    def get(self, key: str) -> bytes: ...

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``start``..``end`` (inclusive) of the blob; fewer when it is shorter."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key under ``prefix`` (a folder: ``results``, ``releases/0.2.0``)."""


def open_store(settings: Settings) -> BlobStore:
    """The store the settings name (one per process and settings: the S3 client is reused)."""
    return _open(settings.storage, settings.data_dir, settings.s3_endpoint, settings.s3_bucket,
                 settings.s3_region, settings.s3_prefix)


@lru_cache(maxsize=16)
def _open(kind: str, data_dir: Path, endpoint: str, bucket: str, region: str, prefix: str) -> BlobStore:
    if kind == "s3":
        from hall.storage.s3 import S3Store

        return S3Store(endpoint=endpoint, bucket=bucket, region=region, prefix=prefix)
    from hall.storage.local import LocalDiskStore

    return LocalDiskStore(data_dir)


def copy_all(source: BlobStore, target: BlobStore, prefixes: tuple[str, ...] = ("attachments", "results",
                                                                                  "releases")) -> int:
    """Copy every blob under ``prefixes`` that ``target`` lacks (backups, moving stores); the count."""
    copied = 0
    for prefix in prefixes:
        for key in source.keys(prefix):
            if not target.exists(key):
                target.put(key, source.get(key))
                copied += 1
    return copied
