"""The fleet's heartbeats against one hall (issue 11, "Speed"): how many signed heartbeats a second?

Simulated kiosks, enrolled for real, send signed ``POST /api/v1/heartbeat`` requests
(signed with the kiosk's own ``offline_queue.signing.sign_headers``, a report shaped like
``kiosk/agent``'s), and one request in BENCH_SUBMIT_ONE_IN is a kiosk submitting (a
signed upload: create + one chunk, as in tests/hall/load_mix.py). Each client process
(BENCH_CLIENTS, on uvloop when installed) holds BENCH_CONNECTIONS / BENCH_CLIENTS keep-alive
connections. Two runs per hall, BENCH_SECONDS each:

* ``max``: every connection sends back to back (the sustained rate it can carry);
* ``paced``: BENCH_RATE heartbeats a second in all (default 500: 30,000 kiosks at one a
  minute), each connection on a fixed schedule (latency from the actual send).

Halls: ``county-hall serve --workers N`` (N in BENCH_WORKERS, default 1,2) on SQLite and on
a throwaway PostgreSQL cluster (benchmarks/abuse.py's ``hall_on``), and beside them a bare
FastAPI endpoint (``bare_app``: reads the body, answers a constant) served by uvicorn the
same way (uvloop, httptools, N workers): the ceiling. Per run: heartbeats/s (answered
200), p50/p99 (ms), statuses, the CPU seconds per second taken by the hall's processes
and by the load clients (all on the same cores), and the hall's CPU milliseconds per
heartbeat answered, any status (the figure a busy machine disturbs least; PostgreSQL's
own processes are not the hall's and not counted). Goal (PostgreSQL): 500 signed
heartbeats/s with p99 <= 200 ms, and >= 60 % of the bare endpoint's rate.

Environment: BENCH_DB (sqlite,postgres), BENCH_WORKERS (1,2), BENCH_KIOSKS (200),
BENCH_CONNECTIONS (32), BENCH_CLIENTS (2), BENCH_SECONDS (10), BENCH_RATE (500),
BENCH_SUBMIT_ONE_IN (20). Prints one JSON line last.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from abuse import _kiosks, _ms, _raw, _tree_cpu_s, env_int, hall_on  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402

from hall.process import free_port  # noqa: E402
from offline_queue.signing import sign_headers  # noqa: E402
from tests.hall.load_mix import Connection, Kiosk, Outcome, enrol_all, one  # noqa: E402
from tests.support.hall_process import HallProcess  # noqa: E402

HEARTBEAT_PATH = "/api/v1/heartbeat"


def bare_app() -> FastAPI:
    """The ceiling: a FastAPI endpoint that reads the body and answers a constant."""
    app = FastAPI()

    @app.post(HEARTBEAT_PATH)
    async def beat(request: Request) -> dict:
        await request.body()
        return {"heartbeat_interval_s": 60, "server_time": "", "commands": []}

    return app


def report(uptime_s: int) -> bytes:
    """A heartbeat as kiosk/agent/agent.py's ``report()`` makes it."""
    devices = [{"device": name, "driver": "simulator", "state": "ok", "reason": "", "detail": ""} for name in
               ("id_reader", "camera", "printer", "scanner")]
    return json.dumps({
        "health": {"checked_at": "2026-12-01T22:00:00Z", "state": "ok", "devices": devices},
        "queue": {"depth": 2, "oldest_unsent_s": 30}, "free_disk_bytes": 20_000_000_000,
        "versions": {"kiosk": "0.1.0", "python": platform.python_version(), "release": ""},
        "config_version": 0, "uptime_s": uptime_s, "locked": False, "problems": [],
    }).encode()


