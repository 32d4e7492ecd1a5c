"""Shared by the chaos tests and ``benchmarks/sync.py``: enrolled kiosks, applications with
attachments, and the kill -9 campaign.

``kill9_campaign`` enqueues applications with attachments in a kiosk data directory,
then runs the real ``kiosk sync`` (and now and then an enqueueing child) in a
subprocess killed with SIGKILL at a random moment, many times; then restarts
``kiosk sync --once`` until the queue is drained, and checks through
``county-hall applications --json`` that every application is on the hall exactly once
with every attachment verified and of the size the kiosk sealed. Every loop is bounded
in count and in time.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.applications import Application, PlainAttachment, device_short
from offline_queue.identity import DeviceIdentity, enroll
from offline_queue.outbox import OfflineQueue

ROOT = Path(__file__).resolve().parents[2]
KIOSK = Path(sys.executable).parent / "kiosk"
FAST_SYNC = """[sync]
interval_s = 1.0
backoff_base_s = 0.05
backoff_max_s = 0.5
chunk_min_kb = 16
chunk_max_kb = 256

[hall]
timeout_s = 5.0
"""




def make_application(county: str, pages: int, page_bytes: int, n: int = 0,
                     rng: random.Random | None = None, device_id: str = "kiosk-0000") -> Application:
    rng = rng or random.Random()
    app_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    atts = tuple(PlainAttachment(f"M{i + 1}", rng.randbytes(page_bytes), "image/jpeg") for i in range(pages))
    return Application(
        id=app_id, provisional_number=f"K{device_short(device_id)}-20261128-{n:04d}",
        service_code="GD-SAMPLE-001",
        county=county, created_at="2026-11-28T04:00:00Z", visits_needed=0, applicant_tag="chaos",
        document={"id": app_id, "service_code": "GD-SAMPLE-001", "fields": {"note": "chaos"},
                  "attachments": [{"material": a.material} for a in atts]},
        attachments=atts,
    )


def enrolled_kiosk(hall_url: str, code: str, data_dir: Path, device_toml: str = FAST_SYNC) -> DeviceIdentity:
    """Enrol a kiosk data directory with the hall (through ``hall_url``) and write its device.toml."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "device.toml").write_text(device_toml, encoding="utf-8")
    return enroll(hall_url, code, data_dir, name="chaos kiosk")


def open_queue(data_dir: Path, **kwargs) -> OfflineQueue:
    """The queue ``kiosk`` commands use for ``--data-dir data_dir``."""
    return OfflineQueue(data_dir / "outbox", budget_bytes=kwargs.pop("budget_bytes", 2 * 1024**3), **kwargs)


def kiosk_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("KIOSK_DATA_DIR", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_sync_once(data_dir: Path, timeout_s: float = 120) -> int:
    result = subprocess.run([str(KIOSK), "sync", "--once", "--json", "--data-dir", str(data_dir)],
                            capture_output=True, text=True, env=kiosk_env(), timeout=timeout_s, cwd=ROOT)
    if result.returncode not in (0, 3):
        raise AssertionError(f"kiosk sync --once exited {result.returncode}: {result.stderr[-2000:]}")
    return result.returncode


def drain(data_dir: Path, max_runs: int = 40, deadline_s: float = 240) -> int:
    """``kiosk sync --once`` until nothing waits (bounded); the number of runs it took."""
    end = time.monotonic() + deadline_s
    for run in range(1, max_runs + 1):
        run_sync_once(data_dir)
        queue = open_queue(data_dir)
        try:
            if queue.summary().waiting == 0:
                return run
        finally:
            queue.close()
        if time.monotonic() > end:
            break
        time.sleep(0.3)
    raise AssertionError(f"the queue in {data_dir} did not drain in {max_runs} runs")


ENQUEUE_CHILD = """
import random, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.chaos.harness import make_application, open_queue
from offline_queue.identity import DeviceIdentity
data_dir = Path(sys.argv[1]); count = int(sys.argv[2]); seed = int(sys.argv[3])
identity = DeviceIdentity.load(data_dir)
queue = open_queue(data_dir)
rng = random.Random(seed)
print("ready", flush=True)
for i in range(count):
    app = make_application(identity.county, 2, 120_000, seed * 100 + i, rng, identity.device_id)
    queue.enqueue(app, identity.hall_seal_public_key)
    print(app.id, flush=True)
"""


@dataclass
class Tally:
    kills: int = 0
    kills_while_enqueueing: int = 0
    applications: int = 0
    confirmed: int = 0
    lost: int = 0
    duplicated: int = 0
    corrupt: int = 0
    drain_runs: int = 0
    recovered_in_flight: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = dict(vars(self))
        out["problems"] = self.problems[:10]
        return out


def _kill_at_random(cmd: list[str], rng: random.Random, window: tuple[float, float],
                    stdout=subprocess.DEVNULL) -> subprocess.Popen:
    process = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL, env=kiosk_env(), cwd=ROOT)
    time.sleep(rng.uniform(*window))
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    return process


