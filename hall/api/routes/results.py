"""``POST /api/v1/applications/{id}/results/{index}``: a completed application's result, for the
applicant standing at the kiosk that sent it (``hall.services.result_download``)."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from hall.api.deps import BodyDep, ClockDep, DbDep, DeviceDep, KeysDep, SettingsDep
from hall.api.schemas import ERROR_RESPONSES, json_body, parse_json, validate
from hall.services.result_download import ResultsBusy, kiosk_result

router = APIRouter(prefix="/applications", tags=["results"])


class ResultRequest(BaseModel):
    applicant_proof: str = Field(min_length=16, max_length=128)
    page: int | None = Field(default=None, ge=0, le=1000)  # a page image; absent: the file as attached


class ResultOut(BaseModel):
    application_id: str
    index: int
    count: int
    media_type: str
    pages: int  # page images the hall keeps of this result (a PDF's rendered pages; an image: 1)
    page: int | None = None  # present when a page was asked for
    size: int
    data: str  # base64


@router.post("/{app_id}/results/{index}", response_model=ResultOut, openapi_extra=json_body(ResultRequest),
             responses=ERROR_RESPONSES)
def post_result(app_id: str, index: int, device: DeviceDep, body: BodyDep, db: DbDep, settings: SettingsDep,
                keys: KeysDep, clock: ClockDep) -> JSONResponse:
    data = validate(ResultRequest, parse_json(body))
    try:
        answer = kiosk_result(db, settings, keys.seal_private, device, app_id[:64], index,
                              data.applicant_proof, clock=clock, page=data.page)
    except ResultsBusy as busy:
        return JSONResponse({"error": busy.code, "detail": busy.detail}, status_code=429,
                            headers={"Retry-After": str(busy.retry_after_s)})
    return JSONResponse(answer)
