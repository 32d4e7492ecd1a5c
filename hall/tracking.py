"""``/track/{number}``: the page the receipt's QR code opens on a villager's phone.

It answers to the kiosk's provisional number (printed offline) and to the official
number. It shows the service item, the status and the dates, and nothing personal, so
a number read over someone's shoulder tells nothing about who applied. A number the hall
has not seen yet is normal (the kiosk may still be waiting for the network) and is
explained as such.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import or_, select

from hall.api.deps import DbDep
from hall.console.security_headers import ConsoleRoute
from hall.models import Application

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "console" / "templates"))
MAX_NUMBER_LENGTH = 64

# status -> (Chinese, English, what happens next)
STATUS_WORDS = {
    "submitted": ("已提交", "Submitted", "县里已经收到，正在审核。"),
    "accepted": ("已受理", "Accepted", "县里已经受理，请等待办结。"),
    "correction_needed": ("需要补正", "Correction needed", "请带上材料到村服务点，按要求补正。"),
    "completed": ("已办结", "Completed", "已经办好了。"),
    "rejected": ("不予受理", "Not accepted", "请到村服务点问清原因。"),
}


@router.get("/track/{number}", response_class=HTMLResponse)
def track(number: str, request: Request, db: DbDep) -> HTMLResponse:
    number = number.strip()[:MAX_NUMBER_LENGTH]
    application = db.scalar(
        select(Application).where(
            or_(Application.provisional_number == number, Application.official_number == number)
        )
    )
    context = {"number": number, "application": application, "words": STATUS_WORDS}
    if application is not None:
        context["reason"] = application.reason if application.status != "accepted" else ""
    return TEMPLATES.TemplateResponse(request, "track.html", context, status_code=200)
