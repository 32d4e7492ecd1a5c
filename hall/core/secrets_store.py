"""Small secret files in the data directory, created once with mode 0600."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """Return the file's bytes, creating it atomically (O_EXCL, 0600) on first use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    data = make()
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return data


def console_secret(data_dir: Path) -> bytes:
    return read_or_create(data_dir / "console-secret", lambda: os.urandom(32))
