"""Request bodies of the API (validated after the signature, from the raw bytes)."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator

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


# 好差评 scores: 5 非常满意 … 1 非常不满意; a reason only with 2 or 1 (kiosk.rating keeps the same lists).
RATING_REASONS = ("slow", "hard_to_use", "unclear", "device_problem", "staff", "other")


class RatingIn(BaseModel):
    """``POST /ratings``: one villager's rating of one finished application; no personal data."""

    id: str = Field(min_length=32, max_length=36)
    application_ref: str = Field(min_length=1, max_length=64)
    service_code: str = Field(min_length=1, max_length=64, pattern=SERVICE_CODE_PATTERN)
    score: int = Field(ge=1, le=5)
    reason: str = Field(default="", max_length=32)
    rated_at: str = Field(min_length=1, max_length=40)

    @field_validator("reason")
    @classmethod
    def _known_reason(cls, value: str) -> str:
        if value and value not in RATING_REASONS:
            raise ValueError("reason must be one of " + ", ".join(RATING_REASONS))
        return value


class RatingOut(BaseModel):
    id: str
    status: str


class CertificateLookupIn(BaseModel):
    """``POST /certificates/lookup``: the ID number the kiosk read from the card (never logged)."""

    id_number: str = Field(pattern=r"^[0-9]{17}[0-9Xx]$")
    types: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        from kiosk.catalog import E_CERTIFICATE_TYPES

        unknown = [t for t in value if t not in E_CERTIFICATE_TYPES]
        if unknown:
            raise ValueError("types must be among " + ", ".join(E_CERTIFICATE_TYPES))
        return value


class CertificateOut(BaseModel):
    reference: str
    type: str
    issuer: str
    number_masked: str
    valid_from: str
    valid_to: str  # "" when it does not expire
    trust_level: int


class CertificateLookupOut(BaseModel):
    certificates: list[CertificateOut]


class ErrorOut(BaseModel):
    """Every non-2xx answer (docs/protocol.md, "Errors")."""

    error: str
    detail: str


# The answers a route may give besides its success, for the OpenAPI spec (the fuzz test checks it).
ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in (
        (400, "bad request (e.g. an enrolment code that cannot be used)"),
        (401, "the signature, timestamp or nonce is refused"),
        (403, "the device is revoked"),
        (404, "no such resource for this device"),
        (409, "conflict (upload offset, missing attachment)"),
        (413, "body too large"),
        (422, "the body or a header is invalid"),
        (429, "too many requests: wait for Retry-After"),
        (503, "the hall is busy: wait for Retry-After"),
        (507, "the hall keeps its last free disk: wait for Retry-After"),
    )
}


class EnrolmentOut(BaseModel):
    device_id: str
    county: str
    hall_seal_public_key: str
    hall_sign_public_key: str


class ApplicationOut(BaseModel):
    id: str
    provisional_number: str  # the receipt number, confirmed; the official one comes at acceptance
    official_number: str | None = None  # only in first answers stored before the number moved
    status: str


class UploadCreatedOut(BaseModel):
    upload_id: str
    offset: int
    complete: bool = False  # present (true) when the hall already holds the whole blob


class UploadOut(BaseModel):
    upload_id: str
    offset: int
    size: int
    complete: bool


class ChunkOut(BaseModel):
    offset: int
    complete: bool


class HealthOut(BaseModel):
    status: str


class StatusChangeOut(BaseModel):
    id: str
    status: str
    official_number: str | None  # None until a clerk accepts the application
    reason: str
    changed_at: str
    materials: list[str] = Field(default_factory=list)  # a correction's material ids
    results: int = 0  # a completion: results kept on the hall for the villager


class StatusChangesOut(BaseModel):
    changes: list[StatusChangeOut]
    cursor: str


