"""Content-addressed files: each sealed box is stored under the SHA-256 of its bytes.

Layout: ``<root>/<first two hex>/<64 hex>``. A write goes to a temporary name in the
same folder, is fsynced, renamed into place and the folder fsynced, so after a crash a
blob is either whole or absent (stray temporaries are swept on open). Reading checks
the hash again. The store knows nothing of applications or SQL.

A full disk (``ENOSPC``, ``EDQUOT``) raises ``DiskFull`` and leaves nothing behind: the
temporary is removed and no name ever points at a partial file. ``write`` (default
``os.write``) is the one call that puts bytes on disk, so a test can hand in a
fault-injecting writer (``tests/chaos``) without patching the module.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

from offline_queue.errors import BlobCorrupt, DiskFull, StorageError

_HEX64 = re.compile(r"[0-9a-f]{64}")
_TMP_PREFIX = ".tmp-"
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def storage_error(exc: OSError, what: str) -> StorageError:
    """``DiskFull`` for a full disk, else ``StorageError``; the message names no path."""
    if exc.errno in _FULL_ERRNOS:
        return DiskFull(f"{what}: the disk is full")
    return StorageError(f"{what}: {exc.strerror}")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (the hall's upload store uses it too)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    """Sealed boxes on disk, named by their SHA-256."""

    def __init__(self, root: Path, write: Callable[[int, memoryview], int] = os.write) -> None:
        self.root = Path(root)
        self._write = write
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create blob folder: {exc.strerror}") from exc
        self.swept = self._sweep_temporaries()

    def path_for(self, sha256: str) -> Path:
        if not _HEX64.fullmatch(sha256):
            raise StorageError("not a SHA-256 hex name")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its SHA-256 hex; storing the same bytes twice is a no-op."""
        sha = sha256_hex(data)
        final = self.path_for(sha)
        if final.exists() and final.stat().st_size == len(data):
            return sha
        folder = final.parent
        tmp = folder / f"{_TMP_PREFIX}{secrets.token_hex(8)}"
        try:
            new_folder = not folder.exists()
            folder.mkdir(exist_ok=True)
            if new_folder:
                fsync_dir(self.root)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(data)
                while view:
                    written = self._write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, final)
            fsync_dir(folder)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise storage_error(exc, "cannot write blob") from exc
        return sha

    def get(self, sha256: str) -> bytes:
        """The blob's bytes; raises ``BlobCorrupt`` if they no longer hash to the name."""
        path = self.path_for(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise BlobCorrupt(f"blob {sha256[:12]} is missing") from exc
        except OSError as exc:
            raise StorageError(f"cannot read blob: {exc.strerror}") from exc
        if sha256_hex(data) != sha256:
            raise BlobCorrupt(f"blob {sha256[:12]} does not match its hash")
        return data

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def delete(self, sha256: str) -> bool:
        """Remove a blob; True if it was there."""
        path = self.path_for(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StorageError(f"cannot delete blob: {exc.strerror}") from exc
        fsync_dir(path.parent)
        return True

    def names(self) -> list[str]:
        found: list[str] = []
        for shard in self._shards():
            found.extend(e.name for e in os.scandir(shard) if _HEX64.fullmatch(e.name))
        return found

    def total_size(self) -> int:
        """Bytes used by all blobs (temporaries included: they take disk space too)."""
        total = 0
        for shard in self._shards():
            total += sum(e.stat().st_size for e in os.scandir(shard) if e.is_file())
        return total

    def _shards(self) -> list[str]:
        try:
            return [e.path for e in os.scandir(self.root) if e.is_dir() and len(e.name) == 2]
        except OSError as exc:
            raise StorageError(f"cannot list blobs: {exc.strerror}") from exc

    def _sweep_temporaries(self) -> int:
        swept = 0
        for shard in self._shards():
            for entry in os.scandir(shard):
                if entry.name.startswith(_TMP_PREFIX):
                    os.unlink(entry.path)
                    swept += 1
        return swept
