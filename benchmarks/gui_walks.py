"""Where a GUI walk's time goes (issue 10, the GUI tests' CPU).

Runs one walk of the GUI tests (``tests/screens/scenarios_walks_sizes.py``: the real app
under Xvfb, driven by real touches) with the driver's ledger on
(``tests.support.kivy_driver.LEDGER_ENV``): per kind of driver step (taps, waits, pictures,
calls by the function's name, e.g. ``_draw`` for a handwriting stroke) how many, their wall
time and the app process's CPU meanwhile; the frames drawn; the CPU of each thread of the
app (the UI thread, Mesa's llvmpipe rasteriser threads, the job threads); and the X
server's CPU. Nothing is compared against a goal: the figures say which part of a walk to
make cheaper.

    BENCH_WALKS=item_008 BENCH_SIZES=1280x800,1080x1920 .venv/bin/python benchmarks/gui_walks.py

``BENCH_WALKS``: walks of ``WALKS`` (comma-separated; default ``end``), ``BENCH_SIZES``:
``WxH,...`` (default 1920x1080). Prints one JSON line last.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> dict:
    from offline_queue.identity import enroll
    from tests.support.hall_process import HallProcess
    from tests.support.kivy_driver import LEDGER_ENV, AppProcess

    walks = [w for w in os.environ.get("BENCH_WALKS", "end").split(",") if w]
    sizes = [[int(v) for v in s.split("x")] for s in os.environ.get("BENCH_SIZES", "1920x1080").split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-walks-") as tmp, HallProcess(Path(tmp) / "hall") as hall:
        data_dir = Path(tmp) / "data"
        enroll(hall.url, hall.enrollment_code(county="441423"), data_dir, name="bench kiosk")
        ledger = Path(tmp) / "ledger.json"
        params = {"data_dir": str(data_dir), "sizes": sizes, "walks": walks, "voice": True,
                  "hall_url": hall.url, "hall_db_url": hall.db_url}
        started, children = time.monotonic(), os.times()
        with AppProcess("tests.screens.scenarios_walks_sizes:build_app",
                        "tests.screens.scenarios_walks_sizes:walks_at_every_size", params=params,
                        artifacts=Path(tmp) / "artifacts", env={LEDGER_ENV: str(ledger)},
                        width=max(w for w, _ in sizes), height=max(h for _, h in sizes)) as proc:
            result = proc.wait(timeout=1800)
            xvfb = proc.xvfb_cpu_s()
        done = os.times()
        found = json.loads(ledger.read_text())
    found.update(walks=walks, sizes=[f"{w}x{h}" for w, h in sizes], xvfb_cpu_s=round(xvfb, 1),
                 total_wall_s=round(time.monotonic() - started, 1),
                 # the app, its X server and the hall: what the suite's CPU report counts for a test
                 children_cpu_s=round(done.children_user + done.children_system
                                      - children.children_user - children.children_system, 1),
                 seconds_per_size={size: r["seconds"] for size, r in result.items()})
    return found


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False))
