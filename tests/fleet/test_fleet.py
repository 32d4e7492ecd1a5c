"""Three real kiosk processes (`kiosk enroll`, `kiosk agent --once`) against a real
`county-hall serve`: heartbeats arrive, a configuration reaches two of them, a lock is
acknowledged, an expired command is never carried out, and a wipe of a "stolen" kiosk
leaves no sealed box on its disk. (Forged, replayed, expired-on-arrival and other-device
commands are refused by the agent: tests/kiosk/test_agent.py.)
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.kiosk.test_cli import kiosk, paper_file
from tests.support.hall_process import HallProcess


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
