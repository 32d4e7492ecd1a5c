"""Fleet endpoints (signed): ``POST /api/v1/heartbeat`` and ``POST /api/v1/commands/{id}/ack``."""

from fastapi import APIRouter

from hall.api.deps import BodyDep, ClockDep, DbDep, DeviceDep, KeysDep, SettingsDep
from hall.api.schemas import (
    ERROR_RESPONSES,
    CommandAckIn,
    CommandAckOut,
    HeartbeatIn,
    HeartbeatOut,
    json_body,
    parse_json,
    validate,
)
from hall.services import commands, configs, fleet
from hall.timeutil import iso, to_datetime

router = APIRouter(tags=["fleet"])


@router.post("/heartbeat", response_model=HeartbeatOut, openapi_extra=json_body(HeartbeatIn),
             responses=ERROR_RESPONSES)
def post_heartbeat(device: DeviceDep, body: BodyDep, db: DbDep, settings: SettingsDep, keys: KeysDep,
                   clock: ClockDep) -> dict:
    report = validate(HeartbeatIn, parse_json(body))
    fleet.record_heartbeat(db, settings, device, report.model_dump(), clock=clock)
    pending = commands.pending_for(db, device, clock=clock)
    answer = {"heartbeat_interval_s": settings.heartbeat_interval_s,
              "server_time": iso(to_datetime(clock())),
              "commands": [commands.delivery_json(command) for command in pending]}
    config = configs.delivery_for(db, keys.sign_private, device, report.config_version)
    if config is not None:
        answer["config"] = config
    db.commit()
    return answer


@router.post("/commands/{command_id}/ack", response_model=CommandAckOut,
             openapi_extra=json_body(CommandAckIn), responses=ERROR_RESPONSES)
def post_command_ack(command_id: str, device: DeviceDep, body: BodyDep, db: DbDep, clock: ClockDep) -> dict:
    ack = validate(CommandAckIn, parse_json(body))
    command = commands.acknowledge(db, device, command_id, ack.status, ack.reason, ack.result, clock=clock)
    return {"id": command.id, "status": command.status}
