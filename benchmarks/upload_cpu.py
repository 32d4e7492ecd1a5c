"""The hall's CPU per signed upload (create + one chunk), in one process, without the network
(issue 11, "Speed": the upload of the fleet mix, as tests/hall/load_mix.py sends it).

``benchmarks/fleet.py`` measures the mix over HTTP, where an upload (a signed ``POST
/api/v1/uploads`` with sha256 and size, then one signed ``PATCH`` of 4 KB that completes it)
cost ≈ 20 ms of hall CPU beside 0.5 ms a heartbeat; this measures what an upload costs, in
the form the tree's hall takes: since 3 December evening ONE request, the create that carries
the whole 4 KB box (docs/protocol.md 6.1, ``form: "one"``); a tree whose hall refuses that
(found at the warm-up: not 201) gets the two requests (``form: "two"``), as the kiosk falls
back: the app as ``county-hall serve`` serves it (``serve_app``) called as ASGI, every layer,
the signature checks, nonces, the database work, the chunk's write and fsync, the hash check
and the store, the signed answers. CPU time of the whole process (every thread) per upload and
per request kind; ``UP_ROUNDS`` rounds of ``UP_N`` uploads, ``UP_CONCURRENCY`` at a time; the
median round. ``UP_DB``: sqlite (default, a temporary file) or postgres (a throwaway cluster,
whose own CPU is reported apart and not counted).

``UP_TREES=a,b`` (other checkouts, e.g. ``git archive main``): each round runs this script on
each tree in its own process, in turns (the order turned every round), on one database, and
reports the CPU per upload of each and the ratios to the first (the median of the rounds'
ratios): two versions that a busy machine disturbs alike. ``UP_PROFILE=1``: a cProfile of the
event loop's thread after (the thread pool's side needs py-spy). Prints one JSON line last.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from inprocess import call, enrol_kiosks  # benchmarks/ is the script's folder: on sys.path

ROOT = Path(__file__).resolve().parents[1]
UPLOADS_PATH = "/api/v1/uploads"


async def worker_main(db_url: str | None, data_dir: str, rounds: int, count: int, concurrency: int,
                      profile: bool) -> dict:
    """This tree's hall (from ``sys.path``): ``rounds`` rounds of ``count`` uploads."""
    from hall.app import serve_app
    from hall.core.config import load_settings
    from offline_queue.signing import sign_headers

    settings = load_settings(db=db_url, data_dir=data_dir, environ={})
    app = serve_app(settings)
    inner = app
    while not hasattr(inner, "state"):  # the FastAPI app behind the front door and the fast paths
        inner = inner.app
    kiosks = await enrol_kiosks(app, inner.state.sessionmaker, settings, concurrency)
    statuses: dict[str, int] = {}

    def signed(kiosk, method: str, path: str, body: bytes, extra: dict[str, str]) -> dict[str, str]:
        return {**sign_headers(kiosk[1], kiosk[0], method, path, [], body, time.time()), **extra}

    def count_status(kind: str, status: int) -> None:
        statuses[f"{kind}:{status}"] = statuses.get(f"{kind}:{status}", 0) + 1

    async def whole_uploads(number: int) -> tuple[float, float, float]:
        """``number`` uploads of one request each (the create with the whole box), ``concurrency``
        at a time, signed before the phase; (CPU, 0, wall)."""
        lanes = []
        for kiosk in kiosks:
            mine = []
            for _ in range(number // concurrency):
                blob = os.urandom(4096)
                mine.append((blob, signed(kiosk, "POST", UPLOADS_PATH, blob, {
                    "content-type": "application/offset+octet-stream", "upload-length": str(len(blob)),
                    "upload-sha256": hashlib.sha256(blob).hexdigest()})))
            lanes.append(mine)

        async def lane(index: int) -> None:
            for blob, headers in lanes[index]:
                status, _ = await call(app, "POST", UPLOADS_PATH, headers, blob)
                count_status("whole", status)

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(lane(i) for i in range(len(lanes))))
        return time.process_time() - cpu, 0.0, time.perf_counter() - wall

    async def uploads(number: int) -> tuple[float, float, float]:
        """``number`` uploads, ``concurrency`` at a time (a kiosk one at a time): the creates
        first, then the chunks, so that each kind's CPU is the process's over its phase.
        The requests are signed before each phase (the kiosk's CPU, not the hall's)."""
        if form == "one":
            return await whole_uploads(number)
        lanes = []
        for kiosk in kiosks:
            mine = []
            for _ in range(number // concurrency):
                blob = os.urandom(4096)
                body = json.dumps({"sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob)}).encode()
                mine.append((blob, body, signed(kiosk, "POST", UPLOADS_PATH, body,
                                                {"content-type": "application/json"})))
            lanes.append((kiosk, mine))
        created: list[list[tuple[object, bytes, str]]] = [[] for _ in lanes]

        async def create_lane(index: int) -> None:
            kiosk, mine = lanes[index]
            for blob, body, headers in mine:
                status, answer = await call(app, "POST", UPLOADS_PATH, headers, body)
                count_status("create", status)
                if status == 201:
                    created[index].append((kiosk, blob, f"{UPLOADS_PATH}/{json.loads(answer)['upload_id']}"))

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(create_lane(i) for i in range(len(lanes))))
        create_cpu, create_wall = time.process_time() - cpu, time.perf_counter() - wall
        chunks = [[(path, blob, signed(kiosk, "PATCH", path, blob, {
            "upload-offset": "0", "content-type": "application/offset+octet-stream"}))
            for kiosk, blob, path in lane] for lane in created]

        async def chunk_lane(index: int) -> None:
            for path, blob, headers in chunks[index]:
                status, _ = await call(app, "PATCH", path, headers, blob)
                count_status("chunk", status)

        cpu, chunk_wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(chunk_lane(i) for i in range(len(lanes))))
        chunk_cpu = time.process_time() - cpu
        return create_cpu, chunk_cpu, create_wall + time.perf_counter() - chunk_wall

    form = "one"
    await whole_uploads(concurrency)  # does this tree's hall take the one-request form?
    if statuses.get("whole:201", 0) != concurrency:
        form = "two"
    statuses.clear()
    await uploads(2 * concurrency)  # warm: statement caches, the thread pool, the key cache
    results = []
    for _ in range(rounds):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_stime
        create_cpu, chunk_cpu, wall = await uploads(count)
        system = resource.getrusage(resource.RUSAGE_SELF).ru_stime - before
        results.append({"cpu_ms_per_upload": (create_cpu + chunk_cpu) / count * 1000,
                        "cpu_ms_create": create_cpu / count * 1000,
                        "cpu_ms_chunk": chunk_cpu / count * 1000,
                        # of which in the kernel (writes, fsyncs, renames, sockets), the rest in Python
                        "system_ms_per_upload": system / count * 1000,
                        "wall_ms_per_upload": wall / count * 1000})
    if profile:
        import cProfile
        import pstats
        stats = cProfile.Profile()
        stats.enable()
        await uploads(count)
        stats.disable()
        pstats.Stats(stats, stream=sys.stderr).sort_stats(os.environ.get("UP_PROFILE_SORT", "cumulative")) \
            .print_stats(50)
    writer = getattr(app, "writer", None) or getattr(getattr(app, "app", None), "writer", None)
    if writer is not None:
        writer.stop()
    inner.state.engine.dispose()
    return {"rounds": results, "statuses": statuses, "form": form}


def _tree_cpu_s(pid: int) -> float:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from abuse import _tree_cpu_s as tree_cpu

    return tree_cpu(pid)


def _db_cpu_s(pid: int) -> float:
    """PostgreSQL's CPU seconds so far: its live processes' and, from the postmaster's own
    ``/proc`` line, its reaped backends' (a round's backends exit with its process, before the
    reading after it: without these the figure held the postmaster alone)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return _tree_cpu_s(pid) + (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def _run_tree(tree: str, db_url: str | None, data_dir: str, count: int, concurrency: int) -> dict:
    """One round of this script's worker on ``tree``, in a process of its own."""
    env = {**os.environ, "PYTHONPATH": tree, "UP_WORKER": "1", "UP_WORKER_DB": db_url or "",
           "UP_WORKER_DIR": data_dir, "UP_N": str(count), "UP_CONCURRENCY": str(concurrency),
           "UP_ROUNDS": "1", "UP_PROFILE": ""}
    done = subprocess.run([sys.executable, str(Path(__file__).resolve())], env=env, capture_output=True,
                          text=True, check=False, cwd=tree)
    if done.returncode != 0:
        raise RuntimeError(f"{tree}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(trees: list[str], db_url: str | None, db_pid: int | None) -> dict:
    rounds = int(os.environ.get("UP_ROUNDS", 5))
    count = int(os.environ.get("UP_N", 240))
    concurrency = int(os.environ.get("UP_CONCURRENCY", 8))
    runs: dict[str, list[dict]] = {tree: [] for tree in trees}
    folders = {tree: tempfile.mkdtemp(prefix="upload-cpu-") for tree in trees}
    for number in range(rounds):
        for tree in (trees if number % 2 == 0 else trees[::-1]):
            db_cpu = _db_cpu_s(db_pid) if db_pid else 0.0
            one = _run_tree(tree, db_url, folders[tree], count, concurrency)
            entry = one["rounds"][0]
            entry["statuses"] = one["statuses"]
            entry["form"] = one["form"]
            if db_pid:
                entry["db_cpu_ms_per_upload"] = (_db_cpu_s(db_pid) - db_cpu) / count * 1000
            runs[tree].append(entry)
    result: dict = {"benchmark": "upload_cpu", "db": "postgres" if db_pid else "sqlite",
                    "uploads_per_round": count, "concurrency": concurrency, "rounds": rounds}
    first = trees[0]
    for tree in trees:
        mine = runs[tree]
        entry = {field: round(statistics.median(r[field] for r in mine), 2)
                 for field in mine[0] if field not in ("statuses", "form")}
        entry["cpu_ms_per_upload_rounds"] = [round(r["cpu_ms_per_upload"], 2) for r in mine]
        entry["statuses"] = mine[-1]["statuses"]
        entry["form"] = mine[-1]["form"]
        if tree != first:
            ratios = [r["cpu_ms_per_upload"] / f["cpu_ms_per_upload"]
                      for r, f in zip(mine, runs[first], strict=True)]
            entry["cpu_over_first"] = round(statistics.median(ratios), 3)
            entry["cpu_over_first_rounds"] = [round(x, 3) for x in ratios]
        result[tree] = entry
    return result


def run() -> dict:
    trees = [tree for tree in os.environ.get("UP_TREES", str(ROOT)).split(",") if tree]
    db = os.environ.get("UP_DB") or "sqlite"
    load_before = os.getloadavg()[0]
    if db == "sqlite":
        result = compare(trees, None, None)
    else:
        sys.path.insert(0, str(ROOT))
        from tests.support.postgres import PostgresCluster, find_bindir

        bindir = find_bindir()
        if bindir is None:
            return {"benchmark": "upload_cpu", "skipped": "PostgreSQL server binaries are not installed"}
        cluster = PostgresCluster(bindir)
        cluster.start()
        try:
            url = cluster.create_database("hall_upload_cpu")
            postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
            result = compare(trees, url, postmaster)
        finally:
            cluster.stop()
    result["load_average"] = [load_before, os.getloadavg()[0]]
    return result


def worker() -> dict:
    """A round on the tree in PYTHONPATH (called by ``compare``); migrates its database first."""
    from hall.db import migrate

    if os.environ.get("UP_SWITCH_INTERVAL_S"):  # as app_from_environment sets it for a served worker
        sys.setswitchinterval(float(os.environ["UP_SWITCH_INTERVAL_S"]))
    db_url = os.environ.get("UP_WORKER_DB") or None
    data_dir = os.environ["UP_WORKER_DIR"]
    if db_url is None:
        db_url = f"sqlite:///{data_dir}/hall.db"
    migrate(db_url)
    return asyncio.run(worker_main(db_url, data_dir, int(os.environ.get("UP_ROUNDS", 1)),
                                   int(os.environ["UP_N"]), int(os.environ["UP_CONCURRENCY"]),
                                   bool(os.environ.get("UP_PROFILE"))))


if __name__ == "__main__":
    print(json.dumps(worker() if os.environ.get("UP_WORKER") else run()))
