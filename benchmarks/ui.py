"""The kiosk's screens: cold start, screen changes, candidates, memory over many visits (issue 10).

What is measured, and how:

- **cold start**: a new process (Python, Kivy, fonts, the home screen) until the first
  frame with the home screen is on the (virtual) screen: the process's own start time
  (``/proc/self/stat``) to the first ``Window.on_flip`` after ``on_start``. The real app of
  the GUI tests (simulated card reader and camera) on its own Xvfb, ``BENCH_STARTS``
  times (5); the median.
- **screen change**: a real touch (``tests/support/kivy_driver.py``) on a button that
  changes the screen, to the first frame drawn with the new screen (``on_flip``):
  catalog → guide → form → back to guide → back to catalog, ``BENCH_ROUNDS`` rounds (10).
  The baseline in the same process is a touch on no button and the same screen drawn
  again: one frame.
- **candidates**: ``benchmarks/handwriting.py`` (per stroke, and its top-5 accuracy)
  and ``benchmarks/pinyin.py`` (per key) are run as they are and their figures quoted.
- **memory**: ``BENCH_VISITS`` (200) visits driven through the screens' own methods on
  the UI thread, without touches (``_visit``): start (the card on the reader is read through
  the real serial driver), choose the service, the guide, the form with three fields filled
  and checked, the capture screen until its first camera picture is drawn, then home (the
  visit is wiped). The resident set after visit 20 and after the last; the growth between
  them is the figure (goal <= 5 %); every ten visits it is printed to stderr as it comes.
  ``BENCH_MEMORY_ONLY=1`` runs only the visits, with tracemalloc from visit 20 on, and lists
  what was allocated between visit 30 and the last and is still alive at the last, by line
  (what each visit leaves behind; the widgets on the screen at 30 are not counted);
  ``BENCH_TRACE=0`` leaves tracing out (its own memory is in the resident set).
- **first touch** (``BENCH_CHANGES_ONLY=1`` only): start on the home screen, once the app's
  warm-up after its first frame (``kiosk.warmup``) is over and at least 2 s after that frame.
- ``BENCH_CHANGES_ONLY=1``: one app start, the first touch, then the screen changes (a quick
  run of a few dozen real touches for a quiet machine).
- ``BENCH_STARTS_ONLY=1``: only the cold starts. ``BENCH_BASELINE_ROOT=/work/main``: each cold
  start followed by one of that checkout's app (its own ``benchmarks/ui.py``), and the ratio
  of the medians: the machine is shared, and the ratio is what the load does not move.

Goals: start <= 3 s, screen change <= 100 ms, candidates <= 50 ms, memory growth <= 5 %,
handwriting top-5 >= 0.9. Prints one JSON line last.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SERVICE = "GD-SAMPLE-001"


# -- in the app's process -----------------------------------------------------------------


def _process_started() -> float:
    """When this process started (epoch seconds), from /proc: the cold start includes Python."""
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[19])  # starttime, field 22 counted from 1
    boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                if line.startswith("btime"))
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def build_app(params: dict[str, Any]) -> Any:
    from kivy.clock import Clock
    from kivy.core.window import Window

    from tests.screens.scenarios import build_app as gui_test_app

    started = _process_started()
    app = gui_test_app(params)

    def first_home_frame(*_args: Any) -> None:
        def flipped(*_a: Any) -> None:
            Window.unbind(on_flip=flipped)
            app.bench_cold_start_s = time.time() - started

        Window.bind(on_flip=flipped)

    def on_start(*_args: Any) -> None:  # None: a true return would stop the app's own on_start
        Clock.schedule_once(first_home_frame, 0)

    app.bind(on_start=on_start)
    return app


def _timed_tap(d: Any, target: str | None) -> float:
    """ms from a real touch on ``target`` (None: on nothing) to the next frame on the screen."""
    import threading

    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch

    widget = d.wait_for(lambda: d._find(target), what=target) if target else None
    x, y = d.call(lambda: widget.to_window(*widget.center)) if widget else (2, 2)
    done = threading.Event()
    box: dict[str, float] = {}

    def press() -> None:
        def flipped(*_a: Any) -> None:
            Window.unbind(on_flip=flipped)
            box["ms"] = (time.perf_counter() - box["t0"]) * 1000
            done.set()

        Window.bind(on_flip=flipped)
        box["t0"] = time.perf_counter()
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        if widget is None:
            Window.canvas.ask_update()  # the baseline: one frame of the same screen drawn again

    d.call(press)
    if not done.wait(30):
        raise TimeoutError("no frame after the touch")
    return box["ms"]


def _visit(d: Any) -> None:
    """One visit through the screens' own methods, no touches; ends home, wiped.

    Every screen of a visit is built, shown, drawn (a frame) and left as in a real one: the
    card read through the real serial driver, the catalog, the guide, the form with three
    fields filled and checked, the capture screen until its first camera picture is drawn
    (the live scanner started and stopped), then home. No waits beyond those: at a load
    average of 20 a visit that waited for every screen's settling took tens of seconds.
    """
    nav, capture = d.app.nav, d.app.service.steps.capture
    d.call(lambda: nav.screen("home").start())
    d.wait_for(lambda: nav.current == "catalog", timeout=60, interval=0.02, what="the card read")
    d.call(lambda: nav.current_screen.choose(SERVICE))
    d.wait_frames(1)
    d.call(lambda: nav.forward())  # guide -> form
    form = d.call(lambda: nav.current_screen)
    d.call(lambda: (form.set_value("phone", "13800138000"), form.set_value("grade", "360"),
                    form.set_value("bank", "psbc"), form.next()))
    d.wait_for(lambda: nav.current == "capture" and capture.camera_frame() is not None, timeout=60,
               interval=0.02, what="the capture screen's camera picture")
    d.wait_frames(1)
    d.call(nav.home)


def _first_tap(d: Any) -> dict[str, Any]:
    """The villager's first touch (start: home -> identify) once the warm-up after the first frame
    (``kiosk.warmup``) is over, or ``FIRST_TAP_AFTER_S`` after the first frame if that is later:
    nobody walks up and taps within a second of the home screen. An app without a warm-up (an
    older checkout) is touched after ``FIRST_TAP_AFTER_S``."""
    from kivy.tests.common import UnitTestTouch  # noqa: F401  (imports pytest: before the touch, not in it)

    shown = time.monotonic()
    warm_up_s = None
    if d.call(lambda: hasattr(d.app, "warm_up_job")):
        job = d.wait_for(lambda: d.app.warm_up_job, timeout=60, what="the warm-up job")
        d.wait_for(job.done, timeout=120, what="the warm-up's end")
        warm_up_s = time.monotonic() - shown
    time.sleep(max(0.0, FIRST_TAP_AFTER_S - (time.monotonic() - shown)))
    return {"warm_up_s": warm_up_s, "first_change_ms": _timed_tap(d, "start_button")}


FIRST_TAP_AFTER_S = 2.0


def _changes(d: Any, rounds: int) -> list[float]:
    """ms per screen change: catalog -> guide -> form -> guide -> catalog, ``rounds`` times (from home)."""
    changes: list[float] = []
    if d.call(lambda: d.app.nav.current) == "home":
        d.tap("start_button")
    d.wait_for_screen("catalog", timeout=30)
    for _ in range(rounds):
        for target, screen in ((f"service_{SERVICE}", "guide"), ("guide_start", "form"),
                               ("back_button", "guide"), ("back_button", "catalog")):
            changes.append(_timed_tap(d, target))
            d.wait_for_screen(screen)
    return changes


def scenario(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    import gc

    d.default_timeout = 30
    d.wait_for_screen("home")
    result: dict[str, Any] = {"cold_start_s": d.wait_for(lambda: getattr(d.app, "bench_cold_start_s", None))}
    if params.get("only_start"):
        return result
    if params.get("only_changes"):
        result.update(_first_tap(d))
        result["frame_ms"] = [_timed_tap(d, None) for _ in range(params["rounds"])]
        result["screen_change_ms"] = _changes(d, params["rounds"])
        return result
    frames = [_timed_tap(d, None) for _ in range(params["rounds"])]
    changes = _changes(d, params["rounds"])
    d.call(d.app.nav.home)
    if params.get("trace"):
        d.default_timeout = 120  # tracing slows every allocation: a busy machine needs the room
    memory: dict[int, float] = {}
    snapshots: list[Any] = []
    visit_s: list[float] = []
    traced = (20, 30, params["visits"])  # tracing from 20; what grew from 30 to the last is kept per visit
    for n in range(1, params["visits"] + 1):
        began = time.perf_counter()
        _visit(d)
        visit_s.append(time.perf_counter() - began)
        if n in (20, params["visits"]) or n % 10 == 0:
            d.call(gc.collect)
            d.wait_frames(3)
            memory[n] = _rss_mb()
            d.send(visits=n, rss_mb=round(memory[n], 1), visit_s=round(statistics.median(visit_s[-10:]), 2))
            if params.get("trace") and n in traced:
                snapshots.append(_snapshot(n == 20))
    result.update(frame_ms=frames, screen_change_ms=changes, memory_mb=memory,
                  visit_s_median=round(statistics.median(visit_s), 2))
    if len(snapshots) == 3:
        result["kept_per_line"] = _grown(*snapshots[1:])
    return result


def _snapshot(first: bool) -> Any:
    """A tracemalloc snapshot (started at the first one: tracing slows every visit after it)."""
    import tracemalloc

    if first:
        tracemalloc.start(4)  # 4 frames: enough to name the caller, and the visits stay within the timeouts
    return tracemalloc.take_snapshot()


def _grown(before: Any, after: Any) -> list[str]:
    """What was allocated after ``before`` and is still alive at ``after``, biggest first."""
    stats = after.compare_to(before, "traceback")
    return [f"{s.size_diff / 1024:.0f} KiB in {s.count_diff} blocks: "
            + " <- ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in s.traceback[:6])
            for s in stats[:12]]


# -- the parent ----------------------------------------------------------------------------


def _run_app(params: dict[str, Any], timeout: float) -> dict[str, Any]:
    from tests.support.kivy_driver import AppProcess, ScenarioFailed

    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as artifacts:
        with AppProcess("benchmarks.ui:build_app", "benchmarks.ui:scenario", artifacts=Path(artifacts),
                        params={"data_dir": str(Path(tmp) / "data"), **params}) as proc:
            if params.get("visits"):  # the resident set every ten visits, as it comes (a long run)
                deadline = time.monotonic() + timeout
                try:
                    while time.monotonic() < deadline:
                        print(json.dumps(proc.receive(timeout=deadline - time.monotonic())), file=sys.stderr,
                              flush=True)
                except ScenarioFailed:
                    pass  # the scenario ended (its result, or its failure, comes from wait())
            value: dict[str, Any] = proc.wait(timeout=max(10.0, deadline - time.monotonic())
                                              if params.get("visits") else timeout)
            return value


def _last_json(script: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script)], cwd=ROOT, text=True,
                          capture_output=True, env={**os.environ, **env}, timeout=1800, check=True)
    parsed: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return parsed


def _baseline_start(root: Path) -> float:
    """One cold start of the app of another checkout (``BENCH_BASELINE_ROOT``, e.g. main's), by its own
    benchmark module and driver: the same machine, the same minute, for a ratio that the load cancels."""
    code = ("import json, sys; sys.path.insert(0, '.'); from benchmarks.ui import _run_app; "
            "print(json.dumps(_run_app({'only_start': True}, 180)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=root, text=True, capture_output=True, timeout=240,
                          env={**os.environ, "PYTHONPATH": str(root)}, check=True)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["cold_start_s"])


def _cold_starts(starts: int, baseline: Path | None) -> tuple[list[float], list[float]]:
    """``starts`` cold starts of this app and, interleaved one for one, of the baseline's."""
    own: list[float] = []
    base: list[float] = []
    for _ in range(starts):
        own.append(_run_app({"only_start": True}, 180)["cold_start_s"])
        if baseline is not None:
            base.append(_baseline_start(baseline))
    return own, base


def _start_figures(own: list[float], base: list[float]) -> dict[str, Any]:
    figures: dict[str, Any] = {"cold_start_s_median": round(statistics.median(own), 2),
                               "cold_start_s": [round(c, 2) for c in own]}
    if base:
        figures.update(baseline_cold_start_s_median=round(statistics.median(base), 2),
                       baseline_cold_start_s=[round(c, 2) for c in base],
                       cold_start_vs_baseline=round(statistics.median(own) / statistics.median(base), 3))
    return figures


def _change_figures(run: dict[str, Any]) -> dict[str, Any]:
    changes = sorted(run["screen_change_ms"])
    change = statistics.median(changes)
    frame = statistics.median(run["frame_ms"])
    figures = {"screen_changes": len(changes), "screen_change_ms_median": round(change, 1),
               "screen_change_ms_p95": round(changes[int(len(changes) * 0.95)], 1),
               "frame_ms_median": round(frame, 1), "screen_change_vs_frame_ratio": round(change / frame, 2)}
    if "first_change_ms" in run:
        figures.update(first_change_ms=round(run["first_change_ms"], 1),
                       warm_up_s=None if run["warm_up_s"] is None else round(run["warm_up_s"], 2))
    return figures


def main() -> None:
    starts = int(os.environ.get("BENCH_STARTS", "5"))
    baseline = Path(os.environ["BENCH_BASELINE_ROOT"]) if os.environ.get("BENCH_BASELINE_ROOT") else None
    rounds = int(os.environ.get("BENCH_ROUNDS", "10"))
    visits = int(os.environ.get("BENCH_VISITS", "200"))
    load_before = os.getloadavg()[0]
    if os.environ.get("BENCH_MEMORY_ONLY"):  # developing: the visits alone, with what is kept per line
        trace = os.environ.get("BENCH_TRACE", "1") != "0"  # 0: the resident set without tracing's own
        run = _run_app({"rounds": 1, "visits": visits, "trace": trace}, 900 + 60 * visits)
        memory = {int(k): v for k, v in run["memory_mb"].items()}
        print(json.dumps({"benchmark": "ui-memory", "visits": visits, "memory_mb": memory,
                          "memory_growth": round(memory[visits] / memory[20] - 1, 4),
                          "visit_s_median": run["visit_s_median"], "kept_per_line": run.get("kept_per_line"),
                          "load_average": round(os.getloadavg()[0], 1)}, ensure_ascii=False))
        return
    if os.environ.get("BENCH_CHANGES_ONLY"):  # quick: the first touch and the screen changes, one app start
        run = _run_app({"rounds": rounds, "only_changes": True}, 600)
        print(json.dumps({"benchmark": "ui-changes", **_change_figures(run),
                          "cold_start_s": round(run["cold_start_s"], 2),
                          "load_average_before": round(load_before, 1),
                          "load_average_after": round(os.getloadavg()[0], 1)}))
        return
    if os.environ.get("BENCH_STARTS_ONLY"):  # developing: the cold starts alone (and the baseline's)
        own, base = _cold_starts(starts, baseline)
        print(json.dumps({"benchmark": "ui-start", **_start_figures(own, base),
                          "load_average_before": round(load_before, 1),
                          "load_average_after": round(os.getloadavg()[0], 1)}))
        return
    cold, base = _cold_starts(starts - 1, baseline)
    run = _run_app({"rounds": rounds, "visits": visits}, 600 + 10 * visits)
    cold.append(run["cold_start_s"])
    handwriting = _last_json("handwriting.py", {"BENCH_CHARS": os.environ.get("BENCH_CHARS", "100")})
    pinyin = _last_json("pinyin.py", {"BENCH_ROUNDS": "1"})
    memory = {int(k): v for k, v in run["memory_mb"].items()}
    first, last = memory[min(memory)], memory[max(memory)]
    result = {
        "benchmark": "ui",
        "driven": "real app under Xvfb (llvmpipe); screen changes by real touches; visits through "
                  "the screens' methods on the UI thread, without touches",
        **_start_figures(cold, base),
        **_change_figures(run),
        "handwriting_candidates_ms_median": handwriting["prior_candidates_median_ms"],
        "handwriting_top5_accuracy": handwriting["prior_top5_accuracy"],
        "handwriting_test_strokes": handwriting["test_strokes"],
        "handwriting_characters": handwriting["characters"],
        "pinyin_candidates_ms_median": pinyin["candidates_median_ms"],
        "pinyin_candidates_ms_p95": pinyin["candidates_p95_ms"],
        "visits": visits,
        "memory_mb_after_20": round(first, 1),
        "memory_mb_after_last": round(last, 1),
        "memory_growth": round(last / first - 1, 4),
        "goals": {"cold_start_s": 3, "screen_change_ms": 100, "candidates_ms": 50, "memory_growth": 0.05,
                  "handwriting_top5": 0.9},
        "load_average_before": round(load_before, 1),
        "load_average_after": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
