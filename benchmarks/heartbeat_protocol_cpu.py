"""The hall's CPU per plain heartbeat answered in the connection's protocol, without the network
(issue 11, "Speed").

``heartbeat_cpu.py`` calls the application as ASGI, so it measures the beat's ASGI shape;
``county-hall serve`` answers a plain beat inside httptools' ``data_received``
(hall/api/connection_guard.py) and the rest of its cost is uvicorn's protocol and the kernel's
socket calls. This feeds whole signed requests (head and body in one read, as a kiosk sends
them) to ``GuardedHttpToolsProtocol`` instances over fake transports that keep what is written,
on uvloop in one process, with the app as served (``serve_app``: the front door, the fast path,
the heartbeat writer and its flushes). The requests are signed before the clock starts, so the
figure is the hall's alone: CPU milliseconds per beat of the whole process (every thread; the
writer's thread apart, from ``/proc/self/task/<tid>/schedstat``), and with ``HBP_DB=postgres``
PostgreSQL's own. The kernel's socket calls are not in it (a fake transport), the work of every
layer above them is.

``HBP_RATE`` beats a second (default 700, about one worker's share of ``fleet.py``'s `max` on
this machine: the flushes' batches as there; 0: back to back, the loop never idle, the steadiest
figure), ``HBP_KIOSKS`` (200) kiosks over ``HBP_CONNECTIONS`` (32) connections, ``HBP_ROUNDS`` (5)
rounds of ``HBP_N`` (2100) beats; the median round and the least disturbed (``…_min``).
``heartbeat_protocol_ab.py`` runs it for two checkouts in alternate rounds.
``HBP_DB``: "sqlite" (a temporary file, default), "postgres" (a throwaway cluster) or a URL.
Every answer is checked (200 and signed; else the run fails). ``HBP_TREE``: the checkout whose
hall is imported (default this one; e.g. a ``git archive`` of main, for A/B runs interleaved).
Prints one JSON line last.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TREE = Path(os.environ.get("HBP_TREE") or ROOT).resolve()
sys.path.insert(0, str(TREE))
sys.path.insert(0, str(ROOT / "benchmarks"))

# The hall (and the tests' helpers) from TREE first: fleet.py and heartbeat_cpu.py put their own
# checkout first on the path when imported, and a module imported stays the one imported.
from hall.api.connection_guard import GuardedHttpToolsProtocol, _layers  # type: ignore[attr-defined]  # noqa: E402, I001
import hall.app  # noqa: E402
from hall.app import SWITCH_INTERVAL_S, serve_app  # noqa: E402
from hall.core.config import load_settings  # noqa: E402
from hall.db import migrate  # noqa: E402
from offline_queue.signing import sign_headers  # noqa: E402

import uvicorn  # noqa: E402
from abuse import _tree_cpu_s  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from fleet import HEARTBEAT_PATH, report  # noqa: E402
from inprocess import enrol_kiosks  # noqa: E402
from uvicorn.server import ServerState  # noqa: E402


class FakeTransport:
    """What the protocol writes for the request being answered, kept."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def writelines(self, parts) -> None:  # noqa: ANN001
        self.write(b"".join(parts))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default=None):  # noqa: ANN001, ANN201
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def request_bytes(device_id: str, key: Ed25519PrivateKey, number: int) -> bytes:
    body = report(number)
    headers = sign_headers(key, device_id, "POST", HEARTBEAT_PATH, [], body, time.time())
    lines = [f"POST {HEARTBEAT_PATH} HTTP/1.1", "Host: hall", "Content-Type: application/json",
             f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def main(db_url: str | None, db_pid: int | None) -> dict:
    sys.setswitchinterval(SWITCH_INTERVAL_S)  # as a served worker (hall.app.app_from_environment)
    folder = tempfile.mkdtemp(prefix="heartbeat-protocol-cpu-")
    settings = load_settings(db=db_url, data_dir=folder, environ={})
    settings.ensure_dirs()
    migrate(settings.db_url)
    app = serve_app(settings)
    _, beats = _layers(app)
    assert beats is not None
    writer = beats.writer
    kiosks = await enrol_kiosks(beats.app, beats.app.state.sessionmaker, settings,
                                int(os.environ.get("HBP_KIOSKS", 200)))
    # As a served worker, once its app is built (hall.app.app_from_environment), when the tree does.
    getattr(hall.app, "freeze_heap", lambda: None)()
    config = uvicorn.Config(app, http=GuardedHttpToolsProtocol, lifespan="off", access_log=False,
                            log_level="warning")
    config.load()
    state = ServerState()
    loop = asyncio.get_running_loop()

    def connect() -> tuple[GuardedHttpToolsProtocol, FakeTransport]:
        protocol = GuardedHttpToolsProtocol(config, state, {}, loop)
        transport = FakeTransport()
        protocol.connection_made(transport)
        return protocol, transport

    connections = [connect() for _ in range(int(os.environ.get("HBP_CONNECTIONS", 32)))]
    rate = float(os.environ.get("HBP_RATE", 700))
    count = int(os.environ.get("HBP_N", 2100))
    statuses: dict[str, int] = {}

    async def feed(requests: list[bytes]) -> None:
        """Each request to the next connection, ``rate`` a second; the ASGI tasks (beats that
        took the usual way) awaited before the next."""
        started = time.perf_counter()
        for number, data in enumerate(requests):
            protocol, transport = connections[number % len(connections)]
            if transport.is_closing():  # closed by the keep-alive timer while idle (a pause between
                # turns longer than uvicorn's 5 s): a kiosk connects again; else its beat waits forever
                protocol, transport = connections[number % len(connections)] = connect()
            transport.written.clear()
            protocol.data_received(data)
            # the usual way: its task, the writer's batch (no cycle: answered from its bytes at once)
            while protocol.cycle is not None and not protocol.cycle.response_complete:
                await asyncio.sleep(0.0005)
            answer = b"".join(transport.written)
            status = answer[9:12].decode()
            statuses[status] = statuses.get(status, 0) + 1
            if status != "200" or b"x-hall-signature" not in answer:
                raise AssertionError(answer)
            if number % 10 == 9:  # the loop's other work (timers, the writer's wake-ups) every 10 beats
                late = started + (number + 1) / rate - time.perf_counter() if rate else 0.0
                await asyncio.sleep(max(0.0, late))

    def signed(how_many: int, offset: int) -> list[bytes]:
        return [request_bytes(*kiosks[(offset + n) % len(kiosks)], offset + n) for n in range(how_many)]

    await feed(signed(2 * len(kiosks), 0))  # warm: every kiosk in the fleet cache, the flushes going
    rounds = []
    turns = bool(os.environ.get("HBP_TURNS"))  # a driver's turns (benchmarks/heartbeat_protocol_ab.py)
    for number in range(int(os.environ.get("HBP_ROUNDS", 5))):
        requests = signed(count, (number + 2) * count)
        if turns:
            print("ready", flush=True)
            sys.stdin.readline()  # this round's turn
        early, flushes = writer.answered_early, writer.flushes
        loop_cpu = time.thread_time()
        db_cpu, writer_cpu = _tree_cpu_s(db_pid) if db_pid else 0.0, _thread_cpu_s(writer)
        cpu = time.process_time()
        await feed(requests)
        rounds.append({
            "cpu_ms_per_beat": (time.process_time() - cpu) / count * 1000,
            "loop_cpu_ms_per_beat": (time.thread_time() - loop_cpu) / count * 1000,
            "writer_cpu_ms_per_beat": (_thread_cpu_s(writer) - writer_cpu) / count * 1000,
            "db_cpu_ms_per_beat": ((_tree_cpu_s(db_pid) - db_cpu) if db_pid else 0.0) / count * 1000,
            "answered_early": writer.answered_early - early, "flushes": writer.flushes - flushes})
        if turns:
            print(json.dumps(rounds[-1]), flush=True)
    writer.stop()
    beats.app.state.engine.dispose()
    result: dict = {"benchmark": "heartbeat_protocol_cpu", "tree": str(TREE),
                    "db": settings.db_url.split(":", 1)[0], "rate": rate, "beats_per_round": count,
                    "statuses": statuses}
    for name in ("cpu_ms_per_beat", "loop_cpu_ms_per_beat", "writer_cpu_ms_per_beat", "db_cpu_ms_per_beat"):
        result[name] = round(statistics.median(r[name] for r in rounds), 4)
    # The least disturbed round: other work on the cores only adds to a round's CPU (cache misses,
    # preemptions), so on a shared machine the minimum is the steadier figure to compare.
    result["cpu_ms_per_beat_min"] = round(min(r["cpu_ms_per_beat"] for r in rounds), 4)
    result["loop_cpu_ms_per_beat_min"] = round(min(r["loop_cpu_ms_per_beat"] for r in rounds), 4)
    result["cpu_ms_per_beat_rounds"] = [round(r["cpu_ms_per_beat"], 4) for r in rounds]
    result["answered_early"] = [r["answered_early"] for r in rounds]
    result["flushes"] = [r["flushes"] for r in rounds]
    result["load_average"] = os.getloadavg()[0]
    return result


def _thread_cpu_s(writer) -> float:  # noqa: ANN001
    thread = getattr(writer.loop, "_thread", None)
    if thread is None or thread.native_id is None:
        return 0.0
    try:
        return int(Path(f"/proc/self/task/{thread.native_id}/schedstat").read_text().split()[0]) / 1e9
    except OSError:
        return 0.0


def run() -> dict:
    import uvloop

    db = os.environ.get("HBP_DB") or "sqlite"
    if db == "sqlite":
        return uvloop.run(main(None, None))
    if db != "postgres":
        return uvloop.run(main(db, None))
    from tests.support.postgres import PostgresCluster, find_bindir

    bindir = find_bindir()
    if bindir is None:
        return {"benchmark": "heartbeat_protocol_cpu",
                "skipped": "PostgreSQL server binaries are not installed"}
    cluster = PostgresCluster(bindir)
    cluster.start()
    try:
        url = cluster.create_database("hall_heartbeat_protocol_cpu")
        postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
        return uvloop.run(main(url, postmaster))
    finally:
        cluster.stop()


if __name__ == "__main__":
    print(json.dumps(run()))
