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
from hall.console.auth import (
    COOKIE,
    LOGIN_COOKIE,
    LOGIN_FORM_MAX_AGE_S,
    MAX_AGE_S,
    SessionDep,
    login_token_ok,
    make_cookie,
    new_login_token,
    set_cookie,
)
from hall.console.security_headers import ATTACHMENT_POLICY, ConsoleRoute
from hall.errors import HallError
from hall.models import Application, Device
from hall.services import applications as apps
from hall.services import devices as fleet
from hall.services import ratelimit
from hall.services.enrolment import create_code
from hall.services.status import SETTABLE, change_status
from hall.services.users import check_login, end_sessions
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


def client_address(request: Request) -> str:
    """The client's address (uvicorn puts the proxy's X-Forwarded-For here when it trusts it)."""
    return request.client.host if request.client else "unknown"


def login_form(request: Request, error: str = "", username: str = "", status_code: int = 200,
               headers: dict[str, str] | None = None) -> HTMLResponse:
    token = new_login_token(request.app.state.console_secret)
    response = render(request, "login.html", error=error, username=username, login_token=token,
                      status_code=status_code)
    set_cookie(request, response, LOGIN_COOKIE, token, LOGIN_FORM_MAX_AGE_S)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return login_form(request)


@router.post("/login")
def login(request: Request, db: DbDep, clock: ClockDep, username: FormStr = "", password: FormStr = "",
          login_token: FormStr = "") -> Response:
    secret = request.app.state.console_secret
    if not login_token_ok(secret, request.cookies.get(LOGIN_COOKIE), login_token):
        log.info("console login refused: form token missing or stale")
        return login_form(request, "登录页面已过期，请重新输入 The form expired; please log in again",
                          username=username[:100], status_code=400)
    # One upsert per limit and attempt, counted in the database that every hall process shares.
    now = clock()
    verdicts = [ratelimit.hit(db, ratelimit.LOGIN_PER_ADDRESS, client_address(request), now),
                ratelimit.hit(db, ratelimit.LOGIN_PER_ACCOUNT, username.strip().lower(), now)]
    refused = [v for v in verdicts if not v.allowed]
    if refused:
        wait_s = max(v.retry_after_s for v in refused)
        log.warning("console login throttled (%s)", "account" if not verdicts[1].allowed else "address")
        minutes = max(1, -(-wait_s // 60))
        return login_form(request, f"尝试次数太多，请 {minutes} 分钟后再试 "
                                   f"Too many attempts; try again in {minutes} min",
                          username=username[:100], status_code=429, headers={"Retry-After": str(wait_s)})
    user = check_login(db, username, password)
    if user is None:
        log.info("console login refused")
        return login_form(request, "用户名或密码不正确 Wrong username or password", username=username[:100],
                          status_code=401)
    ratelimit.reset(db, ratelimit.LOGIN_PER_ACCOUNT, username.strip().lower())
    response = RedirectResponse("/console/", status_code=303)
    set_cookie(request, response, COOKIE, make_cookie(secret, user.username, user.session_version), MAX_AGE_S)
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


@router.post("/logout")
def logout(session: SessionDep, db: DbDep, csrf: FormStr = "") -> Response:
    session.check_csrf(csrf)
    end_sessions(db, session.username)  # the cookie is dead even if a copy of it survives
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
