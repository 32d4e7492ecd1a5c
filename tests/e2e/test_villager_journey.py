"""One villager from ID card to county receipt, with the hall down for part of the run.

The real Kivy app under Xvfb, driven by touch; a real `county-hall serve` process; the
kiosk enrolled by the real `kiosk enroll` command; the application sealed into the
on-disk outbox while the hall is down, sent by the background sync worker once it is
up, accepted by county staff, and seen as accepted on the kiosk's status screen.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest

from hardware.sample_cards import ELDERLY_VILLAGER
from tests.support.hall_process import HallProcess
from tests.support.kivy_driver import ARTIFACTS, AppProcess

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]


def _kiosk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, timeout=60)


def _wait_for_application(hall: HallProcess, timeout: float = 90) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        apps = hall.applications()
        if apps and all(a["attachments"] and all(x["verified"] for x in a["attachments"]) for a in apps):
            return apps
        time.sleep(0.5)
    raise AssertionError(f"the application did not reach the hall in {timeout} s")


def _wait_for_command(hall: HallProcess, device_id: str, command_id: str, done, timeout: float = 90) -> dict:
    """The hall's row of the command once ``done(row)`` holds (delivered, acknowledged …)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [json.loads(line) for line in hall.cli("commands", "--device", device_id, "--json")
                .stdout.splitlines()]
        row = next(r for r in rows if r["id"] == command_id)
        if done(row) or time.monotonic() > deadline:
            return row
        time.sleep(0.5)


@pytest.mark.timeout(720)  # the journey, then the restart: minutes on a loaded machine
def test_villager_applies_offline_and_sees_accepted(tmp_path):
    data_dir = tmp_path / "kiosk"
    with HallProcess(tmp_path) as hall:
        enrolled = _kiosk(
            "enroll", "--hall", hall.url, "--code", hall.enrollment_code(), "--data-dir", str(data_dir)
        )
        assert enrolled.returncode == 0, enrolled.stderr
        hall.stop()  # the village link is down from here until the receipt is printed

        params = {"data_dir": str(data_dir), "hall_url": hall.url}
        with AppProcess(
            "tests.e2e.journey:build_app", "tests.e2e.journey:journey_then_restart", params=params
        ) as app:
            receipt = app.receive(timeout=300)  # ~25 taps: minutes at load 15-20 on 2 cores
            assert receipt["event"] == "receipt"
            assert receipt["queued"] == {"sealed": 1}, receipt["queued"]
            assert hall.applications() == []  # the hall's database, read while it is down

            hall.start()  # the link comes back: the worker sends on its own
            apps = _wait_for_application(hall)
            assert len(apps) == 1, apps
            (application,) = apps
            assert application["provisional_number"] == receipt["provisional_number"]
            assert application["idempotency_key"] == application["id"]
            # the page and the villager's signature, both uploaded and verified
            assert [a["verified"] for a in application["attachments"]] == [True, True]
            assert application["attachments"][-1]["material"] == "signature"
            hall.set_status(application["id"], "accepted")
            # the official number is given at acceptance (issue 12) and reaches the kiosk by the feed
            (application,) = hall.applications()
            assert application["official_number"]

            app.send(command="check_status")
            result = app.receive(timeout=150)
            assert result.pop("event") == "status"

            # issue 11: the hall's restart command reaches the running app, waits while the villager
            # is at the kiosk, then the app exits 75 for its service manager and the ack is stored
            device_id = json.loads((data_dir / "identity.json").read_text())["device_id"]
            restart_id = json.loads(hall.cli("command", device_id, "restart", "--json").stdout)["id"]
            app.send(command="restart_issued")
            assert app.receive(timeout=60) == {"event": "woke", "visit": True}
            delivered = _wait_for_command(hall, device_id, restart_id, lambda c: c["delivered_at"])
            assert delivered["status"] == "pending" and not delivered["acked_at"]  # waits for the villager
            app.send(command="leave")
            restarted = app.wait(timeout=150)
            assert app.proc.returncode == 75  # RESTART_EXIT_CODE: systemd's RestartForceExitStatus
            acked = _wait_for_command(hall, device_id, restart_id, lambda c: c["acked_at"], timeout=20)
            if not acked["acked_at"]:
                # the ack met the hall busy just before the exit (it is remembered, unacknowledged,
                # in agent.json): the service manager starts the kiosk again, whose first beat
                # sends it; one beat of the agent stands for that start here
                again = _kiosk("agent", "--once", "--data-dir", str(data_dir))
                acked = _wait_for_command(hall, device_id, restart_id, lambda c: c["acked_at"])
                assert acked["acked_at"], again.stderr

        # nothing was sent twice, even across the outage and the worker's retries
        assert len(hall.applications()) == 1
        assert restarted["while_visit"] == {"screen": "status", "restart_requested": False, "visit": True}
        assert restarted["restart_requested"] is True
        assert acked["status"] == "done" and acked["ack"]["result"] == {"restart": "requested"}, acked
        assert result["badge"] == result["accepted_text"]
        assert result["entries"] == [
            [receipt["provisional_number"], application["official_number"], "accepted"]
        ]
    # Privacy: nothing personal in the clear anywhere in the kiosk's data, logs included.
    secrets = [ELDERLY_VILLAGER.id_number, ELDERLY_VILLAGER.name, ELDERLY_VILLAGER.address, "13800138000"]
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".log") for p in files), "the kiosk wrote no log to check"
    for path in files:
        blob = path.read_bytes()
        for secret in secrets:
            for encoding in ("utf-8", "utf-16-le", "gb18030"):
                assert secret.encode(encoding) not in blob, f"{path.name} holds personal data"
    for name in ("e2e-01-home", "e2e-03-catalog", "e2e-08-receipt", "e2e-09-status"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000, name
