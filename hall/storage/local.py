"""Blobs as files under the hall's data dir: ``<data dir>/<key>``, the paths the hall used
before the storage interface, so existing data keeps working.

Every write goes to a temporary name in the same folder, is fsynced, renamed over the
final name and the folder fsynced: after a power cut a blob is whole or absent.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from hall.storage import BlobNotFound, check_key
from offline_queue.blobs import fsync_dir


class LocalDiskStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalDiskStore({str(self.root)!r})"

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _target(self, key: str) -> Path:
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return final

    def _temporary(self, final: Path) -> Path:
        return final.with_name(f".{final.name}.{secrets.token_hex(4)}.tmp")

    def put(self, key: str, data: bytes) -> None:
        self._write(key, lambda handle: handle.write(data))

    def put_file(self, key: str, path: Path) -> None:
        def copy(handle: BinaryIO) -> None:
            with open(path, "rb") as source:
                shutil.copyfileobj(source, handle, 1 << 20)

        self._write(key, copy)

    def _write(self, key: str, fill: Callable[[BinaryIO], object]) -> None:
        """Whole or absent: ``fill`` writes a temporary file beside the blob, which is flushed to
        disk and renamed over it; the folder is synced so the rename survives a power cut."""
        final = self._target(key)
        temporary = self._temporary(final)
        try:
            with open(temporary, "wb") as handle:
                fill(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
        finally:
            temporary.unlink(missing_ok=True)
        fsync_dir(final.parent)

    def adopt(self, key: str, path: Path) -> None:
        final = self._target(key)
        try:
            os.replace(path, final)  # the same file system in the usual layout: one rename
        except OSError:
            self.put_file(key, path)
            Path(path).unlink(missing_ok=True)
            return
        fsync_dir(final.parent)

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise BlobNotFound(f"no blob {key}") from exc

    def get_range(self, key: str, start: int, end: int) -> bytes:
        try:
            with open(self.path(key), "rb") as handle:
                handle.seek(start)
                return handle.read(max(0, end - start + 1))
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise BlobNotFound(f"no blob {key}") from exc

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def keys(self, prefix: str = "") -> Iterator[str]:
        folder = self.path(prefix) if prefix else self.root
        if not folder.is_dir():
            return
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(self.root).as_posix()
