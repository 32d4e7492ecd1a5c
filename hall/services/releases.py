"""Kiosk software releases and their staged rollout.

    county-hall release publish BUNDLE_DIR --version 0.2.0 --pilot K1 --pilot K2
    county-hall release stage 0.2.0 percent --percent 25    # then: all
    county-hall release stage 0.2.0 halt                    # no kiosk newly takes it
    county-hall release stage 0.2.0 rollback                # kiosks go back to the one before

Publishing copies the bundle's wheels to the blob store as ``releases/<version>/<file>``
(on local disk ``<data dir>/releases/<version>/``) and signs a
manifest of their SHA-256 and sizes with the hall's Ed25519 key under its own context
(``kiosk.updates.manifest``). Which release a kiosk is offered in its heartbeat answer:
the newest (by publication) whose stage includes it — ``pilot``: the kiosks named;
``percent``: those and ``percent`` % of the rest (a stable hash of kiosk id and version,
so raising the percentage only adds kiosks); ``all``; ``halted``: only the kiosks already
running it (they stay; nobody new starts); ``rolled_back``: nobody, so the release before
it is offered again. Every staff action is audited.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from hall.core.config import Settings
from hall.errors import Conflict, InvalidRequest, NotFound
from hall.models import Device, DeviceState, Release
from hall.services import audit
from hall.storage import BlobNotFound, open_store
from hall.timeutil import Clock, iso, system_clock, to_datetime
from kiosk.agent.documents import sign_document
from kiosk.updates.manifest import MAX_FILES, RELEASE_CONTEXT, VERSION_PATTERN, BadManifest, check_shape

STAGES = ("pilot", "percent", "all", "halted", "rolled_back")
MAX_RANGE_BYTES = 4 * 1024 * 1024


def release_key(version: str, name: str) -> str:
    return f"releases/{version}/{name}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def publish(db: Session, settings: Settings, sign_key: Ed25519PrivateKey, bundle_dir: Path, version: str,
            actor: str, pilot: list[str] | None = None, clock: Clock = system_clock) -> Release:
    """Sign and store the wheels in ``bundle_dir`` as release ``version`` (stage ``pilot``)."""
    if not VERSION_PATTERN.match(version):
        raise InvalidRequest(f"version {version!r} is not a plain version (letters, digits, . _ + -)")
    if db.get(Release, version) is not None:
        raise Conflict(f"release {version} exists already", code="release_exists")
    wheels = sorted(p for p in Path(bundle_dir).glob("*.whl") if p.is_file())
    if not wheels or len(wheels) > MAX_FILES:
        raise InvalidRequest(f"{bundle_dir} must hold between 1 and {MAX_FILES} wheel files (*.whl)")
    pilot = _known_devices(db, pilot or [])
    document = {"version": version, "created_at": iso(to_datetime(clock())),
                "files": [{"name": p.name, "sha256": _sha256(p), "size": p.stat().st_size} for p in wheels]}
    try:
        check_shape(document)  # what the kiosk will check: refuse here what it would refuse
    except BadManifest as exc:
        raise InvalidRequest(f"the bundle does not make a valid manifest ({exc})") from exc
    store = open_store(settings)
    for wheel in wheels:  # stored before the row exists: no kiosk is offered a file not yet there
        store.put_file(release_key(version, wheel.name), wheel)
    seq = (db.scalar(select(func.max(Release.seq))) or 0) + 1
    release = Release(version=version, seq=seq, manifest_json=json.dumps(document, sort_keys=True),
                      signature=sign_document(sign_key, RELEASE_CONTEXT, document),
                      created_at=to_datetime(clock()), created_by=actor, stage="pilot", percent=0,
                      pilot_json=json.dumps(pilot))
    db.add(release)
    names = [f["name"] for f in document["files"]]
    audit.record(db, actor, "release.publish", "", {"version": version, "pilot": pilot, "files": names},
                 clock=clock)
    db.commit()
    return release


def _known_devices(db: Session, ids: list[str]) -> list[str]:
    unknown = [i for i in ids if db.get(Device, i) is None]
    if unknown:
        raise NotFound(f"no device {unknown[0]}", code="device_not_found")
    return sorted(set(ids))


def set_stage(db: Session, version: str, stage: str, actor: str, percent: int | None = None,
              pilot: list[str] | None = None, clock: Clock = system_clock) -> Release:
    release = get(db, version)
    if stage not in STAGES:
        raise InvalidRequest(f"stage must be one of {', '.join(STAGES)}")
    if stage == "percent" and (percent is None or not 0 <= percent <= 100):
        raise InvalidRequest("a percent stage needs --percent between 0 and 100")
    release.stage = stage
    if percent is not None:
        release.percent = percent
    if pilot is not None:
        release.pilot_json = json.dumps(_known_devices(db, pilot))
    action = {"halted": "release.halt", "rolled_back": "release.rollback"}.get(stage, "release.stage")
    audit.record(db, actor, action, "", {"version": version, "stage": stage, "percent": release.percent,
                                         "pilot": json.loads(release.pilot_json)}, clock=clock)
    db.commit()
    return release


def get(db: Session, version: str) -> Release:
    release = db.get(Release, version)
    if release is None:
        raise NotFound(f"no release {version}", code="release_not_found")
    return release


def list_releases(db: Session) -> list[Release]:
    return list(db.scalars(select(Release).order_by(Release.seq.desc())))


def bucket(device_id: str, version: str) -> int:
    """0–99, stable for a kiosk and a release."""
    return int.from_bytes(hashlib.sha256(f"{version}\n{device_id}".encode()).digest()[:4], "big") % 100


class Staged(Protocol):
    """What a rollout decision reads of a release (a ``Release`` or a row of ``_STAGES``)."""

    version: str
    stage: str
    percent: int
    pilot_json: str


def includes(release: Staged, device_id: str, running: str, pilot: Collection[str] | None = None) -> bool:
    """``pilot``: the release's pilot kiosks already parsed (the heartbeat writer's cache)."""
    if release.stage == "rolled_back":
        return False
    if release.stage == "halted":
        return running == release.version
    if release.stage == "all" or device_id in (json.loads(release.pilot_json) if pilot is None else pilot):
        return True
    return release.stage == "percent" and bucket(device_id, release.version) < release.percent


_RELEASES = Release.__table__
# Built once (this runs in every heartbeat): the stages only, newest first; the manifest of
# the one offered is read after, if at all.
_STAGES = (select(_RELEASES.c.version, _RELEASES.c.stage, _RELEASES.c.percent, _RELEASES.c.pilot_json)
           .order_by(_RELEASES.c.seq.desc()))
_DELIVERY = (select(_RELEASES.c.version, _RELEASES.c.manifest_json, _RELEASES.c.signature)
             .where(_RELEASES.c.version == bindparam("version")))


def offer_for(db: Session, device_id: str, running: str) -> str | None:
    """The version of the release this kiosk should run (None: keep what it runs)."""
    for release in db.connection().execute(_STAGES):
        if includes(release, device_id, running):
            return str(release.version)
    return None


def stages(connection: Connection) -> list[tuple[Row, frozenset[str]]]:
    """Every release's stage, newest first, each with its pilot kiosks parsed: what the
    heartbeat writer caches until the fleet generation changes (``offer_among``)."""
    return [(row, frozenset(json.loads(row.pilot_json))) for row in connection.execute(_STAGES)]


def offer_among(staged: list[tuple[Row, frozenset[str]]], device_id: str, running: str) -> str | None:
    """``offer_for`` on stages read before (``stages``)."""
    for release, pilot in staged:
        if includes(release, device_id, running, pilot):
            return str(release.version)
    return None


def delivery_of(connection: Connection, version: str) -> dict | None:
    row = connection.execute(_DELIVERY, {"version": version}).first()
    return None if row is None else delivery_json(row)


def delivery_for(db: Session, version: str) -> dict | None:
    """The signed manifest of ``version`` as a heartbeat answer carries it."""
    row = db.connection().execute(_DELIVERY, {"version": version}).first()
    return None if row is None else delivery_json(row)


def delivery_json(release: Release | Row) -> dict:
    return {"manifest": json.loads(release.manifest_json), "signature": release.signature}


def running_release(state: DeviceState | None) -> str:
    if state is None:
        return ""
    versions = json.loads(state.report_json or "{}").get("versions") or {}
    return str(versions.get("release", ""))


@dataclass(frozen=True)
class Chunk:
    data: bytes
    start: int
    end: int  # inclusive
    size: int


def read_range(settings: Settings, db: Session, version: str, name: str, range_header: str) -> Chunk:
    """Bytes of one file of a release for ``Range: bytes=START-END`` (at most 4 MiB per answer)."""
    release = get(db, version)
    files = {f["name"]: f for f in json.loads(release.manifest_json)["files"]}
    if name not in files:  # names come from the signed manifest only: no path from the request
        raise NotFound(f"release {version} has no file {name}", code="release_file_not_found")
    size = int(files[name]["size"])
    start, end = _parse_range(range_header, size)
    end = min(end, start + MAX_RANGE_BYTES - 1)
    try:
        data = open_store(settings).get_range(release_key(version, name), start, end)
    except BlobNotFound as exc:
        raise NotFound(f"release {version} lost its file {name}", code="release_file_not_found") from exc
    return Chunk(data, start, start + len(data) - 1, size)


def _parse_range(header: str, size: int) -> tuple[int, int]:
    if not header:
        return 0, size - 1
    unit, _, spec = header.partition("=")
    first, dash, last = spec.partition("-")
    try:
        if unit.strip() != "bytes" or not dash or "," in spec:
            raise ValueError(header)
        start = int(first)
        end = int(last) if last.strip() else size - 1
    except ValueError as exc:
        raise InvalidRequest("Range must be bytes=START-END", code="bad_range") from exc
    if not 0 <= start < size or end < start:
        raise InvalidRequest(f"Range outside the file ({size} bytes)", code="bad_range")
    return start, min(end, size - 1)


def release_json(db: Session, release: Release, running: dict[str, list[str]] | None = None) -> dict:
    return {"version": release.version, "seq": release.seq, "stage": release.stage,
            "percent": release.percent, "pilot": json.loads(release.pilot_json),
            "created_at": iso(release.created_at), "created_by": release.created_by,
            "files": json.loads(release.manifest_json)["files"],
            "kiosks": (running or {}).get(release.version, [])}


def who_runs_what(db: Session) -> dict[str, list[str]]:
    """release version -> the kiosks whose latest heartbeat says they run it."""
    found: dict[str, list[str]] = {}
    for state in db.scalars(select(DeviceState).order_by(DeviceState.device_id)):
        found.setdefault(running_release(state), []).append(state.device_id)
    return found