def json_body(model: type[BaseModel]) -> dict:
    """``openapi_extra`` declaring a JSON request body (the routes read raw bytes, for the signature)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(definitions[node["$ref"].rsplit("/", 1)[1]])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    return {"requestBody": {"required": True, "content": {"application/json": {"schema": inline(schema)}}}}


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


# -- fleet ------------------------------------------------------------------------------

_SHORT = 200


class DeviceHealthIn(BaseModel):
    device: str = Field(max_length=32)
    driver: str = Field(default="", max_length=64)
    state: str = Field(max_length=16)
    reason: str = Field(default="", max_length=64)
    detail: str = Field(default="", max_length=_SHORT)
    required: bool = True
    needed_for: list[str] = Field(default_factory=list, max_length=20)


class HealthIn(BaseModel):
    checked_at: str = Field(default="", max_length=40)
    state: str = Field(default="", max_length=16)
    devices: list[DeviceHealthIn] = Field(default_factory=list, max_length=20)


class QueueIn(BaseModel):
    depth: int = Field(default=0, ge=0, le=10**9)
    oldest_unsent_s: int | None = Field(default=None, ge=0, le=10**10)


class HeartbeatIn(BaseModel):
    health: HealthIn = Field(default_factory=HealthIn)
    queue: QueueIn = Field(default_factory=QueueIn)
    free_disk_bytes: int = Field(default=0, ge=0, le=10**16)
    versions: dict[str, str] = Field(default_factory=dict, max_length=20)
    config_version: int = Field(default=0, ge=0, le=2**31 - 1)
    uptime_s: int = Field(default=0, ge=0, le=10**10)
    locked: bool = False
    # Short codes the kiosk wants staff to see (a refused configuration, a refused command).
    problems: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("versions")
    @classmethod
    def _short_versions(cls, versions: dict[str, str]) -> dict[str, str]:
        if any(len(key) > 32 or len(value) > 40 for key, value in versions.items()):
            raise ValueError("names up to 32 and values up to 40 characters")
        return versions

    @field_validator("problems")
    @classmethod
    def _short_problems(cls, problems: list[str]) -> list[str]:
        if any(len(problem) > _SHORT for problem in problems):
            raise ValueError(f"each up to {_SHORT} characters")
        return problems


class CommandAckIn(BaseModel):
    status: str = Field(pattern="^(done|failed|refused)$")
    reason: str = Field(default="", max_length=_SHORT)
    result: dict = Field(default_factory=dict)


class KeyRotationDocument(BaseModel):
    device_id: str = Field(min_length=1, max_length=40)
    old_public_key: str = Field(min_length=1, max_length=64)
    new_public_key: str = Field(min_length=1, max_length=64)


class KeyRotationIn(BaseModel):
    document: KeyRotationDocument
    old_signature: str = Field(min_length=1, max_length=200)  # base64 Ed25519, ROTATION_CONTEXT
    new_signature: str = Field(min_length=1, max_length=200)


class KeyRotationOut(BaseModel):
    device_id: str
    rotated: bool


class DiagnosticsOut(BaseModel):
    id: int
    size: int
    sha256: str


class CommandDeliveryOut(BaseModel):
    document: dict  # {id, device_id, kind, args, issued_at, not_after}, as signed
    signature: str  # base64 Ed25519 over "hall-command-v1\n" + canonical JSON of document


class ConfigDeliveryOut(BaseModel):
    document: dict  # {version, device_id, settings, issued_at}, as signed
    signature: str  # base64 Ed25519 over "hall-config-v1\n" + canonical JSON of document


class ReleaseDeliveryOut(BaseModel):
    manifest: dict  # {version, created_at, files: [{name, sha256, size}]}, as signed
    signature: str  # base64 Ed25519 over "hall-release-v1\n" + canonical JSON of manifest


class HeartbeatOut(BaseModel):
    heartbeat_interval_s: int
    server_time: str
    commands: list[CommandDeliveryOut]
    config: ConfigDeliveryOut | None = None  # only when the kiosk runs an older version
    release: ReleaseDeliveryOut | None = None  # only when the kiosk should run another release


class CommandAckOut(BaseModel):
    id: str
    status: str
