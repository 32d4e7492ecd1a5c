"""``GET /api/v1/health`` (unsigned): answers from memory, never the database.

A health flood must not cost a database connection; load balancers and the kiosk's
"is the hall there" probe only need to know that the process answers.
"""

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict:
    return {"status": "ok"}
