"""``/console/fleet``: the fleet overview, one kiosk's page (timeline, queue chart, commands,
configuration, diagnostics), ``/console/configs``, ``/console/releases`` (publish a bundle
from the hall's inbox folder to a pilot group, move its rollout, halt, roll back, see who
runs what) and ``/console/audit``. Forms only, no script (the console's CSP)."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tomllib
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.api.deps import ClockDep, DbDep, KeysDep, SettingsDep
from hall.console.auth import ConsoleSession, SessionDep
from hall.console.charts import queue_chart
from hall.console.routes import TEMPLATES, FormStr, render
from hall.console.security_headers import ConsoleRoute
from hall.core.config import Settings
from hall.errors import HallError
from hall.models import Device, DeviceConfig, DeviceState
from hall.services import audit, commands, configs, fleet_diagnostics, fleet_view, releases
from hall.services.commands import command_json
from hall.services.users import list_users
from hall.timeutil import Clock
from kiosk.agent.documents import COMMAND_ARGS

router = APIRouter(prefix="/console", include_in_schema=False, route_class=ConsoleRoute)
# Arguments and results as people read them (tojson escapes every Chinese character).
TEMPLATES.env.filters["plain_json"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True)
TEMPLATES.env.filters["pretty_json"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True,
                                                                indent=2)


@router.get("/fleet")
def fleet_page(request: Request, session: SessionDep, db: DbDep, settings: SettingsDep, clock: ClockDep,
               q: str = "", sort: str = "device", desc: bool = False) -> HTMLResponse:
    session.scope.require(session.scope.sees_devices)
    sort = sort if sort in fleet_view.SORT_KEYS else "device"
    rows = [r for r in fleet_view.fleet_rows(db, clock(), settings.heartbeat_interval_s, q[:100], sort, desc)
            if r.device.county == session.scope.county]
    return render(request, "fleet.html", session, rows=rows, q=q[:100], sort=sort, desc=desc,
                  sort_keys=fleet_view.SORT_KEYS, flag_labels=fleet_view.FLAG_LABELS)


def _device_page(request: Request, session: ConsoleSession, db: Session, settings: Settings, clock: Clock,
                 device_id: str, error: str = "", status_code: int = 200,
                 config_text: str = "") -> HTMLResponse:
    device = session.scope.check_device(db.get(Device, device_id), device_id)  # out of county: 404
    rows = fleet_view.fleet_rows(db, clock(), settings.heartbeat_interval_s)
    row = next(r for r in rows if r.device.id == device_id)
    recent = commands.list_commands(db, device_id, limit=30, clock=clock)
    return render(request, "fleet_device.html", session, device=device, row=row,
                  state=db.get(DeviceState, device_id),
                  chart=queue_chart(fleet_view.queue_points(db, device_id)),
                  timeline=fleet_view.timeline(db, device_id),
                  commands=[command_json(c) for c in recent], kinds=list(COMMAND_ARGS),
                  assignment=db.get(DeviceConfig, device_id), flag_labels=fleet_view.FLAG_LABELS,
                  diagnostics=[fleet_diagnostics.summary_json(d)
                               for d in fleet_diagnostics.list_for(db, device_id)],
                  error=error, config_text=config_text, status_code=status_code)


@router.get("/fleet/{device_id}")
def device_page(device_id: str, request: Request, session: SessionDep, db: DbDep, settings: SettingsDep,
                clock: ClockDep) -> HTMLResponse:
    return _device_page(request, session, db, settings, clock, device_id)


@router.get("/fleet/{device_id}/diagnostics/{upload_id}")
def diagnostics_page(device_id: str, upload_id: int, request: Request, session: SessionDep, db: DbDep,
                     keys: KeysDep, clock: ClockDep, settings: SettingsDep) -> HTMLResponse:
    device = session.scope.check_device(db.get(Device, device_id), device_id)  # out of county: 404
    session.scope.require(session.scope.manages_devices)  # logs of a kiosk: not for viewers
    opened = fleet_diagnostics.open_upload(db, settings, keys.seal_private, device_id, upload_id)
    upload = next(d for d in fleet_diagnostics.list_for(db, device_id) if d.id == upload_id)
    audit.record(db, f"console:{session.username}", "diagnostics.open", device_id,
                 {"diagnostics_id": upload_id}, clock=clock)
    db.commit()
    return render(request, "fleet_diagnostics.html", session, device=device, upload=upload, opened=opened)


@router.post("/fleet/{device_id}/commands")
def send_command(device_id: str, request: Request, session: SessionDep, db: DbDep, settings: SettingsDep,
                 keys: KeysDep, clock: ClockDep, csrf: FormStr = "", kind: FormStr = "",
                 notice: FormStr = "", force: FormStr = "", ttl_hours: FormStr = "24") -> Response:
    session.check_csrf(csrf)
    session.scope.check_device(db.get(Device, device_id), device_id)
    session.scope.require(session.scope.manages_devices)
    args: dict = {}
    if kind == "lock" and notice.strip():
        args["notice"] = notice.strip()
    if kind == "wipe":
        args["force"] = force == "yes"
    try:
        hours = float(ttl_hours or "24")
        commands.issue(db, keys.sign_private, device_id, kind, args, actor=f"console:{session.username}",
                       ttl_s=int(hours * 3600), clock=clock)
    except (ValueError, OverflowError):
        return _device_page(request, session, db, settings, clock, device_id,
                            "有效期须为数字 Hours must be a number", 422)
    except HallError as exc:
        db.rollback()
        return _device_page(request, session, db, settings, clock, device_id, exc.detail, 422)
    return RedirectResponse(f"/console/fleet/{device_id}", status_code=303)


@router.post("/fleet/{device_id}/config")
def push_config(device_id: str, request: Request, session: SessionDep, db: DbDep, settings: SettingsDep,
                clock: ClockDep, csrf: FormStr = "", settings_toml: FormStr = "",
                note: FormStr = "") -> Response:
    session.check_csrf(csrf)
    session.scope.check_device(db.get(Device, device_id), device_id)
    session.scope.require(session.scope.manages_devices)
    try:
        tree = tomllib.loads(settings_toml)
        configs.push(db, tree, [device_id], actor=f"console:{session.username}", note=note, clock=clock)
    except tomllib.TOMLDecodeError as exc:
        return _device_page(request, session, db, settings, clock, device_id, f"TOML: {exc}", 422,
                            settings_toml)
    except HallError as exc:
        db.rollback()
        return _device_page(request, session, db, settings, clock, device_id, exc.detail, 422, settings_toml)
    return RedirectResponse(f"/console/fleet/{device_id}", status_code=303)


def _configs_page(request: Request, session: ConsoleSession, db: Session, error: str = "",
                  status_code: int = 200, config_text: str = "",
                  chosen: list[str] | None = None) -> HTMLResponse:
    session.scope.require(session.scope.sees_devices)
    devices = [d for d in db.scalars(select(Device).where(*session.scope.device_filter())
                                     .order_by(Device.name, Device.id)) if not d.revoked]
    ours = {d.id for d in db.scalars(select(Device).where(*session.scope.device_filter()))}
    rows = [r for r in configs.rollout(db) if r["device_id"] in ours]
    return render(request, "fleet_configs.html", session, devices=devices, rows=rows,
                  error=error, config_text=config_text, chosen=set(chosen or []), status_code=status_code)


@router.get("/configs")
def configs_page(request: Request, session: SessionDep, db: DbDep) -> HTMLResponse:
    return _configs_page(request, session, db)


@router.post("/configs")
def push_group_config(request: Request, session: SessionDep, db: DbDep, clock: ClockDep, csrf: FormStr = "",
                      device: Annotated[list[str] | None, Form()] = None, settings_toml: FormStr = "",
                      note: FormStr = "") -> Response:
    session.check_csrf(csrf)
    session.scope.require(session.scope.manages_devices)
    chosen, text = (device or [])[:1000], settings_toml
    for device_id in chosen:  # another county's kiosk is not there, as on its own page
        session.scope.check_device(db.get(Device, device_id), device_id)
    try:
        configs.push(db, tomllib.loads(text), chosen, actor=f"console:{session.username}", note=note,
                     clock=clock)
    except tomllib.TOMLDecodeError as exc:
        return _configs_page(request, session, db, f"TOML: {exc}", 422, text, chosen)
    except HallError as exc:
        db.rollback()
        return _configs_page(request, session, db, exc.detail, 422, text, chosen)
    return RedirectResponse("/console/configs", status_code=303)


STAGE_CHOICES = [("pilot", "试点 Pilot"), ("percent", "按比例 Percent"), ("all", "全部 All"),
                 ("halted", "暂停 Halt"), ("rolled_back", "回退 Roll back")]


def release_inbox(settings: Settings) -> Path:
    """Where technicians put bundles (a folder of wheels each) for the console to publish."""
    return settings.data_dir / "release-inbox"


def _bundles(settings: Settings) -> list[str]:
    inbox = release_inbox(settings)
    if not inbox.is_dir():
        return []
    return sorted(p.name for p in inbox.iterdir() if p.is_dir() and any(p.glob("*.whl")))


def _releases_page(request: Request, session: ConsoleSession, db: Session, settings: Settings,
                   error: str = "", status_code: int = 200, version_text: str = "") -> HTMLResponse:
    session.scope.require(session.scope.sees_devices)
    running = releases.who_runs_what(db)
    devices = [d for d in db.scalars(select(Device).where(*session.scope.device_filter())
                                      .order_by(Device.name, Device.id)) if not d.revoked]
    return render(request, "fleet_releases.html", session,
                  releases=[releases.release_json(db, r, running) for r in releases.list_releases(db)],
                  factory=running.get("", []), devices=devices, bundles=_bundles(settings),
                  inbox=str(release_inbox(settings)), stage_choices=STAGE_CHOICES,
                  stage_labels=dict(STAGE_CHOICES), error=error, version_text=version_text,
                  upload_mib=settings.max_release_upload_bytes // (1024 * 1024),
                  status_code=status_code)


@router.get("/releases")
def releases_page(request: Request, session: SessionDep, db: DbDep, settings: SettingsDep) -> HTMLResponse:
    return _releases_page(request, session, db, settings)


@router.post("/releases")
def publish_release(request: Request, session: SessionDep, db: DbDep, settings: SettingsDep, keys: KeysDep,
                    clock: ClockDep, csrf: FormStr = "", bundle: FormStr = "", version: FormStr = "",
                    pilot: Annotated[list[str] | None, Form()] = None) -> Response:
    session.check_csrf(csrf)
    session.scope.require(session.scope.manages_releases)
    in_county = {d.id for d in db.scalars(select(Device).where(*session.scope.device_filter()))}
    pilot = [p for p in pilot or [] if p in in_county]  # another county's kiosks are not a pilot of ours
    if bundle not in _bundles(settings):  # a name from the list only: never a path from the form
        return _releases_page(request, session, db, settings, "请选择文件夹 Choose a bundle folder", 422,
                              version)
    try:
        releases.publish(db, settings, keys.sign_private, release_inbox(settings) / bundle, version.strip(),
                         f"console:{session.username}", (pilot or [])[:1000], clock=clock)
    except HallError as exc:
        db.rollback()
        return _releases_page(request, session, db, settings, exc.detail, 422, version)
    return RedirectResponse("/console/releases", status_code=303)


# What a browser sends as a wheel's name: a plain file name, never a path of ours to follow.
_WHEEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}\.whl$")


@router.post("/releases/upload")
def upload_release(request: Request, session: SessionDep, db: DbDep, settings: SettingsDep, keys: KeysDep,
                   clock: ClockDep, csrf: FormStr = "", version: FormStr = "",
                   pilot: Annotated[list[str] | None, Form()] = None,
                   wheels: Annotated[list[UploadFile] | None, File()] = None) -> Response:
    """The same publish as from the inbox folder, with the wheels uploaded by the browser
    (the body is capped at ``Settings.max_release_upload_bytes`` before it is read)."""
    session.check_csrf(csrf)
    session.scope.require(session.scope.manages_releases)
    in_county = {d.id for d in db.scalars(select(Device).where(*session.scope.device_filter()))}
    pilot = [p for p in pilot or [] if p in in_county]
    files = [w for w in wheels or [] if w.filename]
    names = [w.filename or "" for w in files]
    if not files or not all(_WHEEL_NAME.match(n) for n in names) or len(set(names)) != len(names):
        return _releases_page(request, session, db, settings,
                              "请选择 .whl 文件 Choose the release's wheel files (.whl)", 422, version)
    staging = settings.data_dir / "release-uploads" / secrets.token_hex(8)
    staging.mkdir(parents=True, mode=0o700)
    try:
        for upload, name in zip(files, names, strict=True):
            with open(staging / name, "wb") as out:
                shutil.copyfileobj(upload.file, out, 1 << 20)
        releases.publish(db, settings, keys.sign_private, staging, version.strip(),
                         f"console:{session.username}", pilot[:1000], clock=clock)
    except HallError as exc:
        db.rollback()
        return _releases_page(request, session, db, settings, exc.detail, 422, version)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RedirectResponse("/console/releases", status_code=303)


@router.post("/releases/{version}/stage")
def release_stage(version: str, request: Request, session: SessionDep, db: DbDep, settings: SettingsDep,
                  clock: ClockDep, csrf: FormStr = "", stage: FormStr = "",
                  percent: FormStr = "") -> Response:
    session.check_csrf(csrf)
    session.scope.require(session.scope.manages_releases)
    try:
        share = int(percent) if percent.strip() else None
    except ValueError:
        return _releases_page(request, session, db, settings, "比例须为 0–100 Percent must be 0–100", 422)
    try:
        releases.set_stage(db, version, stage, f"console:{session.username}", share, clock=clock)
    except HallError as exc:
        db.rollback()
        return _releases_page(request, session, db, settings, exc.detail, 422)
    return RedirectResponse("/console/releases", status_code=303)


@router.get("/audit")
def audit_page(request: Request, session: SessionDep, db: DbDep) -> HTMLResponse:
    session.scope.require(session.scope.manages_users)  # county admins
    ours = {d.id for d in db.scalars(select(Device).where(*session.scope.device_filter()))}
    staff = {f"console:{u.username}" for u in list_users(db, session.scope.county)}
    entries = []
    for entry in audit.recent(db, limit=300):
        if entry.device_id not in ours and entry.actor not in staff:
            continue
        row = audit.audit_json(entry)
        entries.append({**row, "detail_text": json.dumps(row["detail"], ensure_ascii=False)})
    return render(request, "audit.html", session, entries=entries)
