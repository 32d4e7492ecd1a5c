"""A release manifest, shared by the hall (signs) and the kiosk (verifies).

    {"version": "0.2.0", "created_at": "…Z",
     "files": [{"name": "village_kiosk-0.2.0-py3-none-any.whl", "sha256": "…", "size": 783392}]}

Signed by the hall's Ed25519 key (the one every kiosk pinned at enrolment) over
``hall-release-v1\\n`` + canonical JSON: a signature made for a command, a configuration or
an answer can never pass for a release, nor the other way round. Everything in a manifest
is checked before a byte is downloaded: names are plain wheel file names (no path), sizes
and counts bounded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.agent.documents import verify_document

RELEASE_CONTEXT = "hall-release-v1"
VERSION_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,39}$")
FILE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}\.whl$")
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
MAX_FILES = 20
MAX_FILE_BYTES = 300 * 1024 * 1024


class BadManifest(ValueError):
    """The manifest is unsigned, signed by another key, or does not fit (the reason is a code)."""


@dataclass(frozen=True)
class ReleaseFile:
    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    version: str
    files: tuple[ReleaseFile, ...]
    document: dict[str, Any]  # as signed
    signature: str

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def check_shape(document: Mapping[str, Any]) -> tuple[str, tuple[ReleaseFile, ...]]:
    """The version and files of a manifest, or ``BadManifest``."""
    if set(document) != {"version", "created_at", "files"}:
        raise BadManifest("malformed")
    version, files = document["version"], document["files"]
    if not isinstance(version, str) or not VERSION_PATTERN.match(version):
        raise BadManifest("bad_version")
    if not isinstance(files, list) or not 1 <= len(files) <= MAX_FILES:
        raise BadManifest("bad_files")
    checked: list[ReleaseFile] = []
    for entry in files:
        if not isinstance(entry, Mapping) or set(entry) != {"name", "sha256", "size"}:
            raise BadManifest("bad_files")
        name, sha, size = entry["name"], entry["sha256"], entry["size"]
        if not (isinstance(name, str) and FILE_PATTERN.match(name) and isinstance(sha, str)
                and SHA256_PATTERN.match(sha) and isinstance(size, int) and not isinstance(size, bool)
                and 0 < size <= MAX_FILE_BYTES):
            raise BadManifest("bad_files")
        checked.append(ReleaseFile(name, sha, size))
    if len({f.name for f in checked}) != len(checked):
        raise BadManifest("bad_files")
    return version, tuple(checked)


def verify_manifest(delivery: object, hall_key: Ed25519PublicKey) -> Manifest:
    """A release offer from the hall (``{"manifest", "signature"}``), checked; raises ``BadManifest``."""
    if not isinstance(delivery, Mapping) or not isinstance(delivery.get("manifest"), Mapping):
        raise BadManifest("malformed")
    document = dict(delivery["manifest"])
    version, files = check_shape(document)
    signature = delivery.get("signature")
    if not verify_document(hall_key, RELEASE_CONTEXT, document, signature):
        raise BadManifest("bad_signature")
    assert isinstance(signature, str)  # verify_document is False for anything else
    return Manifest(version, files, document, signature)