async def heartbeat(connection: Connection, kiosk: Kiosk | None) -> Outcome:
    body = report(int(time.monotonic()))
    headers = {"Content-Type": "application/json"}
    if kiosk is not None:
        headers.update(sign_headers(kiosk.key, kiosk.device_id, "POST", HEARTBEAT_PATH, [], body,
                                    time.time()))
    started = time.monotonic()
    try:
        answer = await connection.request("POST", HEARTBEAT_PATH, headers, body)
    except (OSError, EOFError, asyncio.IncompleteReadError, TimeoutError, ValueError):
        return Outcome("heartbeat", None, time.monotonic() - started, False)
    return Outcome("heartbeat", answer.status, time.monotonic() - started, "retry-after" in answer.headers)


async def _run(base: str, kiosks: list[Kiosk], connections: int, seconds: float, rate: float,
               submit_one_in: int) -> list[Outcome]:
    outcomes: list[Outcome] = []
    until = time.monotonic() + seconds
    step = connections / rate if rate else 0.0

    async def worker(index: int) -> None:
        connection = Connection(base, timeout_s=10.0)
        next_send = time.monotonic() + (step * index / connections if step else 0.0)
        count = 0
        try:
            while time.monotonic() < until:
                if step:
                    await asyncio.sleep(max(0.0, next_send - time.monotonic()))
                    next_send += step
                count += 1
                # Each connection beats for kiosks of its own: a kiosk never sends two at once.
                mine = kiosks[index::connections]
                kiosk = mine[count % len(mine)] if mine else None
                if kiosk is not None and submit_one_in and count % submit_one_in == 0:
                    outcomes.extend(await one(connection, "upload", kiosk))
                else:
                    outcomes.append(await heartbeat(connection, kiosk))
        finally:
            connection.close()

    await asyncio.gather(*(worker(i) for i in range(connections)))
    return outcomes


def _client(base: str, raw: list[tuple[str, bytes]], connections: int, seconds: float, rate: float,
            submit_one_in: int, queue, go) -> None:
    """One load process; ``raw`` is its own share of the kiosks."""
    try:
        import uvloop  # the cheapest client we can have: it shares the hall's cores
        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    queue.put("ready")  # started and imported: the parent starts every client at once
    go.wait()
    before = resource.getrusage(resource.RUSAGE_SELF)
    outcomes = runner(_run(base, _kiosks(raw), connections, seconds, rate, submit_one_in))
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    queue.put(([(o.kind, o.status, o.seconds, o.retry_after) for o in outcomes], cpu))


