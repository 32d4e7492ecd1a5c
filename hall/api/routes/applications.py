"""``POST /api/v1/applications``: exactly-once intake keyed by ``Idempotency-Key``."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hall.api.deps import BodyDep, ClockDep, DbDep, DeviceDep, KeysDep, SettingsDep
from hall.api.schemas import ERROR_RESPONSES, ApplicationIn, ApplicationOut, json_body, parse_json, validate
from hall.services.applications import request_hash, submit

router = APIRouter(prefix="/applications", tags=["applications"])


@router.post("", status_code=201, response_model=ApplicationOut, openapi_extra=json_body(ApplicationIn),
             responses={200: {"model": ApplicationOut, "description": "a repeat: the first answer"},
                        **ERROR_RESPONSES})
def post_application(request: Request, device: DeviceDep, body: BodyDep, db: DbDep,
                     settings: SettingsDep, keys: KeysDep, clock: ClockDep) -> JSONResponse:
    raw = parse_json(body)
    data = validate(ApplicationIn, raw)
    intake = submit(
        db, settings, keys.seal_private, device, request.headers.get("idempotency-key", ""),
        data.model_dump(), digest=request_hash(raw), clock=clock,
    )
    return JSONResponse(intake.body, status_code=intake.status)
