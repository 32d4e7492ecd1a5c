"""``/track/{number}``: the page the receipt's QR code opens on a villager's phone.

It answers to the kiosk's provisional number (printed offline) and to the official
number. It shows the service item, the status in plain words, what to do next and the
date, and nothing personal, so a number read over someone's shoulder tells nothing about
who applied. The clerk's reason is NOT shown: it is written for the applicant at the
kiosk (which shows it after the villager identifies), may name documents or family
circumstances, and on a public page anyone holding the number would read it.

The page is public, so it is hostile ground: numbers must be well formed before the
database is asked (official numbers carry a check digit, see services/numbering.py),
and each client address gets ``TRACK_PER_ADDRESS`` lookups a minute, counted in the
database every hall process shares. A number the hall has not seen yet is normal (the
kiosk may still be waiting for the network) and is explained as such.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from hall.api.deps import ClockDep, DbDep
from hall.console.security_headers import ConsoleRoute
from hall.db import lazy_commit, sqlite_begin
from hall.models import Application
from hall.services import ratelimit
from hall.services.inbox import limits
from hall.services.numbering import canonical_official, canonical_provisional
from hall.services.results import results_of
from hall.services.status import OPEN
from hall.timeutil import to_datetime

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "console" / "templates"))
MAX_NUMBER_LENGTH = 64

# status -> (Chinese, English, what happens next: the only words the public page says)
STATUS_WORDS = {
    "submitted": ("已提交", "Submitted", "县里已经收到，正在审核。", "The county has it and is checking it."),
    "accepted": ("已受理", "Accepted", "县里已经受理，请等待办结。",
                 "The county has accepted it; please wait."),
    "correction_needed": ("需要补正", "Correction needed", "请带上材料到村服务点，按要求补正。",
                          "Please bring your papers to the village service point to complete them."),
    "supplemented": ("已补正", "Papers added", "补交的材料县里已经收到，正在审核。",
                     "The county has the papers you added and is checking them."),
    "completed": ("已办结", "Completed", "已经办好了。", "It is done."),
    "rejected": ("不予受理", "Not accepted", "请到村服务点问清原因。",
                 "Please ask at the village service point why."),
}
UNKNOWN_STATUS = ("处理中", "In progress", "请到村服务点询问。", "Please ask at the village service point.")


def _find(db, number: str) -> Application | None:
    official = canonical_official(number)
    if official is not None:
        return db.scalar(select(Application).where(Application.official_number == official))
    provisional = canonical_provisional(number)
    if provisional is not None:
        return db.scalar(select(Application).where(Application.provisional_number == provisional)
                         .order_by(Application.received_at.desc()).limit(1))
    return None


def _item_and_due(request: Request, db, application: Application, clock) -> dict:
    """The item's name (never a bare code), the promised date while it is open, and
    whether a result waits to be printed at the village kiosk — nothing of its content."""
    catalog = request.app.state.catalog
    item = catalog.item(application.service_code)
    now = to_datetime(clock())
    promised, _ = limits(catalog, application, now, request.app.state.settings.utc_offset_hours)
    return {"item": item, "due": promised.due if promised and application.status in OPEN else None,
            "has_result": application.status == "completed" and bool(results_of(db, application.id))}


@router.get("/track/{number}", response_class=HTMLResponse)
def track(number: str, request: Request, db: DbDep, clock: ClockDep) -> HTMLResponse:
    number = number.strip()[:MAX_NUMBER_LENGTH]
    address = request.client.host if request.client else "unknown"
    # A GET runs on SQLite without the write lock (hall/api/read_mode.py); this one writes a
    # counter, so it takes the lock at once, and the counter need not wait for the disk.
    with sqlite_begin("IMMEDIATE"), lazy_commit():
        verdict = ratelimit.hit(db, ratelimit.TRACK_PER_ADDRESS, address, clock())
    context: dict = {"number": number, "application": None, "state": "", "words": None}
    if not verdict.allowed:
        context["state"] = "busy"
        response = TEMPLATES.TemplateResponse(request, "track.html", context, status_code=429)
        response.headers["Retry-After"] = str(verdict.retry_after_s)
        return response
    well_formed = canonical_official(number) is not None or canonical_provisional(number) is not None
    application = _find(db, number) if well_formed else None
    if application is not None:
        context.update(application=application, state="found",
                       words=STATUS_WORDS.get(application.status, UNKNOWN_STATUS),
                       **_item_and_due(request, db, application, clock))
    else:
        context["state"] = "waiting" if well_formed else "malformed"
    return TEMPLATES.TemplateResponse(request, "track.html", context,
                                      status_code=400 if context["state"] == "malformed" else 200)
