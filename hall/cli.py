"""``county-hall``: serve the hall and administer it from a shell.

Every command takes ``--db URL`` and ``--data-dir DIR`` (env ``COUNTY_HALL_DB``,
``COUNTY_HALL_DATA_DIR``; default ``./hall-data`` and SQLite inside it). Mistakes are
one-line errors on stderr (exit 2), never tracebacks.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from hall.core.config import Settings, load_settings, storage_arguments
from hall.errors import HallError, InvalidRequest
from kiosk.agent.documents import COMMAND_ARGS

log = logging.getLogger("hall.cli")


def _role_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role", choices=["county_admin", "technician", "clerk", "viewer"],
                        help="default: county_admin for a new user, unchanged for an existing one")
    parser.add_argument("--county", help="6-digit county code (default: the hall's county)")
    parser.add_argument("--department", help="a clerk's department (see `county-hall departments`)")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database URL (sqlite:///… or postgresql+psycopg://…)")
    parser.add_argument("--data-dir", help="data directory (keys, attachments, SQLite)")
    _storage_options(parser)


def _storage_options(parser: argparse.ArgumentParser) -> None:
    """Where blobs go (docs/operations.md, "Object storage"); the S3 keys only from the environment."""
    parser.add_argument("--storage", choices=["local", "s3"], default=None,
                        help="blob store: local (the data dir, default) or s3 (env COUNTY_HALL_STORAGE)")
    parser.add_argument("--s3-endpoint", default=None,
                        help="S3-compatible endpoint URL (env COUNTY_HALL_S3_ENDPOINT)")
    parser.add_argument("--s3-bucket", default=None, help="bucket (env COUNTY_HALL_S3_BUCKET)")
    parser.add_argument("--s3-region", default=None, help="region (default us-east-1)")
    parser.add_argument("--s3-prefix", default=None, help="key prefix inside the bucket (default none)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="county-hall", description="Reference county sub-hall")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="migrate the database and serve the API and console")
    _common(serve)
    serve.add_argument("--host", default=None, help="listen address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="listen port (default 8400)")
    serve.add_argument("--workers", type=_positive, default=1,
                       help="worker processes (default 1; on PostgreSQL about the number of cores)")
    serve.add_argument("--max-connections", type=_positive, default=None,
                       help="open connections per worker; more get 503 + Retry-After (default 1000)")
    serve.add_argument("--timeout-keep-alive", type=_positive, default=5,
                       help="seconds an idle keep-alive connection stays open (default 5)")
    serve.add_argument("--header-timeout", type=_positive, default=None,
                       help="seconds to send a whole request head (default 10)")
    serve.add_argument("--body-timeout", type=_positive, default=None,
                       help="seconds a request body may pause (default 10)")
    serve.add_argument("--backlog", type=_positive, default=2048,
                       help="listen backlog: connections the kernel queues before accept (default 2048)")
    serve.add_argument("--listeners", type=_positive, default=16,
                       help="listening sockets on the port (SO_REUSEPORT): the event loop accepts one "
                            "connection per socket per turn, so bursts of connections need several")
    serve.add_argument("--access-log", action="store_true",
                       help="log every request (method, path, status); off by default: it costs under load")
    serve.add_argument("--inflight-kiosk", type=_positive, default=None,
                       help="signed kiosk requests in flight per worker (default 12; on SQLite "
                            "12 for the hall, split among the workers)")
    serve.add_argument("--inflight-public", type=_positive, default=None,
                       help="other requests in flight per worker (default 6; on SQLite 6 for the "
                            "hall, split among the workers)")
    serve.add_argument("--inflight-login", type=_positive, default=None,
                       help="console logins in flight per worker (default 1)")

    serve.add_argument("--device-upload-mb", type=_positive, default=None,
                       help="MiB of unused uploads one kiosk may hold (default 512)")
    serve.add_argument("--device-upload-count", type=_positive, default=None,
                       help="unused uploads one kiosk may hold (default 200)")
    serve.add_argument("--disk-reserve-mb", type=int, default=None,
                       help="MiB of disk kept free; uploads past it get 507 (default 1024)")
    serve.add_argument("--upload-max-age-hours", type=float, default=None,
                       help="unfinished uploads untouched this long are deleted (default 48)")
    serve.add_argument("--cleanup-interval", type=float, default=None,
                       help="seconds between two cleanup passes of abandoned uploads (default 3600)")

    cleanup = sub.add_parser("cleanup-uploads", help="delete unfinished uploads untouched for a while")
    _common(cleanup)
    cleanup.add_argument("--max-age-hours", type=float, default=None,
                         help="age of the last chunk after which an unfinished upload goes (default 48)")

    _common(sub.add_parser("migrate", help="bring the database schema up to date"))

    code = sub.add_parser("enrollment-code", aliases=["enrolment-code"], help="create a one-time code")
    _common(code)
    code.add_argument("--county", help="6-digit county code (default 441423)")
    code.add_argument("--json", action="store_true", help="print a JSON object")

    user = sub.add_parser("create-user", help="create a console user (or reset the password, which ends "
                          "the user's sessions)")
    _common(user)
    user.add_argument("--username", required=True)
    user.add_argument("--password", help="at least 10 characters, not a common one (default: asked for, or "
                      "one line from standard input; on the command line it shows in `ps`)")
    _role_arguments(user)

    users = sub.add_parser("user", help="console users: `user add` (same as create-user), `user list`")
    users_sub = users.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = users_sub.add_parser("add", help="create a console user with a role (or change one)")
    _common(add)
    add.add_argument("--username", required=True)
    add.add_argument("--password", help="as for create-user")
    _role_arguments(add)
    listing = users_sub.add_parser("list", help="console users with role, county and department")
    _common(listing)

    departments = sub.add_parser("departments", help="the departments and the items each processes")
    _common(departments)

    apps = sub.add_parser("applications", help="list applications")
    _common(apps)
    apps.add_argument("--json", action="store_true", help="one JSON object per line")

    status = sub.add_parser("set-status", help="change an application's status")
    _common(status)
    status.add_argument("id", help="application UUID")
    status.add_argument("--status", required=True,
                        choices=["accepted", "correction_needed", "completed", "rejected"])
    status.add_argument("--walk", action="store_true",
                        help="accept first when the status needs an accepted application (both recorded)")
    status.add_argument("--reason", default="")

    revoke = sub.add_parser("revoke", help="revoke a kiosk")
    _common(revoke)
    revoke.add_argument("device_id")

    devices = sub.add_parser("devices", help="list kiosks")
    _common(devices)
    devices.add_argument("--json", action="store_true", help="one JSON object per line")

    fleet = sub.add_parser("fleet", help="every kiosk with its latest heartbeat")
    _common(fleet)
    fleet.add_argument("--json", action="store_true", help="one JSON object per line")

    command = sub.add_parser("command", help="send a signed command to a kiosk (delivered at its next beat)")
    _common(command)
    command.add_argument("device_id")
    command.add_argument("kind", help="one of: " + ", ".join(COMMAND_ARGS))
    command.add_argument("--arg", action="append", default=[], metavar="NAME=VALUE",
                         help="a command argument, e.g. --arg notice='Closed today' or --arg force=true")
    command.add_argument("--ttl", type=int, default=None, help="seconds before it expires (default 1 day)")
    command.add_argument("--by", default="cli", help="who issues it (for the audit log)")
    command.add_argument("--json", action="store_true", help="print the command as JSON")

    push = sub.add_parser("config-push", help="sign a configuration layer (TOML) for some kiosks or all")
    _common(push)
    push.add_argument("file", help="a TOML file of kiosk settings, e.g. [kiosk] idle_timeout_s = 90")
    target = push.add_mutually_exclusive_group(required=True)
    target.add_argument("--device", action="append", default=[], metavar="DEVICE_ID",
                        help="a kiosk; repeat for a group")
    target.add_argument("--all", action="store_true", help="every kiosk that is not revoked")
    push.add_argument("--note", default="", help="what changed, for the audit log")
    push.add_argument("--by", default="cli", help="who pushes it (for the audit log)")

    rollout = sub.add_parser("configs", help="which kiosks took their configuration")
    _common(rollout)
    rollout.add_argument("--json", action="store_true", help="one JSON object per line")

    commands = sub.add_parser("commands", help="list commands and their acknowledgements")
    _common(commands)
    commands.add_argument("--device", default=None, help="only this kiosk's commands")
    commands.add_argument("--json", action="store_true", help="one JSON object per line")

    diagnostics = sub.add_parser("diagnostics", help="a kiosk's uploaded diagnostics: list, or open one")
    _common(diagnostics)
    diagnostics.add_argument("device_id")
    diagnostics.add_argument("--open", type=int, default=None, metavar="ID",
                             help="print what one upload holds (as JSON; audited)")
    diagnostics.add_argument("--by", default="cli", help="who opens it (for the audit log)")
    diagnostics.add_argument("--json", action="store_true", help="one JSON object per line")

    release = sub.add_parser("release", help="kiosk software releases: publish, stage, list")
    release_sub = release.add_subparsers(dest="release_action", required=True)
    publish = release_sub.add_parser("publish", help="sign a bundle of wheels as a release (pilot stage)")
    _common(publish)
    publish.add_argument("bundle_dir", help="a folder of wheel files (pip wheel / python -m build)")
    publish.add_argument("--version", required=True)
    publish.add_argument("--pilot", action="append", default=[], metavar="DEVICE_ID",
                         help="a kiosk of the pilot group; repeat")
    publish.add_argument("--by", default="cli", help="who publishes it (for the audit log)")
    stage = release_sub.add_parser("stage", help="move a rollout: pilot, percent, all, halt, rollback")
    _common(stage)
    stage.add_argument("version")
    stage.add_argument("stage", choices=["pilot", "percent", "all", "halt", "rollback"])
    stage.add_argument("--percent", type=int, default=None)
    stage.add_argument("--pilot", action="append", default=None, metavar="DEVICE_ID",
                       help="replace the pilot group; repeat")
    stage.add_argument("--by", default="cli", help="who does it (for the audit log)")
    listing = release_sub.add_parser("list", help="releases, their stage and which kiosks run each")
    _common(listing)
    listing.add_argument("--json", action="store_true", help="one JSON object per line")

    certs = sub.add_parser("certs", help="e-certificates (电子证照): `certs load FILE`, `certs count`, "
                                         "`certs to-store`")
    certs_sub = certs.add_subparsers(dest="certs_action", required=True, metavar="ACTION")
    certs_load = certs_sub.add_parser("load", help="add the certificates of a TOML file "
                                                   "(config/e_certificates.toml)")
    _common(certs_load)
    certs_load.add_argument("file", help="the certificates file")
    _common(certs_sub.add_parser("count", help="how many certificates of each type the store holds"))
    _common(certs_sub.add_parser("to-store", help="move the documents an older hall kept in <data-dir>/"
                                                  "certificates/ into the blob store (local or S3)"))

    figures = sub.add_parser("figures", help="the figures page's monthly summary: `figures rebuild`")
    figures_sub = figures.add_subparsers(dest="figures_action", required=True, metavar="ACTION")
    figures_rebuild = figures_sub.add_parser(
        "rebuild", help="recompute the summary and its roll-ups from the applications, ratings and counter "
                        "entries (after changing utc_offset_hours; a repair)")
    _common(figures_rebuild)
    figures_rebuild.add_argument("--rollups-only", action="store_true",
                                 help="only the roll-ups, from the summary as it is (after a catalog changed "
                                      "an item's fully_online: seconds)")

    audit = sub.add_parser("audit", help="the audit log of staff actions, newest first")
    _common(audit)
    audit.add_argument("--device", default=None, help="only actions on this kiosk")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    _backup_commands(sub)
    return parser


def _backup_commands(sub) -> None:
    """docs/operations.md, "Backups and restore"."""
    backup = sub.add_parser("backup", help="copy the database, keys and every blob to a new folder")
    _common(backup)
    backup.add_argument("folder", help="a new (or empty) folder; it holds the hall's private keys: guard it")
    restore = sub.add_parser("restore", help="put a backup back (stop the hall's processes first)")
    _common(restore)
    restore.add_argument("folder", help="a folder made by `county-hall backup`")
    restore.add_argument("--force", action="store_true", help="replace keys that differ from the backup's")
    restore.add_argument("--gap", type=int, default=None,
                         help="PostgreSQL: ids continue this far past the backup's (default 1000000)")


def _command_args(kind: str, pairs: Sequence[str]) -> dict:
    """``NAME=VALUE`` pairs typed by ``COMMAND_ARGS[kind]`` (booleans: true/false, yes/no, 1/0)."""
    types = COMMAND_ARGS.get(kind, {})
    args: dict = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidRequest(f"--arg must be NAME=VALUE, got {pair!r}")
        if types.get(name) is bool:
            if value.lower() not in _BOOLEANS:
                raise InvalidRequest(f"--arg {name} must be true or false")
            args[name] = _BOOLEANS[value.lower()]
        else:
            args[name] = value
    return args


_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _session(settings: Settings):
    """A DB session on an up-to-date schema (migrating is idempotent and quick)."""
    from hall.db import is_current, make_engine, make_sessionmaker, migrate

    settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    if not is_current(engine):
        migrate(settings.db_url, settings.county)
    return make_sessionmaker(engine)()


def serve_overrides(args: argparse.Namespace) -> dict:
    """Settings that ``serve`` options change (None: keep the default)."""
    return {
        "max_connections": args.max_connections, "header_timeout_s": args.header_timeout,
        "body_idle_timeout_s": args.body_timeout, "inflight_kiosk": args.inflight_kiosk,
        "inflight_public": args.inflight_public, "inflight_login": args.inflight_login,
        "device_upload_bytes": _mib(args.device_upload_mb), "device_upload_count": args.device_upload_count,
        "disk_reserve_bytes": _mib(args.disk_reserve_mb), "cleanup_interval_s": args.cleanup_interval,
        "upload_max_age_s": (None if args.upload_max_age_hours is None
                             else int(args.upload_max_age_hours * 3600)),
    }


def sqlite_worker_budgets(settings: Settings, workers: int, given: dict) -> dict:
    """On SQLite the default in-flight budgets are the hall's, shared by its workers.

    SQLite has one writer whatever the number of processes, and a request in flight is
    work for the cores the workers share: with the budgets per worker, two workers admitted
    twice the work of one, and under the load mix every turn of their event loops, and so
    even their answers at the door, took twice as long (docs/operations.md, "Load figures").
    A second worker is for the door's cheap answers under a flood, not for more requests in
    flight. Budgets given on the command line are kept as given (per worker)."""
    if workers < 2 or not settings.db_url.startswith("sqlite"):
        return {}
    return {name: max(1, getattr(settings, name) // workers)
            for name in ("inflight_kiosk", "inflight_public") if name not in given}


def _mib(value: int | None) -> int | None:
    return None if value is None else value * 1024 * 1024


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """uvicorn with N worker processes, each building the app from the settings handed
    down in the environment; see docs/operations.md, "Running the hall"."""
    import os

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from hall.api.connection_guard import listening_sockets, protocol_path
    from hall.app import ENV_SERVE_SETTINGS
    from hall.db import migrate

    settings.ensure_dirs()
    _check_store(settings)
    migrate(settings.db_url, settings.county)
    overrides = {name: value for name, value in serve_overrides(args).items() if value is not None}
    overrides = {**sqlite_worker_budgets(settings, args.workers, overrides), **overrides}
    os.environ[ENV_SERVE_SETTINGS] = json.dumps({
        "db": settings.db_url, "data_dir": str(settings.data_dir), "host": settings.host,
        "port": settings.port, **overrides, **storage_arguments(settings),
    })
    log.info("serving on http://%s:%s with %d worker(s) (data dir %s)", settings.host, settings.port,
             args.workers, settings.data_dir)
    config = uvicorn.Config(
        "hall.app:app_from_environment", factory=True, host=settings.host, port=settings.port,
        workers=args.workers, http=protocol_path(), loop=_event_loop(),
        backlog=args.backlog, timeout_keep_alive=args.timeout_keep_alive,
        timeout_graceful_shutdown=5, log_level="info", access_log=args.access_log,
    )
    # uvicorn.run binds one socket; these are several on the same port (hall/api/connection_guard.py).
    sockets = listening_sockets(settings.host, settings.port, args.listeners, args.backlog)
    server = uvicorn.Server(config)
    try:
        if args.workers > 1:
            Multiprocess(config, sockets=sockets).run()
            return 0
        server.run(sockets=sockets)
    except KeyboardInterrupt:
        return 0
    finally:
        for sock in sockets:
            sock.close()
    return 0 if server.started else 3  # 3: uvicorn's "startup failure"


def _check_store(settings: Settings) -> None:
    """A bucket that is missing or refuses the keys stops ``serve`` now, not at the first kiosk."""
    if settings.storage == "s3":
        from hall.storage import open_store

        next(iter(open_store(settings).keys("attachments")), None)  # one listing request


def _event_loop() -> str:
    """uvloop when installed (about twice the requests per core), else asyncio."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def cmd_cleanup_uploads(settings: Settings, args: argparse.Namespace) -> int:
    import dataclasses

    from hall.services.uploads import cleanup_abandoned

    if args.max_age_hours is not None:
        if args.max_age_hours < 0:
            raise HallError("--max-age-hours must not be negative")
        settings = dataclasses.replace(settings, upload_max_age_s=int(args.max_age_hours * 3600))
    with _session(settings) as db:
        done = cleanup_abandoned(db, settings)
    print(f"deleted {done.uploads} abandoned uploads and {done.stray_files} stray files "
          f"({done.bytes_freed} bytes)")
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from hall.db import migrate

    settings.ensure_dirs()
    migrate(settings.db_url, settings.county)
    print("database is up to date")
    return 0


