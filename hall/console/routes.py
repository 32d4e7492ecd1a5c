"""``/console``: overview, devices, enrolment codes, applications, status changes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select

from hall.api.deps import ClockDep, DbDep, KeysDep, SettingsDep
from hall.console.attachments import safe_attachment
from hall.console.auth import COOKIE, MAX_AGE_S, SessionDep, make_cookie
from hall.console.security_headers import ATTACHMENT_POLICY, ConsoleRoute
from hall.errors import HallError
from hall.models import Application, Device
from hall.services import applications as apps
from hall.services import devices as fleet
from hall.services.enrolment import create_code
from hall.services.status import SETTABLE, change_status
from hall.services.users import check_login
from hall.timeutil import iso
from offline_queue.sealing import SealError

log = logging.getLogger("hall.console")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters["iso"] = iso
TEMPLATES.env.filters["when"] = lambda value: iso(value)[:16].replace("T", " ") + " UTC" if value else "—"
STATUS_LABELS = {
    "submitted": "已提交 Submitted", "accepted": "已受理 Accepted",
    "correction_needed": "需补正 Correction needed", "completed": "已办结 Completed",
    "rejected": "不予受理 Rejected",
}
TEMPLATES.env.globals["status_labels"] = STATUS_LABELS
# Declared types shown as a thumbnail; whatever the bytes are, they are re-encoded first.
TEMPLATES.env.globals["raster_types"] = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif",
                                                   "image/tiff", "image/bmp"})
TEMPLATES.env.globals["field_labels"] = {
    "name": "姓名 Name", "id_number": "身份证号 ID number", "sex": "性别 Sex",
    "birth_date": "出生日期 Birth date", "address": "住址 Address", "phone": "电话 Phone",
    "ethnicity": "民族 Ethnicity",
}

router = APIRouter(prefix="/console", include_in_schema=False, route_class=ConsoleRoute)
FormStr = Annotated[str, Form()]


def render(request: Request, name: str, session=None, status_code: int = 200, **context) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, {"session": session, **context},
                                      status_code=status_code)


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", error="")


@router.post("/login")
def login(request: Request, db: DbDep, username: FormStr = "", password: FormStr = "") -> Response:
    user = check_login(db, username, password)
    if user is None:
        log.info("console login refused")
        return render(request, "login.html", error="用户名或密码不正确 Wrong username or password",
                      username=username, status_code=401)
    response = RedirectResponse("/console/", status_code=303)
    response.set_cookie(COOKIE, make_cookie(request.app.state.console_secret, user.username),
                        max_age=MAX_AGE_S, httponly=True, samesite="strict", path="/console")
    return response


@router.post("/logout")
def logout(session: SessionDep, csrf: FormStr = "") -> Response:
    session.check_csrf(csrf)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


@router.get("/")
def overview(request: Request, session: SessionDep, db: DbDep) -> HTMLResponse:
    by_status = dict(db.execute(select(Application.status, func.count()).group_by(Application.status)).all())
    devices = fleet.list_devices(db)
    return render(request, "overview.html", session,
                  by_status=by_status, total=sum(by_status.values()),
                  device_count=len(devices), revoked=sum(1 for d in devices if d.revoked),
                  recent=apps.list_applications(db, limit=8))


@router.get("/devices")
def devices_page(request: Request, session: SessionDep, db: DbDep) -> HTMLResponse:
    return render(request, "devices.html", session, devices=fleet.list_devices(db),
                  counts=fleet.application_counts(db))


@router.post("/devices/{device_id}/revoke")
def revoke_device(device_id: str, session: SessionDep, db: DbDep, csrf: FormStr = "") -> Response:
    session.check_csrf(csrf)
    fleet.revoke(db, device_id)
    log.info("device %s revoked by console", device_id)
    return RedirectResponse("/console/devices", status_code=303)


@router.get("/enrolment-codes")
def codes_page(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    return render(request, "codes.html", session, code=None, county=settings.county)


@router.post("/enrolment-codes")
def new_code(request: Request, session: SessionDep, db: DbDep, settings: SettingsDep, clock: ClockDep,
             csrf: FormStr = "", county: FormStr = "") -> HTMLResponse:
    session.check_csrf(csrf)
    try:
        code = create_code(db, settings, county or None, clock=clock)
    except HallError as exc:
        return render(request, "codes.html", session, code=None, county=county, error=exc.detail,
                      status_code=422)
    return render(request, "codes.html", session, code=code, county=code.county, status_code=201)


@router.get("/applications")
def applications_page(request: Request, session: SessionDep, db: DbDep) -> HTMLResponse:
    return render(request, "applications.html", session, applications=apps.list_applications(db))


@router.get("/applications/{app_id}")
def application_page(app_id: str, request: Request, session: SessionDep, db: DbDep,
                     keys: KeysDep) -> HTMLResponse:
    application = apps.get_application(db, app_id)
    try:
        document = apps.open_document(application, keys.seal_private)
    except (SealError, ValueError):
        document = None
    media = {}
    for item in (document or {}).get("attachments", []) or []:
        if isinstance(item, dict) and item.get("sha256"):
            media[item["sha256"]] = str(item.get("media_type") or "")[:60]
    device = db.get(Device, application.device_id)
    return render(request, "application.html", session, app=application, document=document,
                  media=media, device=device, history=apps.history(db, app_id), settable=SETTABLE)


@router.post("/applications/{app_id}/status")
def set_status(app_id: str, session: SessionDep, db: DbDep, clock: ClockDep, csrf: FormStr = "",
               status: FormStr = "", reason: FormStr = "") -> Response:
    session.check_csrf(csrf)
    change_status(db, app_id, status, reason, actor=f"console:{session.username}", clock=clock)
    return RedirectResponse(f"/console/applications/{app_id}", status_code=303)


@router.get("/applications/{app_id}/attachments/{sha256}")
def attachment(app_id: str, sha256: str, session: SessionDep, db: DbDep, settings: SettingsDep,
               keys: KeysDep) -> Response:
    """The attachment as the bytes say it is (see attachments.py), never as the kiosk declared it."""
    application = apps.get_application(db, app_id)
    data = apps.open_attachment(settings, application, sha256, keys.seal_private)
    safe = safe_attachment(data)
    headers = safe.headers(f"{application.official_number}-{sha256[:8]}")
    headers["Content-Security-Policy"] = ATTACHMENT_POLICY
    return Response(safe.body, media_type=safe.media_type, headers=headers)
