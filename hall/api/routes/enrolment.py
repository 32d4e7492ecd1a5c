"""``POST /api/v1/enrolment`` (unsigned: the one-time code is the credential)."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hall.api.deps import BodyDep, ClockDep, DbDep, KeysDep
from hall.api.schemas import ERROR_RESPONSES, EnrolmentIn, EnrolmentOut, json_body, parse_json, validate
from hall.services.enrolment import EnrolmentRequest, enrol

router = APIRouter(tags=["enrolment"])


@router.post("/enrolment", status_code=201, response_model=EnrolmentOut, responses=ERROR_RESPONSES,
             openapi_extra=json_body(EnrolmentIn))
def post_enrolment(request: Request, body: BodyDep, db: DbDep, keys: KeysDep,
                   clock: ClockDep) -> JSONResponse:
    data = validate(EnrolmentIn, parse_json(body))
    answer = enrol(db, keys, EnrolmentRequest(**data.model_dump()), clock=clock)
    # The new kiosk's requests count as a kiosk's at once, in every worker (hall/api/known_devices.py).
    request.app.state.known_devices.enrolled(answer["device_id"])
    return JSONResponse(answer, status_code=201)