def cmd_enrollment_code(settings: Settings, args: argparse.Namespace) -> int:
    from hall.services.enrolment import create_code
    from hall.timeutil import iso

    with _session(settings) as db:
        code = create_code(db, settings, args.county)
        if args.json:
            print(json.dumps({"code": code.code, "county": code.county, "expires_at": iso(code.expires_at)}))
        else:
            print(code.code)
    return 0


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> int:
    from hall.services.users import check_password, create_user

    password = args.password
    if password is None:
        if sys.stdin.isatty():
            import getpass

            password = getpass.getpass("password: ")
        else:
            password = sys.stdin.readline().rstrip("\r\n")
    check_password(password, args.username)  # before touching the database
    from hall.services.catalog import load_departments

    with _session(settings) as db:
        user = create_user(db, args.username, password, role=args.role,
                           county=args.county or settings.county, department=args.department,
                           departments=load_departments())
        print(f"console user {user.username} saved ({user.role}, county {user.county}"
              + (f", department {user.department})" if user.department else ")"))
    return 0


def cmd_user(settings: Settings, args: argparse.Namespace) -> int:
    if args.user_command == "add":
        return cmd_create_user(settings, args)
    from hall.services.users import list_users

    with _session(settings) as db:
        for user in list_users(db):
            print(f"{user.username:<24} {user.role:<13} {user.county}  {user.department or '-'}")
    return 0


