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

from hall.core.config import Settings, load_settings
from hall.errors import HallError

log = logging.getLogger("hall.cli")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database URL (sqlite:///… or postgresql+psycopg://…)")
    parser.add_argument("--data-dir", help="data directory (keys, attachments, SQLite)")


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
    serve.add_argument("--access-log", action="store_true",
                       help="log every request (method, path, status); off by default: it costs under load")
    serve.add_argument("--inflight-kiosk", type=_positive, default=None,
                       help="signed kiosk requests in flight per worker (default 12)")
    serve.add_argument("--inflight-public", type=_positive, default=None,
                       help="other requests in flight per worker (default 6)")
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

    apps = sub.add_parser("applications", help="list applications")
    _common(apps)
    apps.add_argument("--json", action="store_true", help="one JSON object per line")

    status = sub.add_parser("set-status", help="change an application's status")
    _common(status)
    status.add_argument("id", help="application UUID")
    status.add_argument("--status", required=True,
                        choices=["accepted", "correction_needed", "completed", "rejected"])
    status.add_argument("--reason", default="")

    revoke = sub.add_parser("revoke", help="revoke a kiosk")
    _common(revoke)
    revoke.add_argument("device_id")

    devices = sub.add_parser("devices", help="list kiosks")
    _common(devices)
    devices.add_argument("--json", action="store_true", help="one JSON object per line")
    return parser


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
        migrate(settings.db_url)
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


def _mib(value: int | None) -> int | None:
    return None if value is None else value * 1024 * 1024


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """uvicorn with N worker processes, each building the app from the settings handed
    down in the environment; see docs/operations.md, "Running the hall"."""
    import os

    import uvicorn

    from hall.api.connection_guard import protocol_path
    from hall.app import ENV_SERVE_SETTINGS
    from hall.db import migrate

    settings.ensure_dirs()
    migrate(settings.db_url)
    overrides = {name: value for name, value in serve_overrides(args).items() if value is not None}
    os.environ[ENV_SERVE_SETTINGS] = json.dumps({
        "db": settings.db_url, "data_dir": str(settings.data_dir), "host": settings.host,
        "port": settings.port, **overrides,
    })
    log.info("serving on http://%s:%s with %d worker(s) (data dir %s)", settings.host, settings.port,
             args.workers, settings.data_dir)
    uvicorn.run(
        "hall.app:app_from_environment", factory=True, host=settings.host, port=settings.port,
        workers=args.workers, http=protocol_path(), loop=_event_loop(),
        backlog=args.backlog, timeout_keep_alive=args.timeout_keep_alive,
        timeout_graceful_shutdown=5, log_level="info", access_log=args.access_log,
    )
    return 0


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
    migrate(settings.db_url)
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
    with _session(settings) as db:
        user = create_user(db, args.username, password)
        print(f"console user {user.username} saved")
    return 0


def cmd_applications(settings: Settings, args: argparse.Namespace) -> int:
    from hall.services.applications import application_json, list_applications

    with _session(settings) as db:
        for application in reversed(list_applications(db)):
            row = application_json(application)
            if args.json:
                print(json.dumps(row, ensure_ascii=False))
            else:
                print(f"{row['official_number']}  {row['status']:<17}  {row['service_code']:<12}  "
                      f"{row['device_id']}  {row['id']}")
    return 0


def cmd_set_status(settings: Settings, args: argparse.Namespace) -> int:
    from hall.services.status import change_status

    with _session(settings) as db:
        change = change_status(db, args.id, args.status, args.reason, actor="cli")
        print(f"{args.id}: {change.status}")
    return 0


def cmd_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from hall.services.devices import revoke

    with _session(settings) as db:
        revoke(db, args.device_id)
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


COMMANDS = {
    "serve": cmd_serve, "migrate": cmd_migrate, "enrollment-code": cmd_enrollment_code,
    "enrolment-code": cmd_enrollment_code, "create-user": cmd_create_user,
    "applications": cmd_applications, "set-status": cmd_set_status, "revoke": cmd_revoke,
    "devices": cmd_devices, "cleanup-uploads": cmd_cleanup_uploads,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.command == "serve" else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

    try:
        settings = load_settings(db=args.db, data_dir=args.data_dir,
                                 host=getattr(args, "host", None), port=getattr(args, "port", None))
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
