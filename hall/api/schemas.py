"""Request bodies of the API (validated after the signature, from the raw bytes)."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError

from hall.errors import InvalidRequest


class EnrolmentIn(BaseModel):
    code: str = Field(min_length=1, max_length=32)
    public_key: str = Field(min_length=1, max_length=200)
    name: str = Field(default="", max_length=200)
    versions: dict[str, str] = Field(default_factory=dict)


class UploadIn(BaseModel):
    sha256: str = Field(min_length=64, max_length=64)
    size: int = Field(ge=1)


class AttachmentIn(BaseModel):
    sha256: str = Field(min_length=64, max_length=64)
    size: int = Field(ge=1)
    material: str = Field(default="", max_length=64)
    pages: int = Field(default=1, ge=0)


# Catalog item codes (config/catalog: GD-SAMPLE-001; a county's own: GD-YL-001), not free text.
SERVICE_CODE_PATTERN = r"^[A-Z]{2}-[A-Z0-9]{2,16}-[0-9]{3,6}$"


class ApplicationIn(BaseModel):
    id: str = Field(min_length=32, max_length=36)
    provisional_number: str = Field(min_length=1, max_length=64)
    service_code: str = Field(min_length=1, max_length=64, pattern=SERVICE_CODE_PATTERN)
    county: str = Field(default="", max_length=12)
    created_at: str = Field(min_length=1, max_length=40)
    page_count: int = Field(default=0, ge=0)
    visits_needed: int = Field(default=0, ge=0)
    sealed_document: str = Field(min_length=1)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=200)


Model = TypeVar("Model", bound=BaseModel)


def parse_json(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("body is not valid JSON") from exc


def validate(model: type[Model], data: object) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise InvalidRequest(f"{where}: {first['msg']}") from exc
