"""Three real kiosk processes (`kiosk enroll`, `kiosk agent --once`) against a real
`county-hall serve`: heartbeats arrive, a configuration reaches two of them, a lock is
acknowledged, an expired command is never carried out, and a wipe of a "stolen" kiosk
leaves no sealed box on its disk; a release of this very project reaches the pilot kiosk
only and starts beside the factory install, and a release that crashes at start rolls back
by itself. (Forged, replayed, expired-on-arrival and other-device commands are refused by
the agent: tests/kiosk/test_agent.py; downloads through a cutting link:
tests/kiosk/test_updates.py.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.kiosk.test_cli import kiosk, paper_file
from tests.support.hall_process import HallProcess
from tests.support.releases import ROOT, broken_wheel, project_wheel


def beat(data_dir: Path) -> dict:
    out = kiosk("agent", "--once", "--json", "--data-dir", str(data_dir))
    assert out.returncode in (0, 3), out.stderr
    assert "Traceback" not in out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fleet")
    with HallProcess(tmp) as hall:
        kiosks = []
        for n in range(3):
            data_dir = tmp / f"kiosk-{n}"
            out = kiosk("enroll", "--hall", hall.url, "--code", hall.enrollment_code(), "--data-dir",
                        str(data_dir), "--name", f"village {n}")
            assert out.returncode == 0, out.stderr
            kiosks.append(data_dir)
        yield hall, kiosks, tmp


def device_id(data_dir: Path) -> str:
    return json.loads((data_dir / "identity.json").read_text())["device_id"]


def test_fleet(fleet):
    hall, kiosks, tmp = fleet
    ids = [device_id(d) for d in kiosks]

    # Heartbeats arrive.
    for data_dir in kiosks:
        assert beat(data_dir)["reached_hall"]
    states = {row["device_id"]: row["state"] for row in lines(hall.cli("fleet", "--json"))}
    assert all(states[i]["reported_at"] and states[i]["health_state"] for i in ids)

    # A configuration change reaches two of them.
    layer = tmp / "layer.toml"
    layer.write_text('[kiosk]\nidle_timeout_s = 90.0\n[sync]\nquiet_hours = "12:00-13:00"\n')
    hall.cli("config-push", str(layer), "--device", ids[0], "--device", ids[1], "--by", "staff-li")
    taken = [beat(d)["interval_s"] for d in kiosks]  # each takes what is meant for it
    assert taken == [60, 60, 60]
    for data_dir in kiosks:
        beat(data_dir)  # ... and reports it
    rollout = {row["device_id"]: row for row in lines(hall.cli("configs", "--json"))}
    assert rollout[ids[0]]["took_it"] and rollout[ids[1]]["took_it"] and ids[2] not in rollout
    assert [(d / "hall-config.json").is_file() for d in kiosks] == [True, True, False]

    # A lock is acknowledged.
    lock_id = json.loads(hall.cli("command", ids[0], "lock", "--arg", "notice=维护中", "--by", "staff-li",
                                  "--json").stdout)["id"]
    first = beat(kiosks[0])
    assert first["done"] == [[lock_id, "lock", "done"]] and first["locked"] is True
    assert beat(kiosks[0])["locked"] is True  # persisted across processes
    commands = {row["id"]: row for row in lines(hall.cli("commands", "--json"))}
    assert commands[lock_id]["status"] == "done"

    # An expired command is never carried out: the hall stops delivering it and marks it.
    expired_id = _issue_in_the_past(hall, ids[1], "unlock")
    assert beat(kiosks[1])["done"] == []
    commands = {row["id"]: row for row in lines(hall.cli("commands", "--json"))}
    assert commands[expired_id]["status"] == "expired" and commands[expired_id]["acked_at"] == ""

    # A "stolen" kiosk is wiped: no sealed box is left on its disk.
    stolen = kiosks[2]
    (stolen / "device.toml").write_text('[kiosk]\nmaintenance_window = ""\n')
    for _ in range(2):
        assert kiosk("submit", str(paper_file(tmp)), "--data-dir", str(stolen)).returncode == 0
    blobs = stolen / "outbox" / "blobs"
    assert [p for p in blobs.rglob("*") if p.is_file()]
    wipe_id = json.loads(hall.cli("command", ids[2], "wipe", "--arg", "force=true", "--json").stdout)["id"]
    assert beat(stolen)["done"] == [[wipe_id, "wipe", "done"]]
    assert not [p for p in blobs.rglob("*") if p.is_file()]
    purges = json.loads(kiosk("queue", "status", "--json", "--data-dir", str(stolen)).stdout.splitlines()[0])
    assert [p["reason"] for p in purges["purges"]] == ["wipe", "wipe"]
    commands = {row["id"]: row for row in lines(hall.cli("commands", "--json"))}
    assert commands[wipe_id]["ack"]["result"]["removed"] == 2
    hall.revoke(ids[2])
    assert kiosk("agent", "--once", "--data-dir", str(stolen)).returncode != 0

    audit = [row["action"] for row in lines(hall.cli("audit", "--json"))]
    assert {"command.lock", "command.wipe", "config.push", "device.revoke"} <= set(audit)


def launch(data_dir: Path) -> tuple[int, dict, str]:
    """``kiosk-launch agent --once``, as the service manager would start it: (exit code, the beat, stderr)."""
    env = {k: v for k, v in os.environ.items() if k not in ("KIOSK_DATA_DIR", "DISPLAY", "KIOSK_RELEASE")}
    out = subprocess.run([sys.executable, "-m", "kiosk.updates.launcher", "agent", "--once", "--json",
                          "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=300, cwd=ROOT,
                         env=env)
    beats = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return out.returncode, (beats[-1] if beats else {}), out.stderr


def test_a_release_reaches_its_pilot_and_a_bad_one_rolls_back_by_itself(fleet):
    hall, kiosks, tmp = fleet
    pilot, other = kiosks[0], kiosks[1]
    pilot_id = device_id(pilot)
    (pilot / "device.toml").write_text('[kiosk]\nmaintenance_window = ""\nrelease_max_starts = 1\n')
    project_wheel(tmp / "bundle-0.2.0")
    hall.cli("release", "publish", str(tmp / "bundle-0.2.0"), "--version", "0.2.0", "--pilot", pilot_id,
             "--by", "staff-li")

    code, first, _ = launch(pilot)  # the factory install: download, install beside, restart
    assert (code, first["release"], first["restart"]) == (75, "0.2.0 installed", True)
    assert beat(other)["release"] == ""  # not in the pilot group: not offered
    code, second, err = launch(pilot)  # the new release, on trial: one good beat makes it healthy
    assert code == 0 and second["reached_hall"], err
    assert (pilot / "releases" / "0.2.0" / "healthy").is_file()
    assert not (pilot / "releases" / "downloads").exists()  # installed: the downloaded wheels are gone
    assert os.readlink(pilot / "releases" / "current") == "0.2.0"
    states = {row["device_id"]: row["state"] for row in lines(hall.cli("fleet", "--json"))}
    assert states[pilot_id]["report"]["versions"]["release"] == "0.2.0"

    broken_wheel(tmp / "bundle-0.3.0", "0.3.0")
    hall.cli("release", "publish", str(tmp / "bundle-0.3.0"), "--version", "0.3.0", "--by", "staff-li")
    hall.cli("release", "stage", "0.3.0", "all", "--by", "staff-li")
    code, third, _ = launch(pilot)
    assert (code, third["release"]) == (75, "0.3.0 installed")
    code, _, err = launch(pilot)  # 0.3.0 dies at start: no heartbeat, no health marker
    assert code != 0 and "broken on purpose" in err
    code, back, err = launch(pilot)  # the launcher goes back to 0.2.0 by itself, and says so
    assert code == 0 and "did not report healthy" in err
    assert back["release"] == "0.3.0 refused: rolled_back_before"
    assert os.readlink(pilot / "releases" / "current") == "0.2.0"
    rows = {row["version"]: row for row in lines(hall.cli("release", "list", "--json"))}
    assert rows["0.2.0"]["kiosks"] == [pilot_id] and rows["0.3.0"]["kiosks"] == []
    states = {row["device_id"]: row["state"] for row in lines(hall.cli("fleet", "--json"))}
    assert "release_rolled_back:0.3.0" in states[pilot_id]["report"]["problems"]  # staff see why
    audit = [row["action"] for row in lines(hall.cli("audit", "--json"))]
    assert {"release.publish", "release.stage"} <= set(audit)


def _issue_in_the_past(hall: HallProcess, device: str, kind: str) -> str:
    """A command issued two hours ago with a one-hour life (the same service the CLI calls)."""
    from hall.core.config import load_settings
    from hall.core.keys import load_or_create_keys
    from hall.db import make_engine, make_sessionmaker
    from hall.services.commands import issue

    settings = load_settings(db=hall.db_url, data_dir=hall.data_dir, environ={})
    engine = make_engine(settings.db_url)
    try:
        with make_sessionmaker(engine)() as db:
            past = time.time() - 7200
            return issue(db, load_or_create_keys(settings.keys_dir).sign_private, device, kind, {},
                         "staff-li", ttl_s=3600, clock=lambda: past).id
    finally:
        engine.dispose()
