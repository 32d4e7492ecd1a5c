"""``POST /api/v1/certificates/lookup``: the e-certificates of the villager at the kiosk (signed).

The kiosk sends the ID number it read from the card; the answer (signed like every
answer, hall/api/answer_signing.py) lists what the villager needs to agree — type,
issuer, the number masked, validity — with an opaque reference, never the document. A
revoked device gets the same empty answer as an unknown person (docs/protocol.md, 16).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from hall.api.deps import BodyDep, ClockDep, DbDep, SettingsDep, signed_device
from hall.api.schemas import (
    ERROR_RESPONSES,
    CertificateLookupIn,
    CertificateLookupOut,
    json_body,
    parse_json,
    validate,
)
from hall.errors import DeviceRevoked
from hall.models import Device
from hall.services.certificates import lookup

router = APIRouter(prefix="/certificates", tags=["certificates"])


def device_or_revoked(request: Request, body: BodyDep, db: DbDep, clock: ClockDep,
                      settings: SettingsDep) -> Device | None:
    """The signed device, or None for a revoked one (which learns nothing from its answer)."""
    try:
        return signed_device(request, body, db, clock, settings)
    except DeviceRevoked:
        return None


DeviceOrRevokedDep = Annotated[Device | None, Depends(device_or_revoked)]


@router.post("/lookup", response_model=CertificateLookupOut, openapi_extra=json_body(CertificateLookupIn),
             responses=ERROR_RESPONSES)
def post_lookup(body: BodyDep, db: DbDep, clock: ClockDep, settings: SettingsDep,
                device: DeviceOrRevokedDep) -> dict:
    data = validate(CertificateLookupIn, parse_json(body))
    return lookup(db, settings, device, data.id_number, data.types, clock=clock)
