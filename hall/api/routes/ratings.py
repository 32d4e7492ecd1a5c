"""``POST /api/v1/ratings``: a villager's 好差评 of a finished application, recorded exactly once."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from hall.api.deps import BodyDep, ClockDep, DbDep, DeviceDep
from hall.api.schemas import ERROR_RESPONSES, RatingIn, RatingOut, json_body, parse_json, validate
from hall.services.ratings import record_rating

router = APIRouter(prefix="/ratings", tags=["ratings"])


@router.post("", status_code=201, response_model=RatingOut, openapi_extra=json_body(RatingIn),
             responses={200: {"model": RatingOut, "description": "a repeat: the first answer"},
                        **ERROR_RESPONSES})
def post_rating(device: DeviceDep, body: BodyDep, db: DbDep, clock: ClockDep) -> JSONResponse:
    data = validate(RatingIn, parse_json(body))
    intake = record_rating(db, device, data.model_dump(), clock=clock)
    return JSONResponse(intake.body, status_code=intake.status)