def cmd_departments(settings: Settings, args: argparse.Namespace) -> int:
    from hall.services.catalog import load_hall_catalog

    catalog = load_hall_catalog()
    print(f"catalog version {catalog.version}")
    for department in catalog.departments.values():
        print(f"{department.id:<22} {department.name.zh}  {department.name.en}")
        for code in catalog.codes_of(department.id):
            print(f"    {code:<16} {catalog.item_name(code)}")
    return 0


def cmd_applications(settings: Settings, args: argparse.Namespace) -> int:
    from hall.services.applications import application_json, list_applications

    with _session(settings) as db:
        for application in reversed(list_applications(db)):
            row = application_json(application)
            if args.json:
                print(json.dumps(row, ensure_ascii=False))
            else:
                # No official number until a clerk accepts it: "—", and the receipt number beside.
                print(f"{row['official_number'] or '—':<30}  {row['provisional_number']:<28}  "
                      f"{row['status']:<17}  {row['service_code']:<12}  "
                      f"{row['device_id']}  {row['id']}")
    return 0


def cmd_set_status(settings: Settings, args: argparse.Namespace) -> int:
    from hall.services.status import change_status

    with _session(settings) as db:
        change = change_status(db, args.id, args.status, args.reason, actor="cli", walk=args.walk,
                               utc_offset_hours=settings.utc_offset_hours)
        print(f"{args.id}: {change.status}")
    return 0