def _kill_while_enqueueing(cmd: list[str], rng: random.Random, window: tuple[float, float]) -> list[str]:
    """Start the enqueueing child, and kill it at a random time after it has started up.

    The clock starts at the child's "ready" line (imports done, outbox open), not at its
    start: on a busy machine Python's start-up alone can outlast the whole window, and the
    kill would never land while enqueueing. Returns the lines it printed (the ids it queued).
    """
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=kiosk_env(),
                               cwd=ROOT, text=True)
    assert process.stdout is not None
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout:
            lines.append(line.strip())
            if line.strip() == "ready":
                ready.set()
        ready.set()  # ended (or died) without saying ready: do not wait for ever

    reader = threading.Thread(target=read, name="enqueue-child-stdout", daemon=True)
    reader.start()
    ready.wait(60)
    time.sleep(rng.uniform(*window))
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    reader.join(10)
    return [line for line in lines if line]


def kill9_campaign(hall, data_dir: Path, identity: DeviceIdentity, *, kills: int, seed: int = 1,
                   initial_apps: int = 6, pages: int = 2, page_bytes: int = 150_000,
                   window: tuple[float, float] = (0.3, 2.2), enqueue_every: int = 5,
                   deadline_s: float = 900) -> Tally:
    """Run the campaign (see the module docstring) and return the tally; raises on a broken queue."""
    rng = random.Random(seed)
    tally = Tally()
    started = time.monotonic()
    confirmed: set[str] = set()
    queue = open_queue(data_dir)
    try:
        for i in range(initial_apps):
            app = make_application(identity.county, pages, page_bytes, i, rng, identity.device_id)
            queue.enqueue(app, identity.hall_seal_public_key)
            confirmed.add(app.id)
    finally:
        queue.close()
    sync_cmd = [str(KIOSK), "sync", "--data-dir", str(data_dir)]
    for round_no in range(1, kills + 1):
        if time.monotonic() - started > deadline_s:
            tally.problems.append(f"deadline reached after {tally.kills} kills")
            break
        if enqueue_every and round_no % enqueue_every == 0:
            script = ENQUEUE_CHILD.format(root=str(ROOT))
            out = _kill_while_enqueueing([sys.executable, "-c", script, str(data_dir), "3", str(round_no)],
                                         rng, (0.2, 1.2))
            confirmed.update(line for line in out if line != "ready")
            tally.kills_while_enqueueing += 1
        else:
            _kill_at_random(sync_cmd, rng, window)
        tally.kills += 1
        queue = open_queue(data_dir)  # opening after each kill: the power-cut recovery runs here
        try:
            tally.recovered_in_flight += queue.recovery.in_flight_reset
            if queue.summary().waiting < 2:  # keep work in flight for the next kill
                for j in range(2):
                    n = 10_000 + round_no * 10 + j
                    app = make_application(identity.county, pages, page_bytes, n, rng, identity.device_id)
                    queue.enqueue(app, identity.hall_seal_public_key)
                    confirmed.add(app.id)
        finally:
            queue.close()
    tally.drain_runs = drain(data_dir)
    tally.seconds = round(time.monotonic() - started, 1)
    check_delivery(hall, data_dir, identity.device_id, confirmed, tally)
    return tally


def check_delivery(hall, data_dir: Path, device_id: str, confirmed: set[str], tally: Tally) -> None:
    """Every queued (and every confirmed) application on the hall once, attachments verified."""
    queue = open_queue(data_dir)
    try:
        local = {e.id: e for e in queue.entries()}
        sizes = {e.id: sorted(a.size for a in queue.attachments(e.id)) for e in local.values()}
        shas = {e.id: sorted(a.sha256 for a in queue.attachments(e.id)) for e in local.values()}
    finally:
        queue.close()
    remote: dict[str, list[dict]] = {}
    for app in hall.applications():
        remote.setdefault(app["id"], []).append(app)
    tally.applications = len(local)
    tally.confirmed = len(confirmed)
    for app_id in confirmed - set(local):
        tally.lost += 1
        tally.problems.append(f"{app_id} confirmed by enqueue but not in the queue")
    for app_id, entry in local.items():
        found = remote.get(app_id, [])
        if not found:
            tally.lost += 1
            tally.problems.append(f"{app_id} ({entry.state}) never reached the hall")
            continue
        if len(found) > 1:
            tally.duplicated += 1
            tally.problems.append(f"{app_id} is on the hall {len(found)} times")
        atts = found[0]["attachments"]
        if (not all(a["verified"] for a in atts) or sorted(a["size"] for a in atts) != sizes[app_id]
                or sorted(a["sha256"] for a in atts) != shas[app_id]):
            tally.corrupt += 1
            tally.problems.append(f"{app_id} attachments differ or are unverified on the hall")
        if entry.state != "submitted":  # the official number comes later, when a clerk accepts it
            tally.problems.append(f"{app_id} is {entry.state} on the kiosk")
    for app_id, found in remote.items():
        if app_id not in local and found[0].get("device_id") == device_id:
            tally.problems.append(f"{app_id} on the hall but not in this kiosk's queue")


def summary_json(tally: Tally) -> str:
    return json.dumps(tally.as_dict(), sort_keys=True)
