"""The county-hall CLI: clear errors, JSON output, restart keeps everything (SQLite)."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from tests.hall.kiosk_client import SignedClient
from tests.support.hall_process import HallProcess, hall_command


@pytest.fixture(scope="module")  # one hall start for the module: the tests share nothing but its process
def local_hall(tmp_path_factory):
    with HallProcess(tmp_path_factory.mktemp("cli-hall")) as process:
        yield process


def test_cli_commands_and_restart(local_hall):
    hall = local_hall
    code = hall.cli("enrollment-code", "--json").stdout
    assert json.loads(code)["county"] == "441423"
    kiosk = SignedClient.enrolled(hall.url, json.loads(code)["code"])
    answer = kiosk.submit([(b"page", "M1", "image/png")])
    text = hall.cli("devices").stdout
    assert kiosk.device_id in text and "active" in text
    # Not accepted yet: "—" for the official number, the receipt number beside it (issue 12).
    line = next(x for x in hall.cli("applications").stdout.splitlines() if answer["id"] in x)
    assert line.startswith("—") and answer["provisional_number"] in line
    keys = hall.data_dir / "keys"
    for name in ("seal.key", "sign.key"):
        assert stat.S_IMODE(os.stat(keys / name).st_mode) == 0o600
    # issue 9 (low): the database and the console secret are owner-only, and so is every folder
    for path in (hall.data_dir / "hall.db", hall.data_dir / "hall.db-wal", hall.data_dir / "console-secret"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    for folder in (hall.data_dir, keys, hall.data_dir / "uploads", hall.data_dir / "attachments"):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
    seal_before = (keys / "seal.key").read_bytes()
    hall.stop()
    hall.start()
    assert (keys / "seal.key").read_bytes() == seal_before
    assert kiosk.status_changes().status_code == 200
    hall.set_status(answer["id"], "rejected", reason="duplicate")
    assert kiosk.status_changes().json()["changes"][0]["status"] == "rejected"


def test_cli_errors_are_one_line(local_hall):
    hall = local_hall
    missing = hall.cli("set-status", "nope", "--status", "accepted", check=False)
    assert missing.returncode == 2
    assert missing.stderr.strip() == "county-hall: error: no application nope"
    bad_status = hall.cli("set-status", "nope", "--status", "lost", check=False)
    assert bad_status.returncode == 2 and "invalid choice" in bad_status.stderr
    revoke = hall.cli("revoke", "kiosk-nope", check=False)
    assert revoke.stderr.strip() == "county-hall: error: no device kiosk-nope"
    short = hall.cli("create-user", "--username", "a", "--password", "x", check=False)
    assert short.returncode == 2 and "at least 10" in short.stderr and "Traceback" not in short.stderr
    common = hall.cli("create-user", "--username", "a", "--password", "1234567890", check=False)
    assert common.returncode == 2 and "too common" in common.stderr
    county = hall.cli("enrollment-code", "--county", "44", check=False)
    assert county.returncode == 2 and "Traceback" not in county.stderr
    bad_db = subprocess.run([*hall_command(), "devices", "--db", "mysql://x"], capture_output=True, text=True)
    assert bad_db.returncode == 2
    assert bad_db.stderr.strip() == "county-hall: error: unsupported database URL scheme: mysql"
