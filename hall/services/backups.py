"""``county-hall backup DIR`` and ``county-hall restore DIR``: the database, the hall's keys
and every blob, in one folder an operator copies off the machine.

What a backup folder holds::

    DIR/backup.json        when, which schema revision, which database kind, what was copied
    DIR/hall.dump          PostgreSQL: pg_dump's custom format (pg_restore reads it)
    DIR/hall.db            SQLite: a consistent copy made with SQLite's online backup
    DIR/keys/              the hall's X25519 seal key and Ed25519 signing key (without them
                           no sealed application opens and no kiosk trusts the hall again)
                           and the e-certificates' holder secret (``holder.key``)
    DIR/blobs/<key>        attachments, results, release files, diagnostics and e-certificate
                           documents (``certificates/``), from whichever store the hall uses
                           (local disk or object storage)

The folder therefore holds the hall's private keys in the clear: keep it where the keys may
be (an encrypted disk, a safe), never beside the data it protects.

Restore puts the database back (PostgreSQL: ``pg_restore --clean`` into the configured
database; SQLite: the file, with the hall stopped), puts the keys back (refusing to replace
different keys unless forced), copies the blobs the store lacks, migrates to the current
schema, and — on PostgreSQL — moves every id sequence forward by ``gap``: kiosks hold
cursors (the status feed) and versions (configuration) issued after the backup was taken;
without the gap the restored hall would issue those numbers again and kiosks would skip
the new status changes or refuse the new configuration as "not newer".
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from hall.core.config import Settings
from hall.errors import Conflict, InvalidRequest
from hall.storage import copy_all, open_store
from hall.storage.local import LocalDiskStore

BLOB_PREFIXES = ("attachments", "results", "releases", "diagnostics", "certificates")
# Not the console secret: a restored hall makes a new one, so every console session ends
# (a logout or password reset made after the backup would otherwise be undone).
# holder.key: the e-certificates' holder keys are HMACs under it; without it no lookup finds anyone.
SECRETS = ("keys/seal.key", "keys/sign.key", "keys/holder.key")
DEFAULT_GAP = 1_000_000


@dataclass(frozen=True)
class BackupReport:
    database: str  # "postgresql" | "sqlite"
    revision: str
    blobs: int


def _postgres_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    raise InvalidRequest(f"{name} is not installed (Debian: apt-get install postgresql-client)")


def _libpq(settings: Settings) -> tuple[str, dict[str, str]]:
    """A libpq connection string and environment for the settings' PostgreSQL URL (the
    password goes through PGPASSWORD, never on a command line that `ps` shows)."""
    url = make_url(settings.db_url)
    parts = {"dbname": url.database or "", "user": url.username or "", "host": url.host or "",
             "port": str(url.port or "")}
    for name in ("host", "port"):
        value = url.query.get(name)
        if value:
            parts[name] = value if isinstance(value, str) else value[0]
    conninfo = " ".join(f"{k}='{_quoted(v)}'" for k, v in parts.items() if v)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return conninfo, env


def _quoted(value: str) -> str:
    """A libpq keyword value inside single quotes: backslash and quote escaped."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["failed"])[-1]
        raise InvalidRequest(f"{Path(command[0]).name}: {first}")


def backup(settings: Settings, target: Path) -> BackupReport:
    from hall.db import HEAD_REVISION

    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise Conflict(f"{target} is not empty: a backup goes into a new folder", code="backup_exists")
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(target, 0o700)
    if settings.sqlite_path is not None:
        kind = "sqlite"
        source = sqlite3.connect(settings.sqlite_path)
        copy = sqlite3.connect(target / "hall.db")
        try:
            source.backup(copy)  # consistent while the hall runs (WAL readers do not block it)
        finally:
            copy.close()
            source.close()
        os.chmod(target / "hall.db", 0o600)
    else:
        kind = "postgresql"
        conninfo, env = _libpq(settings)
        _run([_postgres_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              "--file", str(target / "hall.dump"), "--dbname", conninfo], env)
        os.chmod(target / "hall.dump", 0o600)
    for name in SECRETS:
        if (settings.data_dir / name).exists():
            (target / name).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.copy2(settings.data_dir / name, target / name)
    # Blobs last: everything the database copy names was stored before its row committed.
    blobs = copy_all(open_store(settings), LocalDiskStore(target / "blobs"), BLOB_PREFIXES)
    report = BackupReport(database=kind, revision=HEAD_REVISION, blobs=blobs)
    (target / "backup.json").write_text(json.dumps({
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"), "database": kind,
        "revision": report.revision, "blobs": blobs, "county": settings.county}, indent=1))
    return report


def restore(settings: Settings, source: Path, force: bool = False, gap: int = DEFAULT_GAP) -> BackupReport:
    """Put a backup back (the hall's processes stopped); see the module docstring."""
    from hall.db import make_engine, migrate

    source = Path(source)
    try:
        meta = json.loads((source / "backup.json").read_text())
    except (OSError, ValueError) as exc:
        raise InvalidRequest(f"{source} is not a hall backup (no readable backup.json)") from exc
    kind = "sqlite" if settings.sqlite_path is not None else "postgresql"
    if meta.get("database") != kind:
        raise InvalidRequest(f"the backup is of a {meta.get('database')} database; this hall uses {kind}")
    _restore_secrets(settings, source, force)
    (settings.data_dir / "console-secret").unlink(missing_ok=True)
    if kind == "sqlite":
        database = settings.sqlite_path
        assert database is not None
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(source / "hall.db", database)
        os.chmod(database, 0o600)
    else:
        conninfo, env = _libpq(settings)
        _run([_postgres_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", "--dbname", conninfo, str(source / "hall.dump")], env)
    migrate(settings.db_url, settings.county)
    if kind == "postgresql" and gap > 0:
        engine = make_engine(settings.db_url)
        try:
            _advance_sequences(engine, gap)
        finally:
            engine.dispose()
    settings.ensure_dirs()
    blobs = copy_all(LocalDiskStore(source / "blobs"), open_store(settings), BLOB_PREFIXES)
    return BackupReport(database=kind, revision=str(meta.get("revision", "")), blobs=blobs)


def _restore_secrets(settings: Settings, source: Path, force: bool) -> None:
    for name in SECRETS:
        saved, live = source / name, settings.data_dir / name
        if not saved.exists():
            continue
        if live.exists() and live.read_bytes() != saved.read_bytes() and not force:
            raise Conflict(f"{live} differs from the backup's; kiosks trust the key they pinned: "
                           "restore with --force only if the backup's keys are the right ones",
                           code="keys_differ")
        live.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copyfile(saved, live)
        os.chmod(live, 0o600)


def _advance_sequences(engine, gap: int) -> None:
    """Every serial id continues ``gap`` past the restored maximum (PostgreSQL only)."""
    with engine.begin() as connection:
        sequences = connection.execute(text(
            "SELECT s.relname, t.relname, a.attname FROM pg_class s "
            "JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i') "
            "JOIN pg_class t ON t.oid = d.refobjid "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
            "WHERE s.relkind = 'S'")).all()
        for sequence, table, column in sequences:
            top = connection.execute(text(f'SELECT coalesce(max("{column}"), 0) FROM "{table}"')).scalar_one()
            connection.execute(text("SELECT setval(:seq, :value)"),
                               {"seq": sequence, "value": int(top) + gap})
