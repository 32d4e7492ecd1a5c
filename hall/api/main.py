"""The ``/api/v1`` router: includes one router per resource."""

from fastapi import APIRouter

from hall.api.routes import (
    applications,
    catalog,
    certificates,
    enrolment,
    fleet,
    health,
    ratings,
    results,
    status_changes,
    supplements,
    uploads,
)

api_router = APIRouter(prefix="/api/v1")
for module in (health, enrolment, uploads, applications, status_changes, fleet, catalog, supplements,
               ratings, results, certificates):
    api_router.include_router(module.router)
