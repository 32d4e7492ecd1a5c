"""``GET /api/v1/catalog``: the hall's service catalog files with their manifest (signed).

The answer is signed like every answer to a kiosk (hall/api/answer_signing.py); the
kiosk checks each file's SHA-256 and the version (the SHA-256 of the manifest, see
hall/services/catalog.py) before it uses a file. ``?have=<version>`` answers
``{"version": …, "files": []}`` when the kiosk already holds that version.
"""

from fastapi import APIRouter, Request

from hall.api.deps import DeviceDep
from hall.api.schemas import ERROR_RESPONSES

router = APIRouter(tags=["catalog"])


@router.get("/catalog", responses=ERROR_RESPONSES)
def get_catalog(request: Request, device: DeviceDep, have: str = "") -> dict:
    catalog = request.app.state.catalog
    if have and have == catalog.version:
        return {"version": catalog.version, "files": []}
    return catalog.wire()
