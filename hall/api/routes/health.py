"""``GET /api/v1/health`` (unsigned)."""

from fastapi import APIRouter
from sqlalchemy import text

from hall.api.deps import DbDep
from hall.api.schemas import ERROR_RESPONSES, HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, responses=ERROR_RESPONSES)
def health(db: DbDep) -> dict:
    db.execute(text("SELECT 1"))
    return {"status": "ok"}
