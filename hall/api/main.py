"""The ``/api/v1`` router: includes one router per resource."""

from fastapi import APIRouter

from hall.api.routes import applications, enrolment, fleet, health, ratings, status_changes, uploads

api_router = APIRouter(prefix="/api/v1")
for module in (health, enrolment, uploads, applications, status_changes, fleet, ratings):
    api_router.include_router(module.router)
