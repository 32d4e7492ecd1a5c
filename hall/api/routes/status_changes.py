"""``GET /api/v1/status-changes?since=CURSOR``: this device's changes after a cursor."""

from fastapi import APIRouter

from hall.api.deps import SignedDep
from hall.api.schemas import ERROR_RESPONSES, StatusChangesOut
from hall.services.status import changes_since

router = APIRouter(tags=["status"])


@router.get("/status-changes", response_model=StatusChangesOut, responses=ERROR_RESPONSES)
async def get_status_changes(signed: SignedDep, since: str | None = None) -> dict:
    return await signed.run(lambda device, db: changes_since(db, device, since))
