"""What the live capture screen costs: the real app's CPU and memory, home screen against capture.

Starts the real Kivy app under its own Xvfb (``tests.support.kivy_driver``: multisampling
off), with the replay camera serving synthetic 1280×720 photos of a page at 30 frames a
second (two scenes, each held for ``--hold`` seconds in turn: a page lying still, then
another put down). Auto-capture is off, so no page is taken while measuring.

1. The home screen, once the warm-up imports are done ("cold home"), for ``--seconds``;
2. the capture screen (home → catalog → guide → form → capture) for as long;
3. unless ``--no-second-visit``: the visit ends, the home screen again ("home after a
   visit": the form's input engines loaded, the screens built), then the capture screen
   of a second visit (``--settle`` seconds each); ``--visits N`` repeats that N times (the
   app's memory over visits: ``home_rss_after_each_visit_mb``).

The parent reads the app process's CPU time (``/proc/<pid>/stat`` utime + stime; per
thread from ``/proc/<pid>/task``: Python threads by name, ``llvmpipe-N`` = Mesa's software
rasteriser) and the X server's, resident memory (``VmRSS``, and per mapping from
``/proc/<pid>/smaps``), and from the app: preview frames drawn, window redraws, frames
read, detections, the window redraws drawn inside the picture's box alone (partial: only a
new preview frame changed, ``screens/widgets/live_region.py``), and the GL framebuffer's
samples (0: no multisampling), and the screens the screen manager keeps built while the
capture screen shows (``screens_built_at_capture``: those behind it are dropped,
``screens/table.py``).

    .venv/bin/python benchmarks/capture_screen.py [--seconds 20] [--settle 3]
        [--visits N] [--malloc-trim] [--py-spy OUT] [--tracemalloc OUT]

The machine is shared: run it twice and quote ``uptime``. Prints one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TICK = os.sysconf("SC_CLK_TCK")
WAIT_S = 180.0  # a screen change under Mesa's software renderer on a machine at load 20+ is slow


# -- in the app's process ---------------------------------------------------------------------


def build_app(params: dict[str, Any]) -> Any:
    if params.get("tracemalloc"):  # a debug hook of this benchmark only: Python's allocations by line
        import tracemalloc

        tracemalloc.start(1)
    from hardware.camera import ReplayCamera
    from kiosk.app import KioskApp
    from tests.screens.scenarios import build_service

    service = build_service(params)
    service.ctx.settings = service.ctx.settings.with_overrides({"scan.auto_capture": False})
    hold = [Path(p) for p in params["scenes"] for _ in range(int(params["hold_frames"]))]
    service.camera = ReplayCamera(hold, fps=30)
    return KioskApp(service=service, settings=service.settings)


def _scanner_counts(service: Any) -> tuple[int, int]:
    """(frames the live scanner read, page detections it ran); looks = -1 before it counted them."""
    scanner = getattr(service.steps.capture, "_scanner", None)
    if scanner is None:
        return 0, -1
    return scanner.latest().sequence, int(getattr(scanner, "looks", -1))


def _count_drawn(screen: Any) -> int:
    counted = getattr(screen, "frames_drawn", None)
    if counted is not None:
        return int(counted)
    import screens.capture as module  # the screen before it counted: calls of its drawing helper

    return int(getattr(module, "_bench_drawn", 0))


def _count_partial(screen: Any) -> int:
    """Window redraws drawn inside the picture's box alone (screens.widgets.live_region); 0 before it."""
    region = getattr(screen, "region", None)
    return int(region.partial) if region is not None else 0


def _count_window_draws(d: Any) -> list[int]:
    """A counter of the window's redraws (each one a whole-window redraw, whatever changed)."""
    from kivy.core.window import Window

    count = [0]

    def flipped(*_args: Any) -> None:
        count[0] += 1

    d.call(lambda: Window.bind(on_flip=flipped))
    return count


def _thread_names() -> dict[str, str]:
    """The app's Python threads by their kernel id, so the parent can name each task's CPU time."""
    import threading

    return {str(t.native_id): t.name for t in threading.enumerate() if t.native_id is not None}


def _snapshot(params: dict[str, Any]) -> Any:
    if not params.get("tracemalloc"):
        return None
    import tracemalloc

    return tracemalloc.take_snapshot()


def _write_growth(home: Any, capture: Any, out: Path, top: int = 40) -> None:
    """Python's allocation growth home → capture, by file and line, biggest first (the debug hook)."""
    lines = [f"{stat.size_diff / 1e6:+8.2f} MB {stat.count_diff:+7d} blocks  {stat.traceback}"
             for stat in capture.compare_to(home, "lineno")[:top]]
    files = [f"{stat.size_diff / 1e6:+8.2f} MB  {stat.traceback}"
             for stat in capture.compare_to(home, "filename")[:top]]
    total = sum(s.size for s in capture.statistics("filename")) - sum(
        s.size for s in home.statistics("filename"))
    out.write_text(f"python heap growth {total / 1e6:+.1f} MB\n\nby file\n" + "\n".join(files)
                   + "\n\nby line\n" + "\n".join(lines) + "\n")


