"""``/console``: overview, devices, enrolment codes, applications, the clerk's inbox,
processing (status changes with history, results), users.

Every page reads through the user's ``Scope`` (hall/services/roles.py): their county,
and for a clerk their department's items. An application or device out of scope is a
404, as if it did not exist."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hall.api.deps import ClockDep, DbDep, KeysDep, SettingsDep
from hall.console.attachments import safe_attachment
from hall.console.auth import (
    COOKIE,
    LOGIN_COOKIE,
    LOGIN_FORM_MAX_AGE_S,
    MAX_AGE_S,
    ConsoleSession,
    SessionDep,
    login_token_ok,
    make_cookie,
    new_login_token,
    set_cookie,
)
from hall.console.security_headers import ATTACHMENT_POLICY, ConsoleRoute
from hall.core.keys import HallKeys
from hall.errors import HallError
from hall.models import Application, Device, Supplement
from hall.services import applications as apps
from hall.services import audit, certificates, ratelimit, results
from hall.services.enrolment import create_code
from hall.services.inbox import inbox, limits
from hall.services.roles import ROLE_LABELS, Scope
from hall.services.status import allowed_next, change_materials, change_status
from hall.services.supplements import supplements_of
from hall.services.users import check_login, end_sessions, list_users
from hall.timeutil import Clock, iso, to_datetime
from kiosk.catalog import E_CERTIFICATE_NAMES
from offline_queue.sealing import SealError, open_box

log = logging.getLogger("hall.console")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters["iso"] = iso
TEMPLATES.env.filters["when"] = lambda value: iso(value)[:16].replace("T", " ") + " UTC" if value else "—"
STATUS_LABELS = {
    "submitted": "已提交 Submitted", "accepted": "已受理 Accepted",
    "correction_needed": "需补正 Correction needed", "supplemented": "已补正 Supplemented",
    "completed": "已办结 Completed", "rejected": "不予受理 Rejected",
}
TEMPLATES.env.globals["status_labels"] = STATUS_LABELS
TEMPLATES.env.globals["role_labels"] = ROLE_LABELS
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
    # Item names, never bare codes: every page gets the catalog's names.
    catalog = request.app.state.catalog
    return TEMPLATES.TemplateResponse(request, name, {"session": session, "item_name": catalog.item_name,
                                                      **context}, status_code=status_code)


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
async def login_page(request: Request) -> HTMLResponse:
    # On the loop: no database, and a flood of it must not cost a thread-pool trip each.
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


def _scoped_applications(db: Session, scope: Scope, limit: int | None = None) -> list[Application]:
    query = (select(Application).where(*scope.application_filter())
             .order_by(Application.received_at.desc(), Application.id))
    return list(db.scalars(query.limit(limit) if limit else query))


def _scoped_devices(db: Session, scope: Scope) -> list[Device]:
    return list(db.scalars(select(Device).where(*scope.device_filter()).order_by(Device.enrolled_at)))


@router.get("/")
def overview(request: Request, session: SessionDep, db: DbDep) -> HTMLResponse:
    scope = session.scope
    by_status = dict(db.execute(select(Application.status, func.count())
                                .where(*scope.application_filter()).group_by(Application.status)).all())
    devices = _scoped_devices(db, scope)
    return render(request, "overview.html", session,
                  by_status=by_status, total=sum(by_status.values()),
                  device_count=len(devices), revoked=sum(1 for d in devices if d.revoked),
                  recent=_scoped_applications(db, scope, limit=8) if scope.sees_applications else [])


@router.get("/devices")
def devices_page(request: Request, session: SessionDep, db: DbDep) -> HTMLResponse:
    session.scope.require(session.scope.sees_devices)
    counts = dict(db.execute(select(Application.device_id, func.count())
                             .where(Application.county == session.scope.county)
                             .group_by(Application.device_id)).all())
    return render(request, "devices.html", session, devices=_scoped_devices(db, session.scope), counts=counts)


@router.post("/devices/{device_id}/revoke")
def revoke_device(device_id: str, session: SessionDep, db: DbDep, csrf: FormStr = "") -> Response:
    session.check_csrf(csrf)
    session.scope.require(session.scope.manages_devices)
    device = session.scope.check_device(db.get(Device, device_id), device_id)
    device.revoked = True
    db.commit()
    log.info("device %s revoked by console", device_id)
    return RedirectResponse("/console/devices", status_code=303)


@router.get("/enrolment-codes")
def codes_page(request: Request, session: SessionDep) -> HTMLResponse:
    session.scope.require(session.scope.manages_devices)
    return render(request, "codes.html", session, code=None, county=session.scope.county)


@router.post("/enrolment-codes")
def new_code(request: Request, session: SessionDep, db: DbDep, settings: SettingsDep, clock: ClockDep,
             csrf: FormStr = "", county: FormStr = "") -> HTMLResponse:
    session.check_csrf(csrf)
    session.scope.require(session.scope.manages_devices)
    if county and county != session.scope.county:
        return render(request, "codes.html", session, code=None, county=session.scope.county,
                      error="只能为本县登记终端 Only kiosks of your own county", status_code=422)
    try:
        code = create_code(db, settings, session.scope.county, clock=clock)
    except HallError as exc:
        return render(request, "codes.html", session, code=None, county=county, error=exc.detail,
                      status_code=422)
    return render(request, "codes.html", session, code=code, county=code.county, status_code=201)


@router.get("/applications")
def applications_page(request: Request, session: SessionDep, db: DbDep) -> HTMLResponse:
    session.scope.require(session.scope.sees_applications)
    return render(request, "applications.html", session,
                  applications=_scoped_applications(db, session.scope, limit=500))


@router.get("/inbox")
def inbox_page(request: Request, session: SessionDep, db: DbDep, settings: SettingsDep, clock: ClockDep,
               after: str = "") -> HTMLResponse:
    session.scope.require(session.scope.sees_applications)
    page = inbox(db, session.scope, request.app.state.catalog, to_datetime(clock()),
                 settings.utc_offset_hours, after=after[:120])
    department = request.app.state.catalog.departments.get(session.scope.department)
    return render(request, "inbox.html", session, page=page, first=not after, department=department)


def _scoped_application(db: Session, session: ConsoleSession, app_id: str) -> Application:
    return session.scope.check_application(db.get(Application, app_id), app_id)


def _application_page(request: Request, session: ConsoleSession, db: Session, keys: HallKeys,
                      settings, clock: Clock, app_id: str, error: str = "",
                      status_code: int = 200) -> HTMLResponse:
    application = _scoped_application(db, session, app_id)
    try:
        document = apps.open_document(application, keys.seal_private)
    except (SealError, ValueError):
        document = None
    media: dict[str, str] = {}
    added = supplements_of(db, app_id)
    for source in [document, *(_supplement_document(s, keys) for s in added)]:
        for item in (source or {}).get("attachments", []) or []:
            if isinstance(item, dict) and item.get("sha256"):
                media[item["sha256"]] = str(item.get("media_type") or "")[:60]
    device = db.get(Device, application.device_id)
    catalog = request.app.state.catalog
    item = catalog.item(application.service_code)
    promised, statutory = limits(catalog, application, to_datetime(clock()), settings.utc_offset_hours)
    material_names = {m.id: f"{m.name.zh} {m.name.en}" for m in item.materials} if item else {}
    history = [(change, [material_names.get(m, m) for m in change_materials(change)])
               for change in apps.history(db, app_id)]
    can_process = session.scope.processes_applications
    return render(request, "application.html", session, app=application, document=document,
                  media=media, device=device, history=history, item=item,
                  promised=promised, statutory=statutory, material_names=material_names,
                  settable=allowed_next(application.status) if can_process else (),
                  results=results.results_of(db, app_id), error=error, status_code=status_code,
                  certificates=certificates.certificates_of(db, app_id),
                  certificate_names={k: f"{zh} {en}" for k, (zh, en) in E_CERTIFICATE_NAMES.items()},
                  supplements={s.id: s.received_at for s in added})


def _supplement_document(supplement: Supplement, keys: HallKeys) -> dict | None:
    try:
        document = json.loads(open_box(supplement.sealed_document, keys.seal_private,
                                       supplement.id.encode("ascii")))
    except (SealError, ValueError):
        return None
    return document if isinstance(document, dict) else None


@router.get("/applications/{app_id}")
def application_page(app_id: str, request: Request, session: SessionDep, db: DbDep, keys: KeysDep,
                     settings: SettingsDep, clock: ClockDep) -> HTMLResponse:
    page = _application_page(request, session, db, keys, settings, clock, app_id)
    log.info("application %s opened by console:%s", app_id, session.username)  # ids only, never content
    return page


@router.post("/applications/{app_id}/status")
async def set_status(app_id: str, request: Request, session: SessionDep, db: DbDep, keys: KeysDep,
                     settings: SettingsDep, clock: ClockDep, csrf: FormStr = "", status: FormStr = "",
                     reason: FormStr = "", material: Annotated[list[str] | None, Form()] = None,
                     result: Annotated[UploadFile | None, File()] = None) -> Response:
    session.check_csrf(csrf)
    scope = session.scope
    application = _scoped_application(db, session, app_id)
    scope.require(scope.processes_applications)
    item = request.app.state.catalog.item(application.service_code)
    known = {m.id for m in item.materials} if item else set()
    chosen = [m for m in (material or []) if m in known]
    data = await result.read(results.MAX_RESULT_BYTES + 1) if result is not None and result.filename else b""
    try:
        if data and status != "completed":
            raise HallError("只有办结时才能附上结果 A result is attached only when completing")
        if data:  # a PDF is rendered to pages (seconds, in a child process): off the event loop
            await run_in_threadpool(results.store_result, db, settings, keys.seal_private, application, data,
                                    actor=f"console:{session.username}", clock=clock)
        change_status(db, app_id, status, reason, actor=f"console:{session.username}", clock=clock,
                      materials=chosen if status == "correction_needed" and known else None,
                      require_reason=True, utc_offset_hours=settings.utc_offset_hours)
    except HallError as exc:
        db.rollback()
        return _application_page(request, session, db, keys, settings, clock, app_id, exc.detail,
                                 409 if exc.status == 409 else 422)
    log.info("application %s: %s by console", app_id, status)
    return RedirectResponse(f"/console/applications/{app_id}", status_code=303)


@router.get("/applications/{app_id}/attachments/{sha256}")
def attachment(app_id: str, sha256: str, session: SessionDep, db: DbDep, settings: SettingsDep,
               keys: KeysDep) -> Response:
    """The attachment as the bytes say it is (see attachments.py), never as the kiosk declared it."""
    application = _scoped_application(db, session, app_id)
    data = apps.open_attachment(settings, application, sha256, keys.seal_private)
    log.info("attachment %s of %s viewed by console:%s", sha256[:12], app_id, session.username)
    safe = safe_attachment(data)
    headers = safe.headers(f"{application.number}-{sha256[:8]}")
    headers["Content-Security-Policy"] = ATTACHMENT_POLICY
    return Response(safe.body, media_type=safe.media_type, headers=headers)


@router.get("/applications/{app_id}/certificates/{reference}")
def certificate_file(app_id: str, reference: str, session: SessionDep, db: DbDep, settings: SettingsDep,
                     keys: KeysDep, clock: ClockDep) -> Response:
    """An e-certificate the application used: opened only through it, and every opening is audited."""
    application = _scoped_application(db, session, app_id)
    certificate = certificates.certificate_of_application(db, app_id, reference)
    data = certificates.open_document(settings, keys.seal_private, certificate)
    audit.record(db, f"console:{session.username}", "certificate_viewed",
                 detail={"application": app_id, "reference": reference}, clock=clock)
    db.commit()
    safe = safe_attachment(data)
    headers = safe.headers(f"{application.number}-certificate-{certificate.cert_type}")
    headers["Content-Security-Policy"] = ATTACHMENT_POLICY
    return Response(safe.body, media_type=safe.media_type, headers=headers)


@router.get("/applications/{app_id}/results/{result_id}")
def result_file(app_id: str, result_id: int, session: SessionDep, db: DbDep, settings: SettingsDep,
                keys: KeysDep) -> Response:
    application = _scoped_application(db, session, app_id)
    stored, data = results.open_result(db, settings, keys.seal_private, application, result_id)
    safe = safe_attachment(data)  # the hall wrote these bytes, but it serves them no other way
    headers = safe.headers(f"{application.number}-result-{stored.id}")
    headers["Content-Security-Policy"] = ATTACHMENT_POLICY
    return Response(safe.body, media_type=safe.media_type, headers=headers)


@router.get("/users")
def users_page(request: Request, session: SessionDep, db: DbDep) -> HTMLResponse:
    session.scope.require(session.scope.manages_users)
    return render(request, "users.html", session, users=list_users(db, session.scope.county),
                  departments=request.app.state.catalog.departments)
