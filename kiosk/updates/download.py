"""Resumable, hash-checked download of a release's files (the upload machinery in reverse).

Each file arrives in ``Range`` requests of ``CHUNK_BYTES`` into ``<name>.part``; the part's
size is where the next request starts, so a cut connection, a killed process or a power
cut costs at most one chunk. When the part is whole its SHA-256 must be the manifest's
(signed by the hall), else it is deleted and fetched again; then it is renamed to its name.
Every answer is also signed by the hall (the transport checks it).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from kiosk.updates.manifest import Manifest, ReleaseFile

CHUNK_BYTES = 1024 * 1024

# fetch(version, name, start, end_inclusive) -> the bytes the hall sent for that range
Fetch = Callable[[str, str, int, int], bytes]


class DownloadCorrupt(Exception):
    """A whole file whose SHA-256 is not the manifest's (deleted; the next try starts over)."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_release(manifest: Manifest, fetch: Fetch, folder: Path, chunk_bytes: int = CHUNK_BYTES,
                     on_chunk: Callable[[int], None] | None = None) -> list[Path]:
    """Every file of ``manifest`` in ``folder``, checked; resumes what an earlier call left."""
    folder.mkdir(parents=True, exist_ok=True)
    return [_download_file(manifest.version, entry, fetch, folder, chunk_bytes, on_chunk)
            for entry in manifest.files]


def _download_file(version: str, entry: ReleaseFile, fetch: Fetch, folder: Path, chunk_bytes: int,
                   on_chunk: Callable[[int], None] | None) -> Path:
    final = folder / entry.name
    if final.is_file() and final.stat().st_size == entry.size and file_sha256(final) == entry.sha256:
        return final
    part = folder / f"{entry.name}.part"
    offset = part.stat().st_size if part.is_file() else 0
    if offset > entry.size:
        part.unlink()
        offset = 0
    with part.open("ab") as fh:
        while offset < entry.size:
            end = min(offset + chunk_bytes, entry.size) - 1
            data = fetch(version, entry.name, offset, end)
            if not data or len(data) > end - offset + 1:
                raise DownloadCorrupt(f"{entry.name}: the hall sent {len(data)} bytes for a range")
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            offset += len(data)
            if on_chunk is not None:
                on_chunk(len(data))
    if file_sha256(part) != entry.sha256:
        part.unlink()
        raise DownloadCorrupt(f"{entry.name}: SHA-256 differs from the signed manifest")
    os.replace(part, final)
    return final
