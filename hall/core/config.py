"""Settings of the hall, built once (CLI flags > environment > defaults) and passed in."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hall.errors import InvalidRequest

ENV_DB = "COUNTY_HALL_DB"
ENV_DATA_DIR = "COUNTY_HALL_DATA_DIR"
ENV_COUNTY = "COUNTY_HALL_COUNTY"
ENV_SECURE_COOKIES = "COUNTY_HALL_SECURE_COOKIES"
# Where blobs go (hall/storage/): "local" (the data dir) or "s3" with an endpoint and a bucket.
# The S3 credentials are not settings: boto3 reads them from the environment (AWS_ACCESS_KEY_ID…).
ENV_STORAGE = "COUNTY_HALL_STORAGE"
ENV_S3_ENDPOINT = "COUNTY_HALL_S3_ENDPOINT"
ENV_S3_BUCKET = "COUNTY_HALL_S3_BUCKET"
ENV_S3_REGION = "COUNTY_HALL_S3_REGION"
ENV_S3_PREFIX = "COUNTY_HALL_S3_PREFIX"
DEFAULT_DATA_DIR = Path("hall-data")
DEFAULT_COUNTY = "441423"
_COUNTY = re.compile(r"^[0-9]{6}$")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    db_url: str
    county: str = DEFAULT_COUNTY
    host: str = "127.0.0.1"
    port: int = 8400
    enrolment_ttl_s: int = 24 * 3600
    max_skew_s: int = 300
    max_upload_bytes: int = 64 * 1024 * 1024
    max_chunk_bytes: int = 16 * 1024 * 1024
    max_json_bytes: int = 4 * 1024 * 1024
    # Bodies of the unsigned enrolment endpoint and of console forms are small: a body
    # bigger than these is refused before it is read (hall/api/body_limit.py).
    max_enrolment_bytes: int = 16 * 1024
    max_form_bytes: int = 64 * 1024
    # Bodies buffered at once by one process, all requests together: beyond it, 503.
    max_buffered_bytes: int = 256 * 1024 * 1024
    # A body must keep arriving (idle) and be complete (total) within these, else 408.
    body_idle_timeout_s: float = 10.0
    body_total_timeout_s: float = 60.0
    # A connection must send a whole request head within this, else it is closed.
    header_timeout_s: float = 10.0
    # Open connections per process; beyond it a new one gets 503 + Retry-After at once.
    max_connections: int = 1000
    # Requests in flight per process and kind (hall/api/admission.py); a request that
    # finds its kind full waits at most kiosk_wait_s (signed kiosk requests) or
    # admission_wait_s (the rest), then gets 503 + Retry-After.
    inflight_kiosk: int = 12
    inflight_login: int = 1  # scrypt: one per process leaves the other core to the rest
    inflight_public: int = 6
    admission_wait_s: float = 0.25
    kiosk_wait_s: float = 0.5  # far below the 2 s a villager's kiosk may wait for any answer
    retry_after_s: int = 2
    # Database: a short wait for a pooled connection or a SQLite lock, then 503.
    db_pool_timeout_s: float = 2.0
    sqlite_busy_timeout_ms: int = 1000
    # Uploads per device (unfinished, or finished but not yet in an application).
    device_upload_bytes: int = 512 * 1024 * 1024
    device_upload_count: int = 200
    # Free disk kept in reserve under the data dir: an upload that would eat into it is 507.
    disk_reserve_bytes: int = 1024 * 1024 * 1024
    # Unfinished uploads untouched this long are deleted (served pass and cleanup-uploads).
    upload_max_age_s: int = 48 * 3600
    cleanup_interval_s: float = 3600.0
    # Official numbers carry the local date of receipt (China Standard Time, no DST).
    utc_offset_hours: int = 8
    # Console cookies get the Secure flag on https requests anyway; this forces it (e.g.
    # behind a TLS proxy that does not say X-Forwarded-Proto).
    secure_cookies: bool = False
    # Fleet: the beat the hall asks of every kiosk, how many beats it keeps per kiosk (the
    # timeline and chart), and how long a command waits for its kiosk before it expires.
    heartbeat_interval_s: int = 60
    heartbeat_history: int = 1440
    command_ttl_s: int = 24 * 3600
    # A kiosk's sealed diagnostics (masked logs, device report, queue summary): at most this
    # big, and only the newest few per kiosk are kept.
    max_diagnostics_bytes: int = 512 * 1024
    diagnostics_kept: int = 10
    # A release bundle uploaded through the console's Releases page (bigger ones: the inbox folder).
    max_release_upload_bytes: int = 64 * 1024 * 1024
    # Blob storage (hall/storage/): attachments, results and release files.
    storage: str = "local"
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_prefix: str = ""

    @property
    def db_pool_size(self) -> int:
        """Connections one process may hold: every admitted request, and one to spare."""
        return self.inflight_kiosk + self.inflight_login + self.inflight_public + 1

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, when the database is one."""
        if not self.db_url.startswith("sqlite:///"):
            return None
        path = self.db_url[len("sqlite:///"):].split("?", 1)[0]
        return Path(path) if path and path != ":memory:" else None

    def ensure_dirs(self) -> None:
        """The data folders, owner-only: they hold keys, sealed attachments and the database."""
        for folder in (self.data_dir, self.keys_dir, self.uploads_dir, self.attachments_dir):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(folder, 0o700)
        database = self.sqlite_path
        if database is not None:
            # SQLite would create it with the umask (0644); its -wal and -shm files copy its mode.
            database.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
            os.chmod(database, 0o600)


