"""The hall's CPU per signed heartbeat, in one process, without the network (issue 11, "Speed").

``benchmarks/fleet.py`` measures rates over HTTP, which a busy machine (or other work on
the same cores) disturbs a lot; this measures what one heartbeat costs the hall: the app
(every layer a heartbeat meets, the signature check, the nonce, the database work, the
signed answer) called as ASGI, on SQLite in a temporary folder (or ``HB_DB``). CPU time of the whole process
(every thread) per heartbeat; ``HB_ROUNDS`` rounds of ``HB_N`` beats, ``HB_CONCURRENCY`` at a
time, the median round. Two shapes measured in turns on the same database (``HB_SHAPES``):
``route``, the FastAPI route as ``create_app`` serves it (the shape before the fast path),
and ``fast``, the app as ``county-hall serve`` serves it (``serve_app``: the heartbeat's
fast path and its writer); ``route_over_fast`` is their ratio. Also ``fast_unguarded`` (the
writer writing every batch the usual way, three round trips) and ``fast_main`` (no
write-behind, a history row per beat: the served app before plain beats were answered at
once): the served app's earlier shapes, for ratios (``cpu_over_<first shape>``: the median of
the rounds' ratios; the order turns every round).
``HB_DB=postgres`` starts a
throwaway PostgreSQL cluster (its own processes' CPU is not counted).
``HB_PROFILE=1`` prints a cProfile of the event loop's side after (the thread pool's side
needs py-spy). Prints one JSON line last.
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
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from abuse import _tree_cpu_s  # noqa: E402
from fleet import HEARTBEAT_PATH, report  # noqa: E402
from inprocess import call, enrol_kiosks  # noqa: E402

from hall.app import create_app, serve_app  # noqa: E402
from hall.core.config import load_settings  # noqa: E402
from hall.db import migrate  # noqa: E402
from offline_queue.signing import sign_headers  # noqa: E402


async def main(db_url: str | None, db_pid: int | None = None) -> dict:
    folder = tempfile.mkdtemp(prefix="heartbeat-cpu-")
    settings = load_settings(db=db_url, data_dir=folder, environ={})
    migrate(settings.db_url)
    # Two shapes on one database, measured in turns: the FastAPI route (create_app) and the app
    # as served (serve_app: the front door and the heartbeat's fast path with its writer).
    apps = {"route": create_app(settings), "fast": serve_app(settings)}
    # The served app with its writer held to the earlier shape, to compare in the same rounds:
    # every batch the usual way (three round trips; main's statements before the guarded one).
    apps["fast_unguarded"] = serve_app(settings)
    apps["fast_unguarded"].writer.guard = False
    # The served app with its writer as on main before the write-behind: every beat answered
    # after its batch committed, a history row per beat.
    apps["fast_main"] = serve_app(settings)
    apps["fast_main"].writer.flush_s = 0
    apps["fast_main"].writer.history.every_s = 0
    shapes = [shape for shape in os.environ.get("HB_SHAPES", "route,fast").split(",") if shape in apps]
    kiosks = await enrol_kiosks(apps["route"], apps["route"].state.sessionmaker, settings,
                                int(os.environ.get("HB_KIOSKS", 20)))
    # Not above the admission's places for kiosks (inflight_kiosk, 12): the route's shape would
    # queue the rest in its gate and shed some on a busy machine.
    concurrency = int(os.environ.get("HB_CONCURRENCY", 12))
    app_names = {id(app): shape for shape, app in apps.items()}
    statuses: dict[str, dict[int, int]] = {shape: {} for shape in apps}

    async def beats(app, count: int) -> None:
        """``count`` beats, ``concurrency`` at a time (each kiosk one at a time, as a real one)."""
        async def lane(lane_number: int) -> None:
            mine = kiosks[lane_number::concurrency] or kiosks
            for number in range(count // concurrency):
                device_id, key = mine[number % len(mine)]
                body = report(number)
                headers = {"content-type": "application/json",
                           **sign_headers(key, device_id, "POST", HEARTBEAT_PATH, [], body, time.time())}
                status, answer = await call(app, "POST", HEARTBEAT_PATH, headers, body)
                assert status in (200, 503), (status, answer)  # 503: shed on a busy machine
                statuses[app_names[id(app)]][status] = statuses[app_names[id(app)]].get(status, 0) + 1

        await asyncio.gather(*(lane(n) for n in range(concurrency)))

    count = int(os.environ.get("HB_N", 320))
    for shape in shapes:
        await beats(apps[shape], 64)  # warm: statement caches, the thread pool, the key cache
    rounds: dict[str, list[tuple[float, float, float, float]]] = {shape: [] for shape in shapes}
    for number in range(int(os.environ.get("HB_ROUNDS", 3))):
        for shape in (shapes if number % 2 == 0 else shapes[::-1]):  # the order turned every round
            cpu, wall = time.process_time(), time.perf_counter()
            db_cpu = _tree_cpu_s(db_pid) if db_pid else 0.0
            writer_cpu = _writer_cpu_s(apps[shape])
            await beats(apps[shape], count)
            rounds[shape].append(((time.process_time() - cpu) / count * 1000,
                                  (time.perf_counter() - wall) / count * 1000,
                                  ((_tree_cpu_s(db_pid) - db_cpu) if db_pid else 0.0) / count * 1000,
                                  (_writer_cpu_s(apps[shape]) - writer_cpu) / count * 1000))
    if os.environ.get("HB_PROFILE"):
        # cProfile sees one thread: the event loop's here, the fast path's writer thread in its own.
        import cProfile
        import pstats
        profile, writer_profile = cProfile.Profile(), cProfile.Profile()
        writer_loop = apps["fast"].writer.loop
        one_pass = writer_loop.one_pass

        def profiled_pass():
            writer_profile.enable()
            try:
                return one_pass()
            finally:
                writer_profile.disable()

        writer_loop.one_pass = profiled_pass
        profile.enable()
        await beats(apps[shapes[-1]], count)
        profile.disable()
        writer_loop.one_pass = one_pass
        order = os.environ.get("HB_PROFILE_SORT", "cumulative")  # or "tottime"
        for name, stats in (("event loop", profile), ("heartbeat writer", writer_profile)):
            print(f"--- {name} ---", file=sys.stderr)
            pstats.Stats(stats, stream=sys.stderr).sort_stats(order).print_stats(45)
    result: dict = {"benchmark": "heartbeat_cpu", "db": settings.db_url.split(":", 1)[0],
                    "beats_per_round": count, "concurrency": concurrency}
    for shape in shapes:
        result[shape] = {"cpu_ms_per_beat": round(statistics.median(r[0] for r in rounds[shape]), 2),
                         "cpu_ms_per_beat_rounds": [round(r[0], 2) for r in rounds[shape]],
                         "wall_ms_per_beat": round(statistics.median(r[1] for r in rounds[shape]), 2)}
        result[shape]["statuses"] = {str(k): v for k, v in statuses[shape].items()}
        if shape.startswith("fast"):  # of which the writer's thread (the rest: the event loop's, the pool's)
            result[shape]["writer_cpu_ms_per_beat"] = round(statistics.median(r[3] for r in rounds[shape]), 2)
        if db_pid:  # PostgreSQL's own processes (the server's share of each beat)
            result[shape]["db_cpu_ms_per_beat"] = round(statistics.median(r[2] for r in rounds[shape]), 2)
    for shape in shapes:
        writer = getattr(apps[shape], "writer", None)
        if writer is not None:
            result[shape].update(batches=writer.batches, largest_batch=writer.largest_batch,
                                 guarded_batches=getattr(writer, "guarded", None))
    for app in apps.values():
        if getattr(app, "writer", None) is not None:
            app.writer.stop()
    for shape in shapes:  # each shape's CPU over the first's, the median of the rounds' ratios
        if shape != shapes[0]:
            ratios = [r[0] / first[0] for r, first in zip(rounds[shape], rounds[shapes[0]], strict=True)]
            result[shape][f"cpu_over_{shapes[0]}"] = round(statistics.median(ratios), 3)
    if {"route", "fast"} <= set(shapes):
        ratio = result["route"]["cpu_ms_per_beat"] / result["fast"]["cpu_ms_per_beat"]
        result["route_over_fast"] = round(ratio, 2)
    for app in apps.values():
        app.state.engine.dispose()
    result["load_average"] = os.getloadavg()[0]
    return result


def _writer_cpu_s(app) -> float:
    """CPU seconds of the app's heartbeat writer thread so far (0 for the route's shape)."""
    thread = getattr(getattr(getattr(app, "writer", None), "loop", None), "_thread", None)
    if thread is None or thread.native_id is None:
        return 0.0
    try:  # the first field: nanoseconds on a CPU
        return int(Path(f"/proc/self/task/{thread.native_id}/schedstat").read_text().split()[0]) / 1e9
    except OSError:
        return 0.0


def run() -> dict:
    """``HB_DB``: unset or "sqlite" (a temporary file), "postgres" (a throwaway cluster), or a URL."""
    db = os.environ.get("HB_DB") or "sqlite"
    if db == "sqlite":
        return asyncio.run(main(None))
    if db != "postgres":
        return asyncio.run(main(db))
    from tests.support.postgres import PostgresCluster, find_bindir

    bindir = find_bindir()
    if bindir is None:
        return {"benchmark": "heartbeat_cpu", "skipped": "PostgreSQL server binaries are not installed"}
    cluster = PostgresCluster(bindir)
    cluster.start()
    try:
        url = cluster.create_database("hall_heartbeat_cpu")
        postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
        return asyncio.run(main(url, postmaster))
    finally:
        cluster.stop()


if __name__ == "__main__":
    print(json.dumps(run()))
