"""What the live capture screen costs: the real app's CPU and memory, home screen against capture.

Starts the real Kivy app under its own Xvfb (``tests.support.kivy_driver``), with the
replay camera serving synthetic 1280×720 photos of a page at 30 frames a second (two
scenes, each held for ``--hold`` seconds in turn: a page lying still, then another put
down). The app sits on the home screen for ``--seconds``, then on the capture screen
for as long; the parent reads the app process's CPU time (``/proc/<pid>/stat`` utime +
stime) and resident memory (``VmRSS``, and per mapping from ``/proc/<pid>/smaps``)
over each stretch, and the screen's count of
preview frames drawn. Auto-capture is off, so no page is taken while measuring.

    .venv/bin/python benchmarks/capture_screen.py [--seconds 20] [--settle 3]

The machine is shared: run it twice and quote ``uptime``. Prints one JSON line last:
home/capture CPU (fraction of one core), RSS (MB), their ratio, and frames drawn a second.
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


def sit_on_screens(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Home, then the capture screen; the parent measures while the scenario waits for its word."""
    import screens.capture as module
    from tests.screens.scenarios import SERVICE

    if not hasattr(module.CaptureScreen, "frames_drawn") and hasattr(module, "to_texture"):
        original = module.to_texture

        def counting(*args: Any, **kwargs: Any) -> Any:
            module._bench_drawn = getattr(module, "_bench_drawn", 0) + 1  # type: ignore[attr-defined]
            return original(*args, **kwargs)

        module.to_texture = counting
    service = d.app.service
    d.wait_for_screen("home")
    d.send(at="home")
    d.receive(timeout=600)
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
    screen = d.call(lambda: d.app.nav.manager.current_screen)
    d.send(at="capture")
    marks = []
    while True:
        command = d.receive(timeout=600)
        read, looks = _scanner_counts(service)
        marks.append({"t": time.monotonic(), "drawn": _count_drawn(screen), "read": read, "looks": looks})
        d.send(marked=len(marks))
        if command.get("stop"):
            break
    seconds = marks[-1]["t"] - marks[0]["t"]
    first, last = marks[0], marks[-1]
    rate = (lambda key: (last[key] - first[key]) / seconds if seconds > 0 else 0.0)  # noqa: E731
    from kivy.clock import Clock

    return {"ui_fps": Clock.get_rfps(), "fps": rate("drawn"), "read_fps": rate("read"),
            "looks_per_s": rate("looks") if first["looks"] >= 0 else None}


# -- in the parent -------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)


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


def measure(pid: int, seconds: float) -> dict[str, float]:
    """CPU (share of one core) and the highest RSS over ``seconds``, sampled every half second."""
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    peak = rss_mb(pid)
    while time.monotonic() - start < seconds:
        time.sleep(0.5)
        peak = max(peak, rss_mb(pid))
    return {"cpu": (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start), "rss_mb": peak}


def make_scenes(folder: Path) -> list[str]:
    import cv2
    import numpy as np

    from hardware.docscan.synthetic import make_scene

    rng = np.random.default_rng(21)
    paths = []
    while len(paths) < 2:
        scene = make_scene(rng, "wood")
        if any(e in scene.effects for e in ("blur", "glare", "finger")) \
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
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="capture-bench-") as tmp:
        folder = Path(tmp)
        params = {"data_dir": str(folder / "data"), "scenes": make_scenes(folder),
                  "hold_frames": round(args.hold * 30)}
        with AppProcess("benchmarks.capture_screen:build_app", "benchmarks.capture_screen:sit_on_screens",
                        params=params, artifacts=folder / "artifacts") as proc:
            assert proc.proc is not None
            pid = proc.proc.pid
            proc.receive(timeout=120)
            time.sleep(args.settle)
            home = measure(pid, args.seconds)
            home_map = memory_map(pid)
            proc.send(go=True)
            proc.receive(timeout=4 * WAIT_S)
            time.sleep(args.settle)
            proc.send(mark=True)
            proc.receive(timeout=30)
            capture = measure(pid, args.seconds)
            capture_map = memory_map(pid)
            proc.send(stop=True)
            value = proc.wait(timeout=60)
    result = {
        "bench": "capture_screen", "seconds": args.seconds, "load": os.getloadavg()[0],
        "home_cpu": round(home["cpu"], 3), "capture_cpu": round(capture["cpu"], 3),
        "home_rss_mb": round(home["rss_mb"], 1), "capture_rss_mb": round(capture["rss_mb"], 1),
        "rss_ratio": round(capture["rss_mb"] / home["rss_mb"], 3), "fps_drawn": round(value["fps"], 1),
        "frames_read_per_s": round(value["read_fps"], 1), "ui_loop_fps": value["ui_fps"],
        "looks_per_s": None if value["looks_per_s"] is None else round(value["looks_per_s"], 2),
        "rss_rise_mb": memory_rise(home_map, capture_map),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