def cmd_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from hall.services import audit
    from hall.services.devices import revoke

    with _session(settings) as db:
        revoke(db, args.device_id)
        audit.record(db, "cli", "device.revoke", args.device_id)
        db.commit()
        print(f"{args.device_id} revoked")
    return 0


def cmd_devices(settings: Settings, args: argparse.Namespace) -> int:
    from hall.services.devices import application_counts, device_json, list_devices

    with _session(settings) as db:
        counts = application_counts(db)
        for device in list_devices(db):
            row = device_json(device, counts.get(device.id, 0))
            if args.json:
                print(json.dumps(row, ensure_ascii=False))
            else:
                state = "revoked" if device.revoked else "active"
                print(f"{row['device_id']}  {state:<7}  {row['county']}  last seen {row['last_seen'] or '-'}"
                      f"  {row['applications']} applications  {row['name']}")
    return 0


def cmd_fleet(settings: Settings, args: argparse.Namespace) -> int:
    from hall.models import DeviceState
    from hall.services.devices import device_json, list_devices
    from hall.services.fleet import state_json

    with _session(settings) as db:
        for device in list_devices(db):
            row = {**device_json(device), "state": state_json(db.get(DeviceState, device.id))}
            if args.json:
                print(json.dumps(row, ensure_ascii=False))
            else:
                state, beat = row["state"], "no beat"
                if state:
                    beat = (f"beat {state['reported_at']}  health {state['health_state'] or '-'}  "
                            f"queue {state['queue_depth']}" + ("  LOCKED" if state["locked"] else ""))
                print(f"{row['device_id']}  {row['county']}  {beat}  {row['name']}")
    return 0