def measure(base: str, server_pid: int, raw: list[tuple[str, bytes]], rate: float) -> dict:
    clients = env_int("BENCH_CLIENTS", 2)
    connections = env_int("BENCH_CONNECTIONS", 32)
    seconds = float(os.environ.get("BENCH_SECONDS", 10))
    submit = env_int("BENCH_SUBMIT_ONE_IN", 20) if raw else 0
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    go = context.Event()
    processes = [context.Process(target=_client, args=(
        base, raw[number::clients], connections // clients, seconds, rate / clients, submit, queue, go))
        for number in range(clients)]
    for process in processes:
        process.start()
    for _ in processes:
        queue.get(timeout=300)  # "ready"
    server_before = _tree_cpu_s(server_pid)
    started = time.monotonic()
    go.set()
    results = [queue.get(timeout=300)]  # the window is over when the first client is done
    elapsed = time.monotonic() - started
    server_cpu = _tree_cpu_s(server_pid) - server_before
    results += [queue.get(timeout=300) for _ in processes[1:]]
    for process in processes:
        process.join(30)
    outcomes = [Outcome(*row) for rows, _ in results for row in rows]
    beats = [o for o in outcomes if o.kind == "heartbeat"]
    ok = [o.seconds for o in beats if o.status == 200]
    return {
        "heartbeats_per_s": round(len(ok) / seconds, 1),
        "p50_ms": _ms(ok, 0.5), "p99_ms": _ms(ok, 0.99),
        "statuses": dict(Counter(str(o.status) for o in beats)),
        "submits": dict(Counter(f"{o.kind}:{o.status}" for o in outcomes if o.kind != "heartbeat")),
        "server_cpu_s_per_s": round(server_cpu / elapsed, 2),
        # What a heartbeat costs the hall whatever else runs on the machine: a busy machine
        # lowers the rates, much less the CPU each answer takes (the 503s' share included).
        "server_cpu_ms_per_answer": round(1000 * server_cpu / max(1, len(beats)), 2),
        "clients_cpu_s_per_s": round(sum(cpu for _, cpu in results) / seconds, 2),
    }


def enrolled(hall: HallProcess, count: int) -> list[tuple[str, bytes]]:
    """``count`` kiosks enrolled over the API, with codes made straight in the database
    (one ``county-hall enrollment-code`` per kiosk takes seconds each on a busy machine)."""
    from hall.core.config import load_settings
    from hall.db import make_engine, make_sessionmaker
    from hall.services.enrolment import create_code

    engine = make_engine(hall.db_url)
    with make_sessionmaker(engine)() as db:
        settings = load_settings(db=hall.db_url, data_dir=str(hall.data_dir))
        codes = [create_code(db, settings).code for _ in range(count)]
        db.commit()
    engine.dispose()
    return [_raw(kiosk) for kiosk in enrol_all(hall.url, codes)]


def bare_server(workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT / "benchmarks"), "--factory",
         "fleet:bare_app",
         "--port", str(port), "--workers", str(workers), "--loop", "uvloop", "--http", "httptools",
         "--no-access-log", "--log-level", "warning"],
        stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            asyncio.run(Connection(base, 1.0).request("POST", HEARTBEAT_PATH, {}, b"{}"))
            return process, base
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the bare endpoint did not start")


def both_runs(base: str, pid: int, raw: list[tuple[str, bytes]]) -> dict:
    return {"max": measure(base, pid, raw, 0.0),
            "paced": measure(base, pid, raw, float(os.environ.get("BENCH_RATE", 500)))}


def main() -> int:
    result: dict = {"benchmark": "fleet", "cores": os.cpu_count(), "load_average": os.getloadavg()[0]}
    started = time.monotonic()
    workers_list = [int(w) for w in os.environ.get("BENCH_WORKERS", "1,2").split(",")]
    for workers in workers_list:
        process, base = bare_server(workers)
        try:
            result[f"bare_w{workers}"] = both_runs(base, process.pid, [])
        finally:
            process.terminate()
            process.wait(30)
        print(f"bare_w{workers}: {json.dumps(result[f'bare_w{workers}'])}", file=sys.stderr)
    for db in os.environ.get("BENCH_DB", "sqlite,postgres").split(","):
        for workers in workers_list:
            name = f"{db}_w{workers}"
            with tempfile.TemporaryDirectory(prefix="fleet-") as tmp, hall_on(db, workers, Path(tmp)) as hall:
                if isinstance(hall, str):
                    result[name] = {"skipped": hall}
                    continue
                raw = enrolled(hall, env_int("BENCH_KIOSKS", 200))
                assert hall.pid is not None
                result[name] = both_runs(hall.url, hall.pid, raw)
                bare = result.get(f"bare_w{workers}", {}).get("max", {}).get("heartbeats_per_s")
                if bare:
                    ratio = result[name]["max"]["heartbeats_per_s"] / bare
                    result[name]["max_ratio_to_bare"] = round(ratio, 2)
            print(f"{name}: {json.dumps(result[name])}", file=sys.stderr)
    postgres = [result.get(f"postgres_w{w}", {}) for w in workers_list]
    result["goal_met"] = any(
        run.get("paced", {}).get("heartbeats_per_s", 0) >= 0.98 * float(os.environ.get("BENCH_RATE", 500))
        and (run.get("paced", {}).get("p99_ms") or 1e9) <= 200 and run.get("max_ratio_to_bare", 0) >= 0.6
        for run in postgres)
    result["load_average_after"] = os.getloadavg()[0]
    result["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
