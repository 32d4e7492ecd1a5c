"""``GET /api/v1/health`` (unsigned): answers from memory, never the database.

A health flood must not cost a database connection; load balancers and the kiosk's
"is the hall there" probe only need to know that the process answers.
"""

from fastapi import APIRouter

from hall.api.schemas import ERROR_RESPONSES, HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, responses=ERROR_RESPONSES)
async def health() -> dict:
    return {"status": "ok"}