def cmd_command(settings: Settings, args: argparse.Namespace) -> int:
    from hall.core.keys import load_or_create_keys
    from hall.services.commands import command_json, issue

    keys = load_or_create_keys(settings.keys_dir)
    with _session(settings) as db:
        command = issue(db, keys.sign_private, args.device_id, args.kind, _command_args(args.kind, args.arg),
                        actor=args.by, ttl_s=args.ttl or settings.command_ttl_s)
        row = command_json(command)
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            print(f"{row['id']}  {row['kind']} for {row['device_id']}, expires {row['not_after']}")
    return 0


def cmd_config_push(settings: Settings, args: argparse.Namespace) -> int:
    import tomllib
    from pathlib import Path

    from hall.services.configs import push
    from hall.services.devices import list_devices

    try:
        tree = tomllib.loads(Path(args.file).read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"{args.file} is not valid TOML: {exc}") from exc
    with _session(settings) as db:
        ids = args.device or [d.id for d in list_devices(db) if not d.revoked]
        version = push(db, tree, ids, actor=args.by, note=args.note)
        print(f"configuration version {version.id} for {len(ids)} kiosk(s)")
    return 0


def cmd_configs(settings: Settings, args: argparse.Namespace) -> int:
    from hall.services.configs import rollout

    with _session(settings) as db:
        for row in rollout(db):
            if args.json:
                print(json.dumps(row, ensure_ascii=False))
            else:
                took = "took it" if row["took_it"] else f"runs v{row['reported_version']}"
                refused = f"  ({', '.join(row['refused'])})" if row["refused"] else ""
                print(f"{row['device_id']}  v{row['version']}  {took}{refused}")
    return 0


