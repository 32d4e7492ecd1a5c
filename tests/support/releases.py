"""Release bundles for the update tests: this project's own wheel, and a broken one.

``project_wheel`` builds the wheel of the tree under test with ``pip wheel`` (no network:
``--no-build-isolation --no-deps``), from a copy of the package folders so a stale
``build/`` or the tests' artifacts never end up in it. ``broken_wheel`` is a valid wheel
of ``village-kiosk`` whose ``kiosk`` package dies on import: a release that crashes at start.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("kiosk", "hardware", "screens", "offline_queue", "hall", "config", "workers")


def project_wheel(dest: Path) -> Path:
    source = dest.parent / f"{dest.name}-source"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "--disable-pip-version-check", "-w", str(dest), str(source)], check=True, timeout=300,
                   capture_output=True)
    shutil.rmtree(source, ignore_errors=True)
    (wheel,) = dest.glob("village_kiosk-*.whl")
    return wheel


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def broken_wheel(dest: Path, version: str, padding: int = 0) -> Path:
    """``padding``: bytes of noise in the wheel (a download of several ranges)."""
    dest.mkdir(parents=True, exist_ok=True)
    info = f"village_kiosk-{version}.dist-info"
    files = {
        "kiosk/__init__.py": b'raise SystemExit("this release is broken on purpose")\n',
        "kiosk/__main__.py": b"",
        "kiosk/padding.bin": os.urandom(padding),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: village-kiosk\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "\n".join([_record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"]) + "\n"
    path = dest / f"village_kiosk-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data, zipfile.ZIP_STORED if name.endswith(".bin") else zipfile.ZIP_DEFLATED)
        zf.writestr(f"{info}/RECORD", record)
    return path