def _trim(params: dict[str, Any]) -> None:
    """``--malloc-trim`` (a debug hook): glibc gives back what its heaps hold free before home is
    measured, to tell memory in use from memory the allocator keeps."""
    if params.get("malloc_trim"):
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)


def _multisampling() -> dict[str, int]:
    """Kivy's configured multisampling and the samples of the GL framebuffer it really got (UI thread)."""
    from kivy.config import Config
    from kivy.graphics.opengl import glGetIntegerv

    gl_samples = 0x80A9  # GL_SAMPLES
    return {"multisamples": Config.getint("graphics", "multisamples"),
            "gl_samples": int(glGetIntegerv(gl_samples)[0])}


def _walk_to_capture(d: Any) -> Any:
    """From home through catalog, guide and form (filled) to the capture screen; returns that screen."""
    from tests.screens.scenarios import SERVICE

    service = d.app.service
    d.tap("start_button")
    d.wait_for_screen("catalog", timeout=WAIT_S)
    d.tap(f"service_{SERVICE}")
    d.wait_for_screen("guide", timeout=WAIT_S)
    d.tap("guide_start", timeout=WAIT_S)
    d.wait_for_screen("form", timeout=WAIT_S)
    service.steps.form.set_field("phone", "13800138000")
    service.steps.form.set_field("grade", "360")
    service.steps.form.set_field("bank", "psbc")
    d.tap("form_next", timeout=WAIT_S)
    d.wait_for_screen("capture", timeout=WAIT_S)
    return d.call(lambda: d.app.nav.manager.current_screen)


def sit_on_screens(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Home, then the capture screen; the parent measures while the scenario waits for its word.
    Told ``again``, the visit ends (home) and a second one walks to the capture screen: the home
    screen of a kiosk that has served a visit (input engines loaded, screens built) is measured too."""
    import screens.capture as module

    if not hasattr(module.CaptureScreen, "frames_drawn") and hasattr(module, "to_texture"):
        original = module.to_texture

        def counting(*args: Any, **kwargs: Any) -> Any:
            module._bench_drawn = getattr(module, "_bench_drawn", 0) + 1  # type: ignore[attr-defined]
            return original(*args, **kwargs)

        module.to_texture = counting
    service = d.app.service
    d.wait_for_screen("home")
    # "home" is measured once the warm-up is done (OpenCV and detection imported, the catalog's
    # search built: kiosk/service.py warm_up), as on a kiosk that has stood idle a while
    d.wait_for(lambda: d.app.warm_up_job is not None and d.app.warm_up_job.done()
               and service.steps.catalog.search_ready, timeout=WAIT_S)
    _trim(params)
    d.send(at="home", threads=_thread_names())
    d.receive(timeout=600)
    home_snapshot = _snapshot(params)
    screen = _walk_to_capture(d)
    flips = _count_window_draws(d)
    d.send(at="capture", threads=_thread_names())
    marks = []
    while True:
        command = d.receive(timeout=600)
        read, looks = _scanner_counts(service)
        marks.append({"t": time.monotonic(), "drawn": _count_drawn(screen), "read": read, "looks": looks,
                      "window": flips[0], "partial": _count_partial(screen)})
        if len(marks) == 1:  # the screens kept built while the capture screen shows (screens.table)
            built = d.call(lambda: list(d.app.nav.manager.screen_names))
            if home_snapshot is not None:
                _write_growth(home_snapshot, _snapshot(params), Path(params["tracemalloc"]))
        d.send(marked=len(marks))
        if command.get("stop"):
            break
    seconds = marks[-1]["t"] - marks[0]["t"]
    first, last = marks[0], marks[-1]
    rate = (lambda key: (last[key] - first[key]) / seconds if seconds > 0 else 0.0)  # noqa: E731
    from kivy.clock import Clock

    result = {"ui_fps": Clock.get_rfps(), **d.call(_multisampling), "fps": rate("drawn"),
              "read_fps": rate("read"), "window_fps": rate("window"), "partial_fps": rate("partial"),
              "looks_per_s": rate("looks") if first["looks"] >= 0 else None, "screens_built": built}
    if command.get("again"):
        for _ in range(int(params.get("visits", 1))):  # each: home after a visit, the next capture
            d.call(d.app.nav.home)
            d.wait_for_screen("home", timeout=WAIT_S)
            _trim(params)
            d.send(at="home", threads=_thread_names())
            d.receive(timeout=600)
            _walk_to_capture(d)
            d.send(at="capture", threads=_thread_names())
            d.receive(timeout=600)
    return result


# -- in the parent -------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)


def thread_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """CPU seconds so far per task (thread) of the process: {tid: (kernel name, seconds)}."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "stat").read_text()
        except OSError:  # the thread ended
            continue
        head, tail = text.rsplit(")", 1)
        fields = tail.split()
        out[int(task.name)] = (head.split("(", 1)[1], (int(fields[11]) + int(fields[12])) / TICK)
    return out


def thread_shares(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]],
                  names: dict[str, str], seconds: float) -> dict[str, float]:
    """Share of one core per thread over the stretch, Python threads by name, others by kernel name
    (llvmpipe-N: Mesa's software rasteriser; threads of the same name summed)."""
    shares: dict[str, float] = {}
    for tid, (comm, cpu) in after.items():
        name = names.get(str(tid), comm)
        used = cpu - before.get(tid, (comm, 0.0))[1]
        shares[name] = shares.get(name, 0.0) + used / seconds
    return {k: round(v, 3) for k, v in sorted(shares.items(), key=lambda kv: -kv[1]) if v >= 0.005}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory_map(pid: int) -> dict[str, float]:
    """Resident MB per kind of mapping (``/proc/<pid>/smaps``): a library by its file name,
    ``[heap]``, ``[stack]``, ``anon`` (malloc arenas of other threads, numpy's large buffers,
    thread stacks), ``gpu`` (``/dev/dri``, shared memory); and ``threads``: the thread count."""
    sizes: dict[str, float] = {}
    name = "anon"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            path = head[5] if len(head) > 5 else "anon"
            name = Path(path).name if path.startswith("/") else path
            if path.startswith(("/dev/", "/memfd", "/SYSV")):
                name = "gpu/shm"
        elif line.startswith("Rss:"):
            sizes[name] = sizes.get(name, 0.0) + int(head[1]) / 1024
    sizes["threads"] = float(len(list(Path(f"/proc/{pid}/task").iterdir())))
    return sizes