def cmd_commands(settings: Settings, args: argparse.Namespace) -> int:
    from hall.services.commands import command_json, list_commands

    with _session(settings) as db:
        for command in list_commands(db, args.device):
            row = command_json(command)
            if args.json:
                print(json.dumps(row, ensure_ascii=False))
            else:
                reason = row["ack"].get("reason", "")
                note = f"  ({reason})" if reason else ""
                print(f"{row['id']}  {row['kind']:<18}  {row['status']:<8}  {row['device_id']}  "
                      f"issued {row['issued_at']} by {row['issued_by']}{note}")
    return 0


def cmd_diagnostics(settings: Settings, args: argparse.Namespace) -> int:
    from hall.core.keys import load_or_create_keys
    from hall.services import audit, fleet_diagnostics

    with _session(settings) as db:
        if args.open is not None:
            keys = load_or_create_keys(settings.keys_dir)
            opened = fleet_diagnostics.open_upload(db, settings, keys.seal_private, args.device_id, args.open)
            audit.record(db, args.by, "diagnostics.open", args.device_id, {"diagnostics_id": args.open})
            db.commit()
            print(json.dumps(opened, ensure_ascii=False))
            return 0
        for row in fleet_diagnostics.list_for(db, args.device_id):
            summary = fleet_diagnostics.summary_json(row)
            if args.json:
                print(json.dumps(summary))
            else:
                print(f"{summary['id']}  {summary['received_at']}  {summary['size']} bytes")
    return 0


