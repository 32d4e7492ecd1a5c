"""``/api/v1/uploads``: resumable, tus-like uploads of sealed attachments."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from hall.api.deps import ClockDep, DbDep, DeviceDep, SettingsDep, SignedDep, SignedRequest
from hall.api.schemas import (
    ERROR_RESPONSES,
    ChunkOut,
    UploadCreatedOut,
    UploadIn,
    UploadOut,
    json_body,
    parse_json,
    validate,
)
from hall.core.config import Settings
from hall.models import Device
from hall.services import uploads
from hall.timeutil import Clock

router = APIRouter(prefix="/uploads", tags=["uploads"])
# A chunk is raw bytes at the offset the kiosk names (the route reads them itself, for the signature).
CHUNK_REQUEST = {
    "parameters": [{"name": "Upload-Offset", "in": "header", "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}}],
    "requestBody": {"required": True, "content": {
        "application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
}


def _create_request() -> dict:
    """The create's two forms: the JSON document, or (tus "creation with upload") the first bytes
    with the create's fields in headers (docs/protocol.md 6.1)."""
    extra = json_body(UploadIn)
    binary = {"schema": {"type": "string", "format": "binary"}}
    extra["requestBody"]["content"][uploads.FIRST_BYTES_TYPE] = binary
    extra["parameters"] = [
        {"name": uploads.HEADER_UPLOAD_LENGTH, "in": "header", "required": False,
         "description": "with the first bytes: the upload's size",
         "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}},
        {"name": uploads.HEADER_UPLOAD_SHA256, "in": "header", "required": False,
         "description": "with the first bytes: the SHA-256 of the whole sealed box, lowercase hex",
         "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
    ]
    return extra


@router.post("", status_code=201, response_model=UploadCreatedOut, openapi_extra=_create_request(),
             responses={200: {"model": UploadCreatedOut, "description": "a repeat: the same upload"},
                        **ERROR_RESPONSES})
async def create_upload(signed: SignedDep, settings: SettingsDep, clock: ClockDep) -> JSONResponse:
    headers = signed.request.headers
    if uploads.carries_first_bytes(headers.get("content-type", "")):
        return await _create_with_first_bytes(signed, settings, clock)

    def work(device: Device, db: Session) -> tuple[dict, bool]:
        data = validate(UploadIn, parse_json(signed.body))
        upload, created = uploads.create_upload(db, settings, device, data.sha256, data.size, clock=clock)
        return created_answer(upload), created

    answer, created = await signed.run(work)
    return JSONResponse(answer, status_code=201 if created else 200)


async def _create_with_first_bytes(signed: SignedRequest, settings: Settings, clock: Clock) -> JSONResponse:
    headers = signed.request.headers

    def work(device: Device, db: Session) -> tuple[dict, bool, dict[str, str]]:
        # After the signature check (signed.run), as the chunk's: a forged request learns nothing.
        first = uploads.first_bytes(settings, headers.get(uploads.HEADER_UPLOAD_SHA256, ""),
                                    headers.get(uploads.HEADER_UPLOAD_LENGTH, ""), signed.body)
        upload, created = uploads.create_with_first(db, settings, device, first, clock=clock)
        return first_bytes_answer(upload), created, offset_headers(upload)

    answer, created, answer_headers = await signed.run(work)
    return JSONResponse(answer, status_code=201 if created else 200, headers=answer_headers)


def created_answer(upload) -> dict:
    """The JSON create's answer: ``complete`` only once it is."""
    answer: dict = {"upload_id": upload.id, "offset": upload.offset}
    if upload.complete:
        answer["complete"] = True
    return answer


def first_bytes_answer(upload) -> dict:
    """A create with its first bytes answers ``complete`` either way (the kiosk reads the offset
    and whether it is done from one answer; the JSON create's readers take either)."""
    return {"upload_id": upload.id, "offset": upload.offset, "complete": upload.complete}


def offset_headers(upload) -> dict[str, str]:
    """The offset headers of an upload's answers (the fast path's too)."""
    return {"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.size),
            "Cache-Control": "no-store"}


@router.head("/{upload_id}", responses={200: {"description": "the offset in Upload-Offset"},
                                        **ERROR_RESPONSES})
def head_upload(upload_id: str, device: DeviceDep, db: DbDep) -> Response:
    upload = uploads.get_upload(db, device, upload_id)
    return Response(status_code=200, headers=offset_headers(upload))


@router.get("/{upload_id}", response_model=UploadOut, responses=ERROR_RESPONSES)
def get_upload(upload_id: str, device: DeviceDep, db: DbDep) -> JSONResponse:
    upload = uploads.get_upload(db, device, upload_id)
    return JSONResponse(uploads.upload_json(upload), headers=offset_headers(upload))


@router.patch("/{upload_id}", response_model=ChunkOut, responses=ERROR_RESPONSES, openapi_extra=CHUNK_REQUEST)
async def patch_upload(upload_id: str, request: Request, signed: SignedDep, settings: SettingsDep,
                       clock: ClockDep) -> JSONResponse:
    def work(device: Device, db: Session) -> tuple[dict, dict[str, str]]:
        # After the signature check (signed.run), as before: a forged request learns nothing.
        offset = uploads.chunk_offset(settings, request.headers.get("content-type", ""),
                                      request.headers.get("upload-offset", ""), len(signed.body))
        upload = uploads.append_chunk(db, settings, device, upload_id, offset, signed.body,
                                      clock=clock)
        return {"offset": upload.offset, "complete": upload.complete}, offset_headers(upload)

    answer, headers = await signed.run(work)
    return JSONResponse(answer, headers=headers)
