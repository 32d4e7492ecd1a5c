"""Fleet endpoints (signed): ``POST /api/v1/heartbeat``, ``POST /api/v1/commands/{id}/ack``,
``POST /api/v1/keys/rotate``, ``POST /api/v1/diagnostics`` (a sealed box, octet-stream) and
``GET /api/v1/releases/{version}/{file}`` (ranges of a release's wheel, for resumable downloads)."""

import json

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from hall.api.deps import BodyDep, ClockDep, DbDep, DeviceDep, KeysDep, SettingsDep, SignedDep
from hall.api.schemas import (
    ERROR_RESPONSES,
    CommandAckIn,
    CommandAckOut,
    DiagnosticsOut,
    HeartbeatIn,
    HeartbeatOut,
    KeyRotationIn,
    KeyRotationOut,
    json_body,
    parse_json,
    validate,
)
from hall.core.config import Settings
from hall.core.keys import HallKeys
from hall.db import lazy_commit, sqlite_begin
from hall.models import Device
from hall.services import commands, configs, fleet, fleet_diagnostics, fleet_keys, releases
from hall.timeutil import Clock, iso, to_datetime

router = APIRouter(tags=["fleet"])


@router.post("/heartbeat", response_model=HeartbeatOut, openapi_extra=json_body(HeartbeatIn),
             responses=ERROR_RESPONSES)
async def post_heartbeat(signed: SignedDep, settings: SettingsDep, keys: KeysDep,
                         clock: ClockDep) -> Response:
    # As served (``county-hall serve``), hall/api/heartbeat_fast_path.py answers this path before
    # FastAPI, many kiosks to a transaction; this route documents it in the OpenAPI schema and
    # serves an app made by ``create_app`` alone (and is the "before" of benchmarks/heartbeat_cpu.py).
    # The fleet's hottest route: the signature check and everything after it in one trip.
    answer = await signed.run(lambda device, db: _heartbeat(device, db, signed.body, settings, keys, clock),
                              detached=True)
    # The answer is made here from checked values: it goes out as JSON as it is, without
    # FastAPI validating it again against HeartbeatOut (the schema still documents it).
    return Response(json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode(),
                    media_type="application/json")


def _heartbeat(device: Device, db: Session, body: bytes, settings: Settings, keys: HallKeys,
               clock: Clock) -> dict:
    report = validate(HeartbeatIn, parse_json(body))
    running = report.versions.get("release", "")
    # One transaction for the reads and the write (each transaction is a BEGIN, a commit and,
    # on PostgreSQL, round trips), short, and committed without waiting for the disk: a
    # heartbeat is a report the kiosk sends again within a minute, and a command whose
    # delivery mark a power cut forgets is delivered again (the kiosk refuses a command id it
    # has seen, and acks). On SQLite it takes the write lock at once (IMMEDIATE), so that no
    # read-then-write can fail half-way on another writer.
    with sqlite_begin("IMMEDIATE"), lazy_commit():
        config = configs.delivery_for(db, keys.sign_private, device, report.config_version)
        offered = releases.offer_for(db, device.id, running)
        release = releases.delivery_for(db, offered) if offered is not None and offered != running else None
        fleet.record_heartbeat(db, settings, device, report.model_dump(), clock=clock)
        pending = commands.pending_for(db, device, clock=clock)
        db.commit()
    # Every field of HeartbeatOut, null ones too, as the validated answer had them.
    return {"heartbeat_interval_s": settings.heartbeat_interval_s,
            "server_time": iso(to_datetime(clock())),
            "commands": [commands.delivery_json(command) for command in pending],
            "config": config, "release": release}


@router.post("/commands/{command_id}/ack", response_model=CommandAckOut,
             openapi_extra=json_body(CommandAckIn), responses=ERROR_RESPONSES)
def post_command_ack(command_id: str, device: DeviceDep, body: BodyDep, db: DbDep, clock: ClockDep) -> dict:
    ack = validate(CommandAckIn, parse_json(body))
    command = commands.acknowledge(db, device, command_id, ack.status, ack.reason, ack.result, clock=clock)
    return {"id": command.id, "status": command.status}


@router.post("/keys/rotate", response_model=KeyRotationOut, openapi_extra=json_body(KeyRotationIn),
             responses=ERROR_RESPONSES)
def post_key_rotation(device: DeviceDep, body: BodyDep, db: DbDep, clock: ClockDep) -> dict:
    rotation = validate(KeyRotationIn, parse_json(body))
    fleet_keys.rotate(db, device, rotation.document.model_dump(), rotation.old_signature,
                      rotation.new_signature, clock=clock)
    return {"device_id": device.id, "rotated": True}


@router.post("/diagnostics", response_model=DiagnosticsOut, responses=ERROR_RESPONSES)
def post_diagnostics(device: DeviceDep, body: BodyDep, db: DbDep, settings: SettingsDep, clock: ClockDep,
                     command_id: str = "") -> dict:
    row = fleet_diagnostics.store(db, settings, device, body, command_id, clock=clock)
    return {"id": row.id, "size": row.size, "sha256": row.sha256}


@router.get("/releases/{version}/{name}", responses=ERROR_RESPONSES)
def get_release_file(version: str, name: str, request: Request, device: DeviceDep, db: DbDep,
                     settings: SettingsDep) -> Response:
    chunk = releases.read_range(settings, db, version, name, request.headers.get("range", ""))
    return Response(chunk.data, status_code=206, media_type="application/octet-stream",
                    headers={"Content-Range": f"bytes {chunk.start}-{chunk.end}/{chunk.size}",
                             "Accept-Ranges": "bytes", "Cache-Control": "no-store"})
