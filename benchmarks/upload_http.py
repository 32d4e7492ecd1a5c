"""Uploads only, over HTTP, against a served hall: the hall's CPU per upload (issue 11, "Speed").

A ``county-hall serve --workers UH_WORKERS`` (2) on a throwaway PostgreSQL cluster
(benchmarks/abuse.py's ``hall_on``) and UH_KIOSKS (64) kiosks enrolled for real; UH_CONNECTIONS
(16) keep-alive connections in this process send uploads back to back for UH_SECONDS (10): each
a 4 KB box as the tree's tests/hall/load_mix.py ``upload`` sends it — since 3 December evening
one signed create that carries the whole box; a tree from before, a signed create and one
signed chunk that completes it (each tree's clients with its hall: the CPU per upload compares
the two forms). Reports the uploads completed, their statuses, the hall's CPU seconds (its process
tree; PostgreSQL's own not counted) and the hall's CPU milliseconds per upload, and beside them
PostgreSQL's own CPU per upload (``db_cpu_ms_per_upload``: its postmaster's process tree, found by
the cluster's port).

``UH_TREES=a,b`` (other checkouts, e.g. ``git archive main``): one run per tree in turns, the
order turned every round, UH_ROUNDS (2) rounds; the ratio of each tree's CPU per upload to the
first's, per round and their median. Prints one JSON line last.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run() -> dict:
    """A run on the tree in PYTHONPATH (this script run by ``main`` with that tree first): its
    hall, and its benchmarks' client code (fleet.py, abuse.py)."""
    sys.path.insert(0, str(Path(os.environ.get("PYTHONPATH") or ROOT) / "benchmarks"))
    import fleet
    from abuse import _kiosks, _tree_cpu_s, hall_on

    seconds = float(os.environ.get("UH_SECONDS", 10))
    with tempfile.TemporaryDirectory(prefix="upload-http-") as tmp, \
            hall_on("postgres", int(os.environ.get("UH_WORKERS", 2)), Path(tmp)) as hall:
        if isinstance(hall, str):
            return {"skipped": hall}
        assert hall.pid is not None
        kiosks = _kiosks(fleet.enrolled(hall, int(os.environ.get("UH_KIOSKS", 64))))
        postmaster = _postmaster(hall.db_url)
        before, db_before = _tree_cpu_s(hall.pid), _db_cpu_s(postmaster) if postmaster else 0.0
        outcomes = asyncio.run(fleet._run(hall.url, kiosks, int(os.environ.get("UH_CONNECTIONS", 16)),
                                          seconds, 0.0, 1))
        cpu = _tree_cpu_s(hall.pid) - before
        db_cpu = _db_cpu_s(postmaster) - db_before if postmaster else None
    statuses = Counter(f"{o.kind}:{o.status}" for o in outcomes)
    # Uploads completed: one request (the create with the box) or, from an older tree's clients, two.
    done = statuses.get("upload_whole:201", 0) + statuses.get("chunk:200", 0)
    return {"statuses": dict(statuses), "uploads_per_s": round(done / seconds, 1),
            "hall_cpu_s": round(cpu, 2), "cpu_ms_per_upload": round(1000 * cpu / max(1, done), 2),
            "db_cpu_ms_per_upload": round(1000 * db_cpu / max(1, done), 2) if db_cpu is not None else None,
            "load_average": os.getloadavg()[0]}


def _db_cpu_s(pid: int) -> float:
    """PostgreSQL's CPU seconds so far: its live processes' and its reaped backends' (the
    postmaster's own children's times). upload_cpu.py's too: kept here, as the uploads' count
    from the statuses rather than load_mix's ``uploads_done``, because ``one_run`` imports the
    measured tree's benchmarks and tests, which may predate both."""
    from abuse import _tree_cpu_s

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return _tree_cpu_s(pid) + (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def _postmaster(db_url: str) -> int | None:
    """The pid of the PostgreSQL server listening on ``db_url``'s port (started with ``-p PORT``
    by tests/support/postgres.py), or None."""
    port = (db_url.split("port=")[1].split("&")[0] if "port=" in db_url
            else db_url.rsplit(":", 1)[-1].split("/")[0])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if words and words[0].endswith(b"postgres") and b"-p" in words and port.encode() in words:
            return int(entry.name)
    return None


def main() -> dict:
    trees = [tree for tree in os.environ.get("UH_TREES", str(ROOT)).split(",") if tree]
    runs: dict[str, list[dict]] = {tree: [] for tree in trees}
    load = os.getloadavg()[0]
    for number in range(int(os.environ.get("UH_ROUNDS", 2))):
        for tree in (trees if number % 2 == 0 else trees[::-1]):
            env = {**os.environ, "PYTHONPATH": tree, "UH_ONE_RUN": "1"}
            done = subprocess.run([sys.executable, str(Path(__file__).resolve())], env=env, cwd=tree,
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"{tree}: {done.stderr[-2000:]}")
            runs[tree].append(json.loads(done.stdout.strip().splitlines()[-1]))
    result: dict = {"benchmark": "upload_http", "load_average": [load, os.getloadavg()[0]]}
    first = trees[0]
    for tree in trees:
        entry: dict = {"runs": runs[tree]}
        if tree != first:
            ratios = [run["cpu_ms_per_upload"] / base["cpu_ms_per_upload"]
                      for run, base in zip(runs[tree], runs[first], strict=True)]
            entry["cpu_over_first_rounds"] = [round(ratio, 3) for ratio in ratios]
            entry["cpu_over_first"] = round(statistics.median(ratios), 3)
        result[tree] = entry
    return result


if __name__ == "__main__":
    print(json.dumps(one_run() if os.environ.get("UH_ONE_RUN") else main()))
