"""``POST /api/v1/applications/{id}/supplements``: a correction's answer, exactly once."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from hall.api.deps import BodyDep, ClockDep, DbDep, DeviceDep, KeysDep, SettingsDep
from hall.api.schemas import ERROR_RESPONSES, AttachmentIn, json_body, parse_json, validate
from hall.services.applications import request_hash
from hall.services.supplements import submit_supplement

router = APIRouter(prefix="/applications", tags=["supplements"])


class SupplementIn(BaseModel):
    id: str = Field(min_length=32, max_length=36)
    created_at: str = Field(min_length=1, max_length=40)
    sealed_document: str = Field(min_length=1)
    attachments: list[AttachmentIn] = Field(min_length=1, max_length=50)


class SupplementOut(BaseModel):
    id: str
    application_id: str
    official_number: str | None  # None while the application is not yet accepted
    status: str


@router.post("/{app_id}/supplements", status_code=201, response_model=SupplementOut,
             openapi_extra=json_body(SupplementIn),
             responses={200: {"model": SupplementOut, "description": "a repeat: the first answer"},
                        **ERROR_RESPONSES})
def post_supplement(app_id: str, request: Request, device: DeviceDep, body: BodyDep, db: DbDep,
                    settings: SettingsDep, keys: KeysDep, clock: ClockDep) -> JSONResponse:
    raw = parse_json(body)
    data = validate(SupplementIn, raw)
    intake = submit_supplement(db, settings, keys.seal_private, device, app_id[:64],
                               request.headers.get("idempotency-key", ""), data.model_dump(),
                               digest=request_hash(raw), clock=clock)
    return JSONResponse(intake.body, status_code=intake.status)