def validate_county(county: str) -> str:
    if not _COUNTY.match(county):
        raise InvalidRequest(f"county must be a 6-digit division code, got {county!r}")
    return county


def load_settings(
    db: str | None = None,
    data_dir: str | Path | None = None,
    host: str | None = None,
    port: int | None = None,
    environ: Mapping[str, str] = os.environ,
    **overrides: object,
) -> Settings:
    folder = Path(data_dir or environ.get(ENV_DATA_DIR) or DEFAULT_DATA_DIR).expanduser().resolve()
    url = db or environ.get(ENV_DB) or f"sqlite:///{folder / 'hall.db'}"
    if not url.startswith(("sqlite", "postgresql")):
        raise InvalidRequest(f"unsupported database URL scheme: {url.split(':', 1)[0]}")
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    county = validate_county(environ.get(ENV_COUNTY) or DEFAULT_COUNTY)
    secure = (environ.get(ENV_SECURE_COOKIES) or "").strip().lower() in ("1", "true", "yes")
    kwargs: dict = {"data_dir": folder, "db_url": url, "county": county, "secure_cookies": secure,
                    **_storage_from(environ)}
    if host:
        kwargs["host"] = host
    if port is not None:
        kwargs["port"] = port
    unknown = set(overrides) - set(Settings.__dataclass_fields__)
    if unknown:
        raise InvalidRequest(f"unknown setting {sorted(unknown)[0]}")
    kwargs.update({name: value for name, value in overrides.items() if value is not None})
    return check_storage(Settings(**kwargs))


def _storage_from(environ: Mapping[str, str]) -> dict[str, str]:
    names = {"storage": ENV_STORAGE, "s3_endpoint": ENV_S3_ENDPOINT, "s3_bucket": ENV_S3_BUCKET,
             "s3_region": ENV_S3_REGION, "s3_prefix": ENV_S3_PREFIX}
    return {field: environ[name].strip() for field, name in names.items() if environ.get(name, "").strip()}


def check_storage(settings: Settings) -> Settings:
    if settings.storage not in ("local", "s3"):
        raise InvalidRequest(f"storage must be local or s3, got {settings.storage!r}")
    if settings.storage == "s3" and not settings.s3_bucket:
        raise InvalidRequest("--storage s3 needs --s3-bucket (or COUNTY_HALL_S3_BUCKET)")
    if settings.s3_endpoint and not settings.s3_endpoint.startswith(("https://", "http://")):
        raise InvalidRequest("--s3-endpoint must be an http(s):// URL")
    return settings


def storage_arguments(settings: Settings) -> dict[str, str]:
    """The storage settings as load_settings overrides (handed to ``serve``'s workers)."""
    return {"storage": settings.storage, "s3_endpoint": settings.s3_endpoint, "s3_bucket": settings.s3_bucket,
            "s3_region": settings.s3_region, "s3_prefix": settings.s3_prefix}
