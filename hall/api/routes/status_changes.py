"""``GET /api/v1/status-changes?since=CURSOR``: this device's changes after a cursor."""

from fastapi import APIRouter

from hall.api.deps import DbDep, DeviceDep
from hall.api.schemas import ERROR_RESPONSES, StatusChangesOut
from hall.services.status import changes_since

router = APIRouter(tags=["status"])


@router.get("/status-changes", response_model=StatusChangesOut, responses=ERROR_RESPONSES)
def get_status_changes(device: DeviceDep, db: DbDep, since: str | None = None) -> dict:
    return changes_since(db, device, since)