def memory_rise(home: dict[str, float], capture: dict[str, float], top: int = 8) -> dict[str, float]:
    """The mappings whose resident size rose most from the home screen to the capture screen."""
    rise = {k: round(capture.get(k, 0.0) - home.get(k, 0.0), 1) for k in set(home) | set(capture)}
    return dict(sorted(rise.items(), key=lambda kv: -abs(kv[1]))[:top])


def measure(proc: Any, seconds: float, names: dict[str, str]) -> dict[str, Any]:
    """CPU (share of one core: the app, per thread, and the X server) and the highest RSS over
    ``seconds``, sampled every half second."""
    pid = proc.proc.pid
    start_cpu, start_x, start_threads = cpu_seconds(pid), proc.xvfb_cpu_s(), thread_cpu(pid)
    start = time.monotonic()
    peak = rss_mb(pid)
    while time.monotonic() - start < seconds:
        time.sleep(0.5)
        peak = max(peak, rss_mb(pid))
    took = time.monotonic() - start
    return {"cpu": (cpu_seconds(pid) - start_cpu) / took, "rss_mb": peak,
            "xvfb_cpu": (proc.xvfb_cpu_s() - start_x) / took,
            "threads": thread_shares(start_threads, thread_cpu(pid), names, took)}


def _py_spy(pid: int, seconds: float, out: str) -> Any:
    """py-spy recording the app's Python stacks (per thread, idle ones left out) while capture is measured."""
    import subprocess

    spy = os.environ.get("PY_SPY", "/tmp/tools/bin/py-spy")
    return subprocess.Popen([spy, "record", "-p", str(pid), "-d", str(round(seconds)), "-r", "200",
                             "-f", "raw", "-o", out, "--nonblocking", "--threads"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_scenes(folder: Path) -> list[str]:
    import cv2
    import numpy as np

    from hardware.docscan.synthetic import make_scene

    rng = np.random.default_rng(21)
    paths: list[str] = []
    while len(paths) < 2:
        scene = make_scene(rng, "wood")
        if scene.quad is None or any(e in scene.effects for e in ("blur", "glare", "finger")) \
                or cv2.contourArea(scene.quad) < 0.3 * 1280 * 720:
            continue
        path = folder / f"scene{len(paths)}.jpg"
        cv2.imwrite(str(path), scene.image)
        paths.append(str(path))
    return paths


def main(argv: list[str] | None = None) -> int:
    from tests.support.kivy_driver import AppProcess

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured on each screen")
    parser.add_argument("--settle", type=float, default=3.0, help="wait after reaching a screen")
    parser.add_argument("--hold", type=float, default=4.0, help="seconds each replayed scene lies still")
    parser.add_argument("--no-second-visit", dest="second_visit", action="store_false",
                        help="skip the second visit (home after a visit → capture again)")
    parser.add_argument("--visits", type=int, default=1,
                        help="visits after the first: home measured after each (memory over visits)")
    parser.add_argument("--malloc-trim", action="store_true",
                        help="glibc's malloc_trim(0) before each home measurement (debug)")
    parser.add_argument("--py-spy", metavar="OUT", help="also record the app with py-spy on capture")
    parser.add_argument("--tracemalloc", metavar="OUT",
                        help="write Python's allocation growth home → capture (slows the app)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="capture-bench-") as tmp:
        folder = Path(tmp)
        params = {"data_dir": str(folder / "data"), "scenes": make_scenes(folder),
                  "hold_frames": round(args.hold * 30), "tracemalloc": args.tracemalloc,
                  "visits": args.visits, "malloc_trim": args.malloc_trim}
        with AppProcess("benchmarks.capture_screen:build_app", "benchmarks.capture_screen:sit_on_screens",
                        params=params, artifacts=folder / "artifacts") as proc:
            assert proc.proc is not None
            pid = proc.proc.pid
            names = proc.receive(timeout=4 * WAIT_S).get("threads", {})
            time.sleep(args.settle)
            home = measure(proc, args.seconds, names)
            home_map = memory_map(pid)
            proc.send(go=True)
            names = proc.receive(timeout=4 * WAIT_S).get("threads", {})
            time.sleep(args.settle)
            proc.send(mark=True)
            proc.receive(timeout=600 if args.tracemalloc else 30)  # the snapshots take a while
            spy = _py_spy(pid, args.seconds, args.py_spy) if args.py_spy else None
            capture = measure(proc, args.seconds, names)
            if spy is not None:
                spy.wait(timeout=60)
            capture_map = memory_map(pid)
            second = None
            visits: list[dict[str, Any]] = []
            if args.second_visit:  # home after a visit, then the capture screen of the next visit
                proc.send(stop=True, again=True)
                proc.receive(timeout=30)
                for visit in range(args.visits):
                    if visit:
                        proc.send(go=True)
                    proc.receive(timeout=4 * WAIT_S)
                    time.sleep(args.settle)
                    visits.append({"home": measure(proc, args.settle, {}), "home_map": memory_map(pid)})
                    proc.send(go=True)
                    proc.receive(timeout=4 * WAIT_S)
                    time.sleep(args.settle)
                    visits[-1]["capture"] = measure(proc, args.settle, {})
                    visits[-1]["capture_map"] = memory_map(pid)
                second = visits[0]
            proc.send(stop=True)
            value = proc.wait(timeout=60)
    result = {
        "bench": "capture_screen", "seconds": args.seconds, "load": os.getloadavg()[0],
        "home_cpu": round(home["cpu"], 3), "capture_cpu": round(capture["cpu"], 3),
        "home_rss_mb": round(home["rss_mb"], 1), "capture_rss_mb": round(capture["rss_mb"], 1),
        "rss_ratio": round(capture["rss_mb"] / home["rss_mb"], 3),
        "capture_xvfb_cpu": round(capture["xvfb_cpu"], 3), "capture_threads": capture["threads"],
        "cpu_ms_per_drawn_frame": round(1000 * capture["cpu"] / value["fps"], 1) if value["fps"] else None,
        "fps_drawn": round(value["fps"], 1),
        "window_redraws_per_s": round(value["window_fps"], 1),
        "partial_redraws_per_s": round(value.get("partial_fps", 0.0), 1),
        "frames_read_per_s": round(value["read_fps"], 1), "ui_loop_fps": value["ui_fps"],
        "looks_per_s": None if value["looks_per_s"] is None else round(value["looks_per_s"], 2),
        "rss_rise_mb": memory_rise(home_map, capture_map),
        "multisamples": value.get("multisamples"), "gl_samples": value.get("gl_samples"),
        "screens_built_at_capture": value.get("screens_built"),
    }
    if second is not None:
        home2, capture2 = second["home"]["rss_mb"], second["capture"]["rss_mb"]
        result.update({"home_after_visit_rss_mb": round(home2, 1),
                       "capture_2nd_visit_rss_mb": round(capture2, 1),
                       "rss_ratio_after_visit": round(capture2 / home2, 3),
                       "rss_rise_after_visit_mb": memory_rise(second["home_map"], second["capture_map"]),
                       "rss_rise_cold_to_after_visit_mb": memory_rise(home_map, second["home_map"]),
                       "home_rss_after_each_visit_mb": [round(v["home"]["rss_mb"], 1) for v in visits],
                       "capture_rss_each_next_visit_mb": [round(v["capture"]["rss_mb"], 1) for v in visits]})
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
