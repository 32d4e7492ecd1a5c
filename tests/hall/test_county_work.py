"""Issue 12 parts 1-3 and issue 11 part 4 on a real hall (SQLite and PostgreSQL): the catalog
served signed and hash-checked, processing states with their history, the keyset inbox,
and roles scoped to county and department — every id-taking console route answers 404
to a user of another county or a clerk of another department."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from sqlalchemy.orm import Session

from hall.core.config import load_settings
from hall.db import make_engine, make_sessionmaker
from hall.errors import Conflict, InvalidRequest
from hall.models import Application
from hall.services import status as status_service
from hall.services.catalog import load_hall_catalog, manifest_version
from hall.services.inbox import inbox
from hall.services.roles import Scope
from hall.services.users import create_user
from hall.timeutil import to_datetime
from tests.hall.kiosk_client import SignedClient

PASSWORD = "county work passphrase"
HRSS_ITEM, CIVIL_ITEM = "GD-SAMPLE-001", "GD-SAMPLE-004"
OTHER_COUNTY = "445200"


@pytest.fixture(scope="module")
def sessions(hall) -> Iterator:
    settings = load_settings(db=hall.db_url, data_dir=hall.data_dir, environ={})
    engine = make_engine(settings.db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def console(url: str, username: str, address: str) -> requests.Session:
    """A logged-in console session (its own client address: the login limits are per address)."""
    session = requests.Session()
    session.headers["X-Forwarded-For"] = address
    page = session.get(url + "/console/login", timeout=10).text
    token = re.search(r'name="login_token" value="([^"]+)"', page).group(1)
    answer = session.post(url + "/console/login", allow_redirects=False, timeout=10,
                          data={"username": username, "password": PASSWORD, "login_token": token})
    assert answer.status_code == 303, answer.text
    session.csrf = re.search(r'name="csrf" value="([^"]+)"', session.get(url + "/console/", timeout=10).text
                             ).group(1)
    return session


def test_catalog_is_served_signed_and_hash_checked(kiosk: SignedClient):
    answer = kiosk.request("GET", "/api/v1/catalog")
    assert answer.status_code == 200 and answer.headers.get("X-Hall-Signature")
    body = answer.json()
    manifest = {f["name"]: f["sha256"] for f in body["files"]}
    for entry in body["files"]:
        assert hashlib.sha256(entry["text"].encode("utf-8")).hexdigest() == entry["sha256"]
    assert manifest_version(manifest) == body["version"] == load_hall_catalog().version
    assert any('department_id = "hrss"' in f["text"] for f in body["files"])
    same = kiosk.request("GET", "/api/v1/catalog", params={"have": body["version"]}).json()
    assert same == {"version": body["version"], "files": []}


def test_every_item_has_a_known_department_and_working_day_limits():
    catalog = load_hall_catalog()
    for item in catalog.catalog.items():
        assert item.department_id in catalog.departments
    assert catalog.codes_of("hrss") == ["GD-SAMPLE-001", "GD-SAMPLE-002"]
    from datetime import date
    calendar = catalog.calendar
    # Friday 2026-02-13: the Spring Festival week is off, Saturday 14th is worked (调休).
    assert calendar.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert calendar.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert calendar.working_days_left(date(2026, 2, 24), date(2026, 2, 14)) == -1
    assert calendar.working_days_left(date(2026, 2, 13), date(2026, 2, 24)) == 2


def test_processing_states_history_and_the_feed(kiosk: SignedClient, sessions):
    first = kiosk.submit(service_code=HRSS_ITEM)
    with sessions() as db:
        with pytest.raises(Conflict):  # not accepted yet
            status_service.change_status(db, first["id"], "completed", actor="console:t")
        db.rollback()
        with pytest.raises(InvalidRequest):  # a correction must say why
            status_service.change_status(db, first["id"], "correction_needed", actor="console:t",
                                         materials=["M1"], require_reason=True)
        db.rollback()
        status_service.change_status(db, first["id"], "correction_needed", "户口簿照片看不清",
                                     actor="console:li", materials=["M1"], require_reason=True)
        with pytest.raises(Conflict):  # only a supplement moves it on, or a rejection
            status_service.change_status(db, first["id"], "accepted", actor="console:li")
        db.rollback()
        status_service.change_status(db, first["id"], "supplemented", actor="kiosk", by_clerk=False)
        status_service.change_status(db, first["id"], "accepted", actor="console:li")
        status_service.change_status(db, first["id"], "completed", actor="console:li")
        with pytest.raises(Conflict):  # final
            status_service.change_status(db, first["id"], "rejected", "x", actor="console:li")
        db.rollback()
        application = db.get(Application, first["id"])
        assert application.accepted_at is not None and application.status == "completed"
        steps = [(c.from_status, c.status, c.actor, status_service.change_materials(c))
                 for c in status_service_history(db, first["id"])]
    assert steps == [("submitted", "correction_needed", "console:li", ["M1"]),
                     ("correction_needed", "supplemented", "kiosk", []),
                     ("supplemented", "accepted", "console:li", []),
                     ("accepted", "completed", "console:li", [])]
    feed = [(c["id"], c["status"]) for c in kiosk.status_changes().json()["changes"]]
    walked = ("correction_needed", "supplemented", "accepted", "completed")
    assert feed[-4:] == [(first["id"], s) for s in walked]


def status_service_history(db: Session, app_id: str):
    from hall.services.applications import history
    return history(db, app_id)


def test_inbox_is_scoped_oldest_first_and_paginated_by_keyset(new_kiosk, sessions):
    kiosk = new_kiosk()
    mine = [kiosk.submit(service_code=HRSS_ITEM)["id"] for _ in range(3)]
    kiosk.submit(service_code=CIVIL_ITEM)
    catalog = load_hall_catalog()
    clerk = Scope(username="c", role="clerk", county="441423", department="hrss",
                  item_codes=tuple(catalog.codes_of("hrss")))
    with sessions() as db:
        # Backdate one: received 30 days ago, its promised limit (1 working day) is long past.
        old = db.get(Application, mine[2])
        old.received_at = old.received_at - timedelta(days=30)
        db.commit()
        now = to_datetime(__import__("time").time())
        seen, after, pages = [], "", 0
        while True:
            page = inbox(db, clerk, catalog, now, 8, after=after, page=2)
            seen += [row.application for row in page.rows]
            pages += 1
            if not page.next_cursor:
                break
            after = page.next_cursor
        ours = [a for a in seen if a.id in mine]
        assert [a.id for a in ours] == [mine[2], mine[0], mine[1]]  # oldest first
        assert all(a.service_code in clerk.item_codes and a.county == "441423" for a in seen)
        assert len({a.id for a in seen}) == len(seen) and pages >= 2
        rows = inbox(db, clerk, catalog, now, 8, page=500).rows
        by_id = {r.application.id: r for r in rows}
        assert by_id[mine[2]].promised.overdue and not by_id[mine[0]].promised.overdue
        assert by_id[mine[0]].item_name.startswith("城乡居民基本养老保险参保登记")
        stranger = Scope(username="s", role="county_admin", county=OTHER_COUNTY)
        assert inbox(db, stranger, catalog, now, 8).rows == []


def test_roles_and_county_scoping_on_every_id_route(hall, new_kiosk, sessions):
    from hall.console.fleet_routes import router as fleet_router
    from hall.console.routes import router as console_router

    kiosk = new_kiosk()
    answer = kiosk.submit([(b"%PDF-1.4 page", "M1", "application/pdf")], service_code=HRSS_ITEM)
    app_id, sha = answer["id"], None
    suffix = uuid.uuid4().hex[:6]
    users = {"admin": ("county_admin", "441423", ""), "stranger": ("county_admin", OTHER_COUNTY, ""),
             "hrss": ("clerk", "441423", "hrss"), "civil": ("clerk", "441423", "civil_affairs"),
             "tech": ("technician", "441423", ""), "viewer": ("viewer", "441423", "")}
    departments = load_hall_catalog().departments
    with sessions() as db:
        for name, (role, county, department) in users.items():
            create_user(db, f"{name}-{suffix}", PASSWORD, role=role, county=county,
                        department=department or None, departments=departments)
        sha = db.get(Application, app_id).attachments[0].sha256
    logged = {name: console(hall.url, f"{name}-{suffix}", f"192.0.2.{10 + i}")
              for i, name in enumerate(users)}
    device = kiosk.device_id
    # Every console route that takes an id, with the request that reads or changes it.
    routes = {
        "/console/applications/{app_id}": ("GET", f"/console/applications/{app_id}", {}),
        "/console/applications/{app_id}/status": ("POST", f"/console/applications/{app_id}/status",
                                                  {"status": "accepted"}),
        "/console/applications/{app_id}/attachments/{sha256}": (
            "GET", f"/console/applications/{app_id}/attachments/{sha}", {}),
        "/console/applications/{app_id}/results/{result_id}": (
            "GET", f"/console/applications/{app_id}/results/1", {}),
        "/console/applications/{app_id}/certificates/{reference}": (
            "GET", f"/console/applications/{app_id}/certificates/ec-none", {}),
        "/console/devices/{device_id}/revoke": ("POST", f"/console/devices/{device}/revoke", {}),
        "/console/fleet/{device_id}": ("GET", f"/console/fleet/{device}", {}),
        "/console/fleet/{device_id}/commands": ("POST", f"/console/fleet/{device}/commands",
                                                {"kind": "sync_now"}),
        "/console/fleet/{device_id}/config": ("POST", f"/console/fleet/{device}/config",
                                              {"settings_toml": ""}),
        "/console/fleet/{device_id}/diagnostics/{upload_id}": (
            "GET", f"/console/fleet/{device}/diagnostics/1", {}),
    }
    # Releases belong to the whole hall, not to a county: only county admins may stage them.
    hall_wide = {"/console/releases/{version}/stage": ("POST", "/console/releases/9.9.9/stage",
                                                       {"stage": "halted"})}
    declared = {r.path for r in [*console_router.routes, *fleet_router.routes] if "{" in r.path}
    assert declared == set(routes) | set(hall_wide), "a new id-taking console route needs its test here"

    def call(who: str, key: str) -> int:
        method, path, form = {**routes, **hall_wide}[key]
        session = logged[who]
        return session.request(method, hall.url + path, data={"csrf": session.csrf, **form},
                               allow_redirects=False, timeout=10).status_code

    for key in routes:
        assert call("stranger", key) == 404, key  # another county: as if it did not exist
    page = logged["stranger"].get(hall.url + f"/console/applications/{app_id}", timeout=10)
    assert page.headers["content-type"].startswith("text/html") and "找不到" in page.text  # words, not JSON
    assert answer["provisional_number"] not in page.text
    for key in [k for k in routes if "applications" in k]:
        assert call("civil", key) == 404, key  # another department's item
        assert call("tech", key) in (403, 404), key  # technicians see no applications
    for key in [k for k in routes if "applications" not in k]:
        assert call("hrss", key) in (403, 404), key  # clerks see no devices
    for who in ("tech", "hrss", "viewer"):
        assert call(who, "/console/releases/{version}/stage") == 403, who
    stranger_group = logged["stranger"].post(hall.url + "/console/configs", allow_redirects=False, timeout=10,
                                             data={"csrf": logged["stranger"].csrf, "device": device,
                                                   "settings_toml": "", "note": ""})
    assert stranger_group.status_code == 404  # a group push naming another county's kiosk
    # In scope: the department's clerk reads and processes; the viewer reads only.
    assert call("hrss", "/console/applications/{app_id}") == 200
    assert call("viewer", "/console/applications/{app_id}") == 200
    assert call("viewer", "/console/applications/{app_id}/status") == 403
    assert call("hrss", "/console/applications/{app_id}/attachments/{sha256}") == 200
    assert call("hrss", "/console/applications/{app_id}/status") == 303
    assert call("tech", "/console/fleet/{device_id}") == 200
    assert call("admin", "/console/fleet/{device_id}") == 200
    # Lists: nothing of another county or department shows.
    assert answer["provisional_number"] in logged["hrss"].get(hall.url + "/console/inbox", timeout=10).text
    for who, page in (("civil", "/console/inbox"), ("stranger", "/console/applications"),
                      ("stranger", "/console/")):
        listed = logged[who].get(hall.url + page, timeout=10).text
        assert answer["provisional_number"] not in listed, (who, page)
    for page in ("/console/devices", "/console/fleet"):
        assert device not in logged["stranger"].get(hall.url + page, timeout=10).text
        assert device in logged["tech"].get(hall.url + page, timeout=10).text
    assert logged["tech"].get(hall.url + "/console/applications", timeout=10).status_code == 403
    assert logged["hrss"].get(hall.url + "/console/users", timeout=10).status_code == 403
    staff = logged["admin"].get(hall.url + "/console/users", timeout=10).text
    assert f"hrss-{suffix}" in staff and f"stranger-{suffix}" not in staff


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migration_makes_existing_users_county_admins(backend, tmp_path, request):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from hall.db import MIGRATIONS_DIR, migrate

    if backend == "postgres":
        url = request.getfixturevalue("postgres_cluster").create_database(f"hall_m{uuid.uuid4().hex[:8]}")
    else:
        url = f"sqlite:///{tmp_path / 'hall.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    command.upgrade(config, "0003_fleet")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO console_users (username, password_hash, created_at, "
                                    "session_version) VALUES ('old-admin', 'x', '2026-01-01 00:00:00', 1)"))
        migrate(url, OTHER_COUNTY)
        with engine.connect() as connection:
            row = connection.execute(text("SELECT role, county, department FROM console_users")).one()
        assert tuple(row) == ("county_admin", OTHER_COUNTY, "")
    finally:
        engine.dispose()


def test_cli_user_add_list_and_departments(hall):
    name = f"cli-clerk-{uuid.uuid4().hex[:6]}"
    saved = hall.cli("user", "add", "--username", name, "--password", PASSWORD, "--role", "clerk",
                     "--department", "civil_affairs").stdout
    assert "clerk" in saved and "civil_affairs" in saved and "441423" in saved
    listed = [line.split() for line in hall.cli("user", "list").stdout.splitlines()]
    assert [name, "clerk", "441423", "civil_affairs"] in listed
    refused = hall.cli("user", "add", "--username", name + "-x", "--password", PASSWORD, "--role", "clerk",
                       check=False)
    assert refused.returncode == 2 and "a clerk needs a department" in refused.stderr
    departments = hall.cli("departments").stdout
    assert all(word in departments for word in ("civil_affairs", "GD-SAMPLE-004", "最低生活保障申请"))


def make_supplement(kiosk: SignedClient, app_id: str, pages: list[tuple[bytes, str]]) -> dict:
    """Seal and upload a supplement's pages (context: the application) and its document
    (context: the supplement's own id), as the kiosk does; the body to post."""
    import base64
    import json

    from offline_queue.sealing import seal

    supplement_id = str(uuid.uuid4())
    meta = []
    for data, material in pages:
        box = seal(data, kiosk.hall_seal_key, app_id.encode("ascii"))
        kiosk.upload(box)
        meta.append({"sha256": hashlib.sha256(box).hexdigest(), "size": len(box), "material": material,
                     "pages": 1})
    document = {"id": supplement_id, "application_id": app_id,
                "attachments": [{**m, "media_type": "image/png"} for m in meta]}
    sealed = seal(json.dumps(document).encode(), kiosk.hall_seal_key, supplement_id.encode("ascii"))
    return {"id": supplement_id, "created_at": "2026-12-01T08:00:00Z",
            "sealed_document": base64.b64encode(sealed).decode(), "attachments": meta}


def post_supplement(kiosk: SignedClient, app_id: str, body: dict, key: str | None = None):
    return kiosk.post_json(f"/api/v1/applications/{app_id}/supplements", body,
                           headers={"Idempotency-Key": key or body["id"]})


def test_a_supplement_joins_the_application_exactly_once(kiosk: SignedClient, new_kiosk, sessions, hall):
    from hall.services.results import store_result
    from tests.support.result_pdfs import letter_pdf

    answer = kiosk.submit([(b"\x89PNG first page", "M1", "image/png")], service_code=HRSS_ITEM)
    app_id = answer["id"]
    early = post_supplement(kiosk, app_id, make_supplement(kiosk, app_id, [(b"page", "M1")]))
    assert early.status_code == 409 and early.json()["error"] == "not_correction_needed"
    with sessions() as db:
        status_service.change_status(db, app_id, "correction_needed", "户口簿照片看不清", actor="console:li",
                                     materials=["M1"], require_reason=True)
    (change,) = [c for c in kiosk.status_changes().json()["changes"] if c["id"] == app_id]
    assert change["materials"] == ["M1"] and change["status"] == "correction_needed"

    body = make_supplement(kiosk, app_id, [(b"\x89PNG the register, brighter", "M1")])
    stranger = new_kiosk()
    assert post_supplement(stranger, app_id, body).status_code == 404  # not its application
    unasked = post_supplement(kiosk, app_id, make_supplement(kiosk, app_id, [(b"other", "M2")]))
    assert unasked.status_code == 422 and "not asked for" in unasked.json()["detail"]

    first = post_supplement(kiosk, app_id, body)
    assert first.status_code == 201, first.text
    assert first.json() == {"id": body["id"], "application_id": app_id,
                            "official_number": None, "status": "supplemented"}  # asked before acceptance
    again = post_supplement(kiosk, app_id, body)
    assert again.status_code == 200 and again.json() == first.json()  # a repeat: the first answer
    changed = dict(body, created_at="2026-12-01T09:00:00Z")
    assert post_supplement(kiosk, app_id, changed).json()["error"] == "idempotency_conflict"
    later = post_supplement(kiosk, app_id, make_supplement(kiosk, app_id, [(b"late", "M1")]))
    assert later.status_code == 409  # no longer waiting for a correction

    with sessions() as db:
        application = db.get(Application, app_id)
        added = [(a.material, a.supplement_id) for a in application.attachments]
        assert added == [("M1", None), ("M1", body["id"])]  # joined once, marked as added
        assert application.status == "supplemented" and application.page_count == 2
        status_service.change_status(db, app_id, "accepted", actor="console:li")
        application = db.get(Application, app_id)
        store_result(db, load_settings(db=hall.db_url, data_dir=hall.data_dir, environ={}),
                     load_hall_keys(hall).seal_private, application, letter_pdf(1), actor="console:li")
        status_service.change_status(db, app_id, "completed", actor="console:li")
    changes = kiosk.status_changes().json()["changes"]
    feed = [(c["status"], c["results"]) for c in changes if c["id"] == app_id]
    assert feed == [("correction_needed", 0), ("supplemented", 0), ("accepted", 0), ("completed", 1)]


def load_hall_keys(hall):
    from hall.core.keys import load_or_create_keys

    return load_or_create_keys(hall.data_dir / "keys")