def cmd_release(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from hall.core.keys import load_or_create_keys
    from hall.services import releases

    with _session(settings) as db:
        if args.release_action == "publish":
            keys = load_or_create_keys(settings.keys_dir)
            made = releases.publish(db, settings, keys.sign_private, Path(args.bundle_dir), args.version,
                                    args.by, args.pilot)
            print(f"release {made.version} published to a pilot group of {len(args.pilot)} kiosk(s)")
        elif args.release_action == "stage":
            stage = {"halt": "halted", "rollback": "rolled_back"}.get(args.stage, args.stage)
            moved = releases.set_stage(db, args.version, stage, args.by, args.percent, args.pilot)
            share = f" {moved.percent} %" if moved.stage == "percent" else ""
            print(f"release {moved.version}: {moved.stage}{share}")
        else:
            running = releases.who_runs_what(db)
            for release in releases.list_releases(db):
                row = releases.release_json(db, release, running)
                if args.json:
                    print(json.dumps(row, ensure_ascii=False))
                else:
                    print(f"{row['version']}  {row['stage']:<11}  {len(row['kiosks'])} kiosk(s) run it  "
                          f"published {row['created_at']} by {row['created_by']}")
    return 0


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    from hall.services.audit import audit_json, recent

    with _session(settings) as db:
        for entry in recent(db, device_id=args.device):
            row = audit_json(entry)
            if args.json:
                print(json.dumps(row, ensure_ascii=False))
            else:
                print(f"{row['at']}  {row['actor']:<12}  {row['action']:<24}  {row['device_id'] or '-'}")
    return 0


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from hall.services.backups import backup

    report = backup(settings, Path(args.folder))
    print(f"backup of the {report.database} database (schema {report.revision}) and {report.blobs} blob(s) "
          f"in {args.folder}")
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from hall.services.backups import DEFAULT_GAP, restore

    gap = DEFAULT_GAP if args.gap is None else args.gap
    report = restore(settings, Path(args.folder), force=args.force, gap=gap)
    print(f"restored the {report.database} database (backup schema {report.revision}) and {report.blobs} "
          "blob(s) the store lacked")
    return 0


def _storage_overrides(args: argparse.Namespace) -> dict:
    return {name: getattr(args, name, None) for name in ("storage", "s3_endpoint", "s3_bucket", "s3_region",
                                                          "s3_prefix")}


def cmd_certs(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from sqlalchemy import func, select

    from hall.core.keys import load_or_create_keys
    from hall.models import ECertificate
    from hall.services.certificates import load_file, move_to_store

    if args.certs_action == "to-store":
        moved, kept = move_to_store(settings)
        print(f"{moved} certificate documents moved into the store ({kept} were there already)")
        return 0
    with _session(settings) as db:
        if args.certs_action == "load":
            keys = load_or_create_keys(settings.keys_dir)
            added = load_file(db, settings, keys.seal_private, Path(args.file))
            print(f"{added} certificates added")
        else:
            for cert_type, count in db.execute(select(ECertificate.cert_type, func.count())
                                               .group_by(ECertificate.cert_type).order_by(ECertificate.cert_type)):
                print(f"{cert_type:<28} {count}")
    return 0


def cmd_figures(settings: Settings, args: argparse.Namespace) -> int:
    from hall.services.figures_summary import rebuild, rebuild_rollups

    if args.rollups_only:
        with _session(settings) as db:
            kiosk_rows, item_rows = rebuild_rollups(db)
            db.commit()
        print(f"figures roll-ups rebuilt from the summary: {kiosk_rows} kiosk-month and {item_rows} "
              "item-month rows")
        return 0
    with _session(settings) as db:
        rows, kiosk_rows, item_rows = rebuild(db, settings.utc_offset_hours)
        db.commit()
    print(f"figures summary rebuilt: {rows} rows (local months of UTC{settings.utc_offset_hours:+d}); "
          f"roll-ups: {kiosk_rows} kiosk-month and {item_rows} item-month rows")
    return 0


COMMANDS = {
    "serve": cmd_serve, "migrate": cmd_migrate, "enrollment-code": cmd_enrollment_code,
    "enrolment-code": cmd_enrollment_code, "create-user": cmd_create_user,
    "applications": cmd_applications, "set-status": cmd_set_status, "revoke": cmd_revoke,
    "devices": cmd_devices, "cleanup-uploads": cmd_cleanup_uploads, "fleet": cmd_fleet,
    "command": cmd_command, "commands": cmd_commands, "audit": cmd_audit, "config-push": cmd_config_push,
    "configs": cmd_configs, "diagnostics": cmd_diagnostics, "release": cmd_release,
    "user": cmd_user, "departments": cmd_departments, "backup": cmd_backup, "restore": cmd_restore,
    "certs": cmd_certs, "figures": cmd_figures,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.command == "serve" else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

    try:
        settings = load_settings(db=args.db, data_dir=args.data_dir,
                                 host=getattr(args, "host", None), port=getattr(args, "port", None),
                                 **_storage_overrides(args))
        return COMMANDS[args.command](settings, args)
    except HallError as exc:
        print(f"county-hall: error: {exc.detail}", file=sys.stderr)
        return 2
    except (OperationalError, ProgrammingError) as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        print(f"county-hall: database error: {first} (run `county-hall migrate`?)", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"county-hall: database error: {type(exc).__name__}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"county-hall: error: {exc.strerror or exc} ({exc.filename or ''})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
