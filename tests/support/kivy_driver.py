"""Drive the REAL Kivy app through touches, under a private Xvfb, from a test.

Kivy wants one App per process, so every run is a subprocess: the app runs in the
child's main thread, and a *scenario* function runs in a driver thread beside it. The
scenario talks to the app only through a ``Driver``, which marshals every call onto the
UI thread (``Clock.schedule_once`` + ``threading.Event``). Taps are real touches: a
``UnitTestTouch`` pressed and released at the widget's window centre through Kivy's
input path (``EventLoop.post_dispatch_input``), never a call to ``on_press``; a tap
whose widget does not get the touch (outside the window, out of its list's view,
covered) raises ``TapMissed``.
The child process exits as `kiosk run` does: 75 when the app stopped for the hall's restart.

The parent test::

    from tests.support.kivy_driver import AppProcess, run_scenario

    result = run_scenario("tests.screens.scenarios:build_app", "tests.screens.scenarios:walk",
                          params={"data_dir": str(tmp_path)})        # raises ScenarioFailed

    # or, to talk to a running scenario (e.g. while a real hall changes a status):
    with AppProcess("pkg.mod:build_app", "pkg.mod:scenario", params={...}) as proc:
        hello = proc.receive(timeout=30)          # what the scenario sent with driver.send()
        proc.send(command="status_changed")       # the scenario reads it with driver.receive()
        result = proc.wait(timeout=120)           # the scenario's return value

The two functions, both in an importable module:

    def build_app(params: dict) -> kivy.app.App       # in the child, before the window runs
    def scenario(driver: Driver, params: dict) -> Any  # in the driver thread; JSON-able result

Driver methods: ``tap(id_or_widget)``, ``find(id)``, ``exists(id)``, ``wait_for(pred,
timeout)``, ``wait_for_screen(name)``, ``current_screen()``, ``text(id)``,
``screenshot(name)``, ``call(fn, *args)`` (anything else, on the UI thread),
``send(**msg)`` / ``receive(timeout)`` (lines to and from the parent test), ``app``.
A widget is found by its kv id (in any ``ids`` of the visible widget tree, popups first)
or by a ``kiosk_id`` attribute (widgets made in code).
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.display import Xvfb as _Xvfb

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
MARK = "@@kivy-driver@@ "
SPEC_ENV = "KIVY_DRIVER_SPEC"
# A path: the child writes there, as JSON, where its time went (``Ledger``); for measuring a walk
# (benchmarks/gui_walks.py), never set by the tests themselves
LEDGER_ENV = "KIVY_DRIVER_LEDGER"


class ScenarioFailed(AssertionError):
    """The scenario raised, timed out, or the app process died; the message has the child's story."""


class TapMissed(AssertionError):
    """A tap's widget did not get the touch: outside the window, out of its list's view, or covered."""


# --------------------------------------------------------------------------------------
# the parent side: Xvfb and the app process
# --------------------------------------------------------------------------------------


class Xvfb(_Xvfb):
    """The kiosk's own virtual screen, on display numbers of its own (:200 and up)."""

    def __init__(self, width: int = 1920, height: int = 1080) -> None:
        super().__init__(width, height, first=200, last=400)


class AppProcess:
    """The app in a child process on its own Xvfb, with a scenario driving it."""

    def __init__(self, app_factory: str, scenario: str, *, params: dict[str, Any] | None = None,
                 artifacts: Path = ARTIFACTS, env: dict[str, str] | None = None,
                 width: int = 1920, height: int = 1080, console_log: bool = False) -> None:
        self.console_log = console_log  # True: Kivy's log goes to <artifacts>/<scenario>.log
        self.spec = {"app_factory": app_factory, "scenario": scenario, "params": params or {},
                     "artifacts": str(artifacts)}
        self.artifacts = Path(artifacts)
        self.extra_env = env or {}
        self.xvfb = Xvfb(width, height)
        self.proc: subprocess.Popen | None = None
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.result: dict[str, Any] | None = None
        self.output: list[str] = []
        self._kivy_home = tempfile.TemporaryDirectory(prefix="kivy-home-")
        self._stderr_path = self.artifacts / _log_name(scenario, width, height)

    def start(self) -> AppProcess:
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.xvfb.start()
        env = dict(os.environ)
        env.update({
            "DISPLAY": self.xvfb.display, "KIVY_NO_ARGS": "1",
            "KIVY_HOME": self._kivy_home.name, "KIVY_NO_FILELOG": "1", "KIOSK_UNDER_TEST": "1",
            "SDL_AUDIODRIVER": "dummy", "PYTHONUNBUFFERED": "1", SPEC_ENV: json.dumps(self.spec),
            # no multisampling: under Xvfb every frame is drawn by Mesa's software rasteriser, where
            # Kivy's default 2x MSAA cost ~3x the CPU per frame (benchmarks/gui_walks.py: llvmpipe
            # 3.9 s -> 1.3 s on one walk); a kiosk's GPU does it for free, and text is unchanged
            "KCFG_GRAPHICS_MULTISAMPLES": "0",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
        })
        if not self.console_log:
            env["KIVY_NO_CONSOLELOG"] = "1"
        env.update(self.extra_env)
        self._stderr = open(self._stderr_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.kivy_driver"], cwd=ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, bufsize=1,
        )
        threading.Thread(target=self._read, name="kivy-driver-reader", daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(MARK):
                msg = json.loads(line[len(MARK):])
                if msg.get("kind") == "result":
                    self.result = msg
                else:
                    self.messages.put(msg.get("body", {}))
            else:
                self.output.append(line.rstrip("\n"))
        self.messages.put({"__eof__": True})

    def send(self, **msg: Any) -> None:
        """One JSON line to the scenario (its ``driver.receive()`` returns it)."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()

    def receive(self, timeout: float = 30) -> dict[str, Any]:
        """The next message the scenario sent with ``driver.send``."""
        try:
            msg = self.messages.get(timeout=timeout)
        except queue.Empty:
            raise ScenarioFailed(f"no message from the scenario in {timeout}s\n{self.story()}") from None
        if msg.get("__eof__"):
            self.messages.put(msg)
            error = (self.result or {}).get("error") or ""
            raise ScenarioFailed(f"the app process ended\n{error}\n{self.story()}")
        return msg

    def wait(self, timeout: float = 120) -> Any:
        """Wait for the app to finish; the scenario's return value, or ``ScenarioFailed``."""
        assert self.proc is not None
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise ScenarioFailed(f"the app did not finish in {timeout}s\n{self.story()}") from None
        deadline = time.monotonic() + 5  # let the reader thread catch the last line
        while self.result is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.result is None:
            raise ScenarioFailed(f"the app process exited {self.proc.returncode} without a result\n"
                                 f"{self.story()}")
        if not self.result.get("ok"):
            raise ScenarioFailed(f"scenario failed:\n{self.result.get('error')}\n{self.story()}")
        return self.result.get("value")

    def xvfb_cpu_s(self) -> float:
        """CPU seconds the X server has used so far (it draws what the app sends it)."""
        if self.xvfb.proc is None:
            return 0.0
        return _task_cpu_s(Path(f"/proc/{self.xvfb.proc.pid}/stat"))

    def story(self) -> str:
        self._stderr.flush()
        try:
            tail = self._stderr_path.read_text(encoding="utf-8", errors="replace")[-6000:]
        except OSError:
            tail = ""
        return "--- app stdout ---\n" + "\n".join(self.output[-40:]) + "\n--- app stderr (tail) ---\n" + tail

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.xvfb.stop()
        if hasattr(self, "_stderr"):
            self._stderr.close()
        self._kivy_home.cleanup()

    def __enter__(self) -> AppProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _log_name(scenario: str, width: int, height: int) -> str:
    """``<scenario>-<width>x<height>-<worker>.log``: one scenario may run at several sizes,
    and on both pytest-xdist workers at once; each run keeps a log of its own."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"{scenario.rsplit(':', 1)[-1]}-{width}x{height}{'-' + worker if worker else ''}.log"


def _task_cpu_s(stat: Path) -> float:
    """utime + stime of a process or thread, from its /proc ``stat`` file."""
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # fields 14 and 15 from 1


def run_scenario(app_factory: str, scenario: str, *, params: dict[str, Any] | None = None,
                 artifacts: Path = ARTIFACTS, timeout: float = 120, env: dict[str, str] | None = None,
                 console_log: bool = False) -> Any:
    """Run one scenario to its end; its return value, or ``ScenarioFailed``."""
    with AppProcess(app_factory, scenario, params=params, artifacts=artifacts, env=env,
                    console_log=console_log) as proc:
        return proc.wait(timeout=timeout)


# --------------------------------------------------------------------------------------
# the child side: the driver a scenario uses
# --------------------------------------------------------------------------------------


def _load(dotted: str) -> Callable[..., Any]:
    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)


def _emit(kind: str, **body: Any) -> None:
    sys.stdout.write(MARK + json.dumps({"kind": kind, **body}, default=str) + "\n")
    sys.stdout.flush()


class Ledger:
    """Where a scenario's time goes (``LEDGER_ENV``): per kind of driver step (a tap, a wait, a
    picture, a call by its function's name) how many, their wall time and the process's CPU
    meanwhile (every thread's: the UI thread works while the driver thread waits); the frames
    drawn; at the end, the CPU of each thread still alive. Only the outermost step counts
    (a tap's own waits are the tap's)."""

    def __init__(self) -> None:
        self.kinds: dict[str, list[float]] = {}  # kind -> [count, wall s, process CPU s]
        self.frames = 0
        self._depth = 0
        self._started = (time.monotonic(), time.process_time())

    def count_frame(self, *_args: Any) -> None:
        self.frames += 1

    def step(self, kind: str, fn: Callable[[], Any]) -> Any:
        if self._depth:
            return fn()
        self._depth += 1
        wall, cpu = time.monotonic(), time.process_time()
        try:
            return fn()
        finally:
            self._depth -= 1
            entry = self.kinds.setdefault(kind, [0, 0.0, 0.0])
            entry[0] += 1
            entry[1] += time.monotonic() - wall
            entry[2] += time.process_time() - cpu

    def report(self) -> dict[str, Any]:
        names = {t.native_id: t.name for t in threading.enumerate()}
        threads: dict[str, float] = {}
        for task in Path("/proc/self/task").iterdir():
            comm = (task / "comm").read_text().strip() if (task / "comm").exists() else "?"
            name = names.get(int(task.name)) or comm  # llvmpipe-N: Mesa's software rasteriser
            name = name.rstrip("0123456789-") if name.startswith(("llvmpipe", "Thread-")) else name
            threads[name] = round(threads.get(name, 0.0) + _task_cpu_s(task / "stat"), 2)
        kinds = {k: {"n": int(n), "wall_s": round(w, 2), "cpu_s": round(c, 2)}
                 for k, (n, w, c) in sorted(self.kinds.items(), key=lambda kv: -kv[1][2])}
        return {"wall_s": round(time.monotonic() - self._started[0], 1),
                "cpu_s": round(time.process_time() - self._started[1], 1), "frames": self.frames,
                "steps": kinds, "threads": dict(sorted(threads.items(), key=lambda kv: -kv[1]))}


def _ledgered(kind: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A driver method whose time goes to the ledger when one is kept (``call``: by the function's name)."""
    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        def measured(self: Driver, *args: Any, **kwargs: Any) -> Any:
            if self.ledger is None:
                return method(self, *args, **kwargs)
            label = kind or "call:" + getattr(args[0], "__name__", "?")
            return self.ledger.step(label, lambda: method(self, *args, **kwargs))
        measured.__name__, measured.__doc__ = method.__name__, method.__doc__
        return measured
    return wrap


class Driver:
    """What a scenario uses; every method may be called from the driver thread."""

    def __init__(self, app: Any, artifacts: Path, default_timeout: float = 10.0,
                 ledger: Ledger | None = None) -> None:
        self.app = app
        self.artifacts = Path(artifacts)
        self.default_timeout = default_timeout
        self.ledger = ledger
        self._inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read_stdin, name="kivy-driver-stdin", daemon=True).start()

    # -- talking to the parent test -------------------------------------------------

    def _read_stdin(self) -> None:
        for line in sys.stdin:
            line = line.strip()
            if line:
                self._inbox.put(json.loads(line))

    def send(self, **msg: Any) -> None:
        _emit("message", body=msg)

    def receive(self, timeout: float = 30) -> dict[str, Any]:
        try:
            return self._inbox.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no command from the parent test in {timeout}s") from None

    # -- the UI thread ----------------------------------------------------------------

    @_ledgered()
    def call(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` on the UI thread and return its result (or raise its error)."""
        from kivy.clock import Clock

        done = threading.Event()
        box: dict[str, Any] = {}

        def run(_dt: float) -> None:
            try:
                box["value"] = fn(*args, **kwargs)
            except BaseException as exc:  # handed back to the driver thread
                box["error"] = exc
            finally:
                done.set()

        Clock.schedule_once(run, 0)
        if not done.wait(timeout or self.default_timeout):
            raise TimeoutError(f"the UI thread did not run {getattr(fn, '__name__', fn)!r} in time")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    @_ledgered("wait_for")
    def wait_for(self, predicate: Callable[[], Any], timeout: float | None = None, interval: float = 0.1,
                 what: str = "", on_ui: bool = True) -> Any:
        """Poll ``predicate`` (on the UI thread unless ``on_ui=False``) until it is truthy."""
        deadline = time.monotonic() + (timeout or self.default_timeout)
        while True:
            # a busy UI thread is slow, not hung (see wait_frames): the wait's own timeout decides
            value = self.call(predicate, timeout=max(self.default_timeout, 30)) if on_ui else predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                label = what or getattr(predicate, "__name__", "condition")
                raise TimeoutError(f"timed out waiting for {label} (screen {self.current_screen()!r})")
            time.sleep(interval)

    @_ledgered("wait_frames")
    def wait_frames(self, count: int = 2) -> None:
        """``count`` turns of the UI loop. Each ``call`` waits for the next clock tick, and a tick is
        followed by the frame's drawing: two calls have a whole frame drawn between them. No
        sleep is needed on top (the clock itself waits for the next frame at 60 fps)."""
        for _ in range(count):
            # a busy UI thread is slow, not hung: the catalog's first entry loads the pinyin search on a
            # job thread, whose dictionary parse holds the GIL for seconds on a loaded machine
            self.call(lambda: None, timeout=max(self.default_timeout, 30))

    # -- finding widgets ----------------------------------------------------------------

    def _find(self, widget_id: str) -> Any:
        from kivy.core.window import Window

        def search(widget: Any) -> Any:
            if getattr(widget, "kiosk_id", None) == widget_id:
                return widget
            ids = getattr(widget, "ids", None)
            if ids and widget_id in ids:
                found = ids[widget_id]
                if _showing(found):
                    return found
            for child in widget.children:
                hit = search(child)
                if hit is not None:
                    return hit
            return None

        for top in Window.children:  # popups first: they were added last
            if top.__class__.__name__ == "ScreenManager" or hasattr(top, "current_screen"):
                hit = search(top.current_screen) if top.current_screen is not None else None
            else:
                hit = search(top)
            if hit is not None:
                return hit
        return None

    def find(self, widget_id: str) -> Any:
        """The visible widget with this kv id or ``kiosk_id``, or None."""
        return self.call(self._find, widget_id)

    def exists(self, widget_id: str) -> bool:
        return self.find(widget_id) is not None

    def text(self, widget_id: str) -> str:
        return self.call(lambda: getattr(self._find(widget_id), "text", None))

    def current_screen(self) -> str:
        return self.call(lambda: getattr(self._manager(), "current", ""))

    def _manager(self) -> Any:
        root = self.app.root
        return root if hasattr(root, "current_screen") else getattr(root, "manager", root)

    def wait_for_screen(self, name: str, timeout: float | None = None) -> None:
        self.wait_for(lambda: self._manager().current == name, timeout, what=f"screen {name!r}")
        self.wait_frames(1)  # its on_enter has run; a tap then waits for its widget to stand still

    # -- touching -------------------------------------------------------------------------

    @_ledgered("tap")
    def tap(self, target: Any, timeout: float | None = None) -> None:
        """Touch down and up at the centre of a widget (by id, waiting for it to show and be enabled).

        As a finger would: the list it is in scrolled to show it, aimed at where it is once it
        stands still (the same place on two frames in a row, no layout pending around it), then
        pressed through Kivy's input path. The widget must get the touch: one outside the window,
        scrolled out of its list's view or covered by another that takes the touch first fails
        the test (``TapMissed``), as it would fail a villager at that window size."""
        for attempt in range(2):
            if isinstance(target, str):
                widget = self.wait_for(lambda: _tappable(self._find(target)), timeout,
                                       what=f"widget {target!r}")
            else:
                widget = target
            pressed, widget = self._tap_once(target, widget, timeout)
            if pressed["reached"]:
                break
            if attempt == 1:  # missed twice: covered, as it would fail a villager
                label = target if isinstance(target, str) else type(widget).__name__
                raise TapMissed(f"the touch at {pressed['at']} did not reach {label!r} "
                                f"(window {pressed['window']}): {pressed['why']}")
            # Once more, a few frames later, on the widget found again: one built again between aim
            # and press (a form whose rows a job's answer rebuilt) took the touch on the old rows on
            # their way out; right after the test resized the window a touch can reach nothing on
            # its path (the size audit, about one run in two) and land a few frames later. A widget
            # really covered is covered on the second try too.
            self.wait_frames(3)
        self.wait_frames(1)  # what the touch scheduled for the next frame has run

    def _tap_once(self, target: Any, widget: Any, timeout: float | None) -> tuple[dict[str, Any], Any]:
        """Aim at the widget once it stands still and press it; what ``_press`` says, and the widget
        pressed (a new one when the first was taken off the screen meanwhile)."""
        label = target if isinstance(target, str) else type(widget).__name__
        # a busy UI thread is slow, not hung (see wait_frames); a handler may work for seconds (the
        # capture screen's shot is processed on the UI thread)
        slow = max(timeout or self.default_timeout, 30)
        aim = self.call(_aim_at, widget, timeout=slow)
        pressed: dict[str, Any] | None = None
        for _ in range(8):  # something around it still moves (a list scrolled, a popup opened)
            pressed = self.call(_press_if_still, widget, aim, timeout=slow)
            if pressed["pressed"]:
                break
            if pressed.get("gone") and isinstance(target, str):
                # built again under the finger (a form refreshed when a job ended): the new one
                widget = self.wait_for(lambda: _tappable(self._find(target)), timeout, what=label)
            aim = pressed["aim"]
        if pressed is None or not pressed["pressed"]:  # still moving (an animation): where it is now
            aim = self.call(lambda: widget.to_window(*widget.center), timeout=slow)
            pressed = self.call(_press, widget, *aim, timeout=slow)
        return pressed, widget

    # -- pictures ---------------------------------------------------------------------------

    @_ledgered("screenshot")
    def screenshot(self, name: str) -> Path:
        """Save what the window shows as ``<artifacts>/<name>.png``."""
        self.wait_frames(2)  # two turns of the loop: a whole frame drawn between them
        path = self.artifacts / f"{name}.png"

        def shoot() -> None:
            self.artifacts.mkdir(parents=True, exist_ok=True)
            tmp = self.artifacts / f"{name}.tmp.png"
            _save_window_png(tmp)
            tmp.replace(path)

        self.call(shoot)
        return path


def _save_window_png(path: Path) -> None:
    """What the window shows, as a PNG at zlib level 1 (on the UI thread). Kivy's own
    ``Window.screenshot`` compresses at SDL_image's default level: ~3x the time for a PNG a
    third smaller, and the suite takes hundreds of full-size pictures."""
    from kivy.core.window import Window
    from kivy.graphics.opengl import GL_RGB, GL_UNSIGNED_BYTE, glReadPixels
    from PIL import Image

    width, height = (int(v) for v in Window.size)
    data = glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE)
    stride = len(data) // height  # rows are padded to 4 bytes (GL_PACK_ALIGNMENT)
    image = Image.frombytes("RGB", (width, height), data, "raw", "RGB", stride, -1)  # GL rows go bottom-up
    image.save(path, compress_level=1)


def _showing(widget: Any) -> bool:
    while widget is not None:
        if getattr(widget, "opacity", 1) == 0:
            return False
        parent = widget.parent
        if parent is widget:
            break
        widget = parent
    return True


def _tappable(widget: Any) -> Any:
    if widget is None or getattr(widget, "disabled", False) or not _showing(widget):
        return None
    if widget.get_root_window() is None:
        return None
    return widget


def _scroll_into_view(widget: Any) -> bool:
    """Scroll the list the widget is in so that it shows; True if the list moved."""
    from kivy.uix.scrollview import ScrollView

    parent = widget.parent
    while parent is not None and parent is not parent.parent:
        if isinstance(parent, ScrollView):
            before = (parent.scroll_x, parent.scroll_y)
            parent.scroll_to(widget, padding=20, animate=False)
            return (parent.scroll_x, parent.scroll_y) != before
        parent = parent.parent
    return False


def _settling(widget: Any) -> bool:
    """True while a layout or a list around the widget has a move scheduled for the next frame."""
    while widget is not None:
        for name in ("_trigger_layout", "_trigger_update_from_scroll"):
            trigger = getattr(widget, name, None)
            if getattr(trigger, "is_triggered", False):
                return True
        if widget.parent is widget:
            break
        widget = widget.parent
    return False


def _aim_at(widget: Any) -> tuple[float, float] | None:
    """The widget's centre in window pixels; None when it may still move (its list had to scroll
    to show it, or a layout around it is pending): aim again after a frame."""
    if _scroll_into_view(widget) or _settling(widget):
        return None
    x, y = widget.to_window(*widget.center)
    return float(x), float(y)


def _press_if_still(widget: Any, aim: tuple[float, float] | None) -> dict[str, Any]:
    """Press the widget if it stands where it stood a frame ago (``aim``); else where it is now."""
    if widget.get_root_window() is None:  # taken off the screen since it was found
        return {"pressed": False, "aim": None, "gone": True}
    now = _aim_at(widget)
    if now is None or aim is None or abs(now[0] - aim[0]) > 0.5 or abs(now[1] - aim[1]) > 0.5:
        return {"pressed": False, "aim": now}
    return _press(widget, *now)


def _press(widget: Any, x: float, y: float) -> dict[str, Any]:
    """Touch down and up at window (x, y) on the UI thread; whether ``widget`` got the touch.

    Kivy hands a touch down the tree from the top: a popup or an overlay that takes it, or a
    list whose visible part does not hold the point, never passes it on, so the widget hears
    ``on_touch_down`` at that point only if a finger there would reach it. A popup that takes
    every touch on itself (the idle warning: any touch keeps the visit) counts as reached when
    the widget is inside it. An error raised by a handler is not caught here: it travels the
    real way, into Kivy's ExceptionManager."""
    from kivy.core.window import Window
    from kivy.uix.modalview import ModalView

    width, height = (int(v) for v in Window.size)
    outcome = {"pressed": True, "at": [round(x), round(y)], "window": [width, height], "why": ""}
    if not (0 <= x < width and 0 <= y < height):
        return {**outcome, "reached": False, "why": "outside the window"}
    path = []  # the widget, then its parents up to the window
    node = widget
    while node is not None and node not in path:
        path.append(node)
        node = node.parent
    heard: list[int] = []  # indexes into path of those that heard the touch at a point inside them

    def hear_at(index: int) -> Callable[[Any, Any], None]:
        def hear(target: Any, touch: Any) -> None:
            if target.collide_point(*touch.pos):
                heard.append(index)
        return hear

    uids = [(w, w.fbind("on_touch_down", hear_at(i))) for i, w in enumerate(path[:-1])]
    try:
        touch = _touch(x, y)
        touch.touch_down()
        touch.touch_up()
    except Exception as exc:  # noqa: BLE001 - a handler's bug: raised again from the app's own loop
        _raise_in_the_loop(exc)
    finally:
        for w, uid in uids:
            w.unbind_uid("on_touch_down", uid)
    deepest = min(heard) if heard else None
    if deepest == 0 or (deepest is not None and isinstance(path[deepest], ModalView)):
        return {**outcome, "reached": True}
    return {**outcome, "reached": False, "why": "covered, or out of its list's view (" + _top_at(x, y) + ")"}


def _touch(x: float, y: float) -> Any:
    """A finger at window (x, y): ``kivy.tests.common.UnitTestTouch``'s behaviour, without importing that
    module, which imports pytest, pygments and unittest into the app (≈ 19 MB resident that the measured
    app would otherwise carry from its first tap on: benchmarks/capture_screen.py, docs/scanning.md)."""
    from kivy.base import EventLoop

    win = EventLoop.window
    touch = _touch_class()("UnitTestTouch", 99, {"x": x / (win.width - 1.0), "y": y / (win.height - 1.0)},
                           is_touch=True, type_id="touch")
    touch.profile = ["pos"]
    return touch


@functools.cache
def _touch_class() -> type:
    from kivy.base import EventLoop
    from kivy.input.motionevent import MotionEvent

    class DriverTouch(MotionEvent):
        def depack(self, args: dict[str, float]) -> None:
            self.sx, self.sy = args["x"], args["y"]
            super().depack(args)

        def touch_down(self) -> None:
            EventLoop.post_dispatch_input("begin", self)

        def touch_up(self) -> None:
            EventLoop.post_dispatch_input("end", self)

    return DriverTouch


def _raise_in_the_loop(exc: Exception) -> None:
    """Raise ``exc`` again from a Clock callback of the app's loop, as a finger's touch would
    have: ``_press`` runs inside ``Driver.call``, which would hand the error to the scenario
    instead of the app's ExceptionManager (the friendly message under test)."""
    from kivy.clock import Clock

    def again(_dt: float) -> None:
        raise exc

    Clock.schedule_once(again, 0)


def _top_at(x: float, y: float) -> str:
    """The topmost window child whose box holds (x, y): the likely cover, for the failure's message."""
    from kivy.core.window import Window

    for top in Window.children:
        if top.collide_point(x, y):
            return type(top).__name__
    return "nothing"


def _child_main() -> int:
    spec = json.loads(os.environ[SPEC_ENV])
    params = spec["params"]
    app = _load(spec["app_factory"])(params)
    scenario = _load(spec["scenario"])
    state: dict[str, Any] = {"ok": False, "error": "the scenario did not run"}
    stopped = threading.Event()  # the app's loop has ended (stopped by the scenario or by itself)
    app.bind(on_stop=lambda *_args: stopped.set())

    ledger_path = os.environ.get(LEDGER_ENV)
    ledger = Ledger() if ledger_path else None

    def drive() -> None:
        driver = Driver(app, Path(spec["artifacts"]), ledger=ledger)
        if ledger is not None:
            from kivy.core.window import Window

            driver.call(lambda: Window.bind(on_flip=ledger.count_frame))
        try:
            driver.wait_frames(3)
            value = scenario(driver, params)
            state.update(ok=True, value=value, error=None)
        except BaseException:
            state.update(ok=False, error=traceback.format_exc())
            try:
                driver.screenshot("failure-" + spec["scenario"].rsplit(":", 1)[-1])
            except BaseException:
                pass
        finally:
            if ledger is not None and ledger_path:
                Path(ledger_path).write_text(json.dumps(ledger.report(), indent=1), encoding="utf-8")
            _emit("result", ok=state["ok"], value=state.get("value"), error=state["error"])
            if not stopped.is_set():  # else the app stopped by itself; the main thread exits
                try:
                    driver.call(app.stop, timeout=5)
                except BaseException:
                    if not stopped.is_set():
                        os._exit(0 if state["ok"] else 1)

    from kivy.clock import Clock

    thread = threading.Thread(target=drive, name="scenario", daemon=True)

    def started(*_args: Any) -> None:
        Clock.schedule_once(lambda _dt: thread.start(), 0)  # the scenario waits for what it needs

    app.bind(on_start=started)
    try:
        app.run()
    except BaseException:
        _emit("result", ok=False, value=None, error=traceback.format_exc())
        sys.stdout.flush()
        os._exit(2)
    if thread.is_alive():  # the app stopped by itself (the hall's restart): the scenario tells its end
        thread.join(timeout=30)
    sys.stdout.flush()
    # as `kiosk run` exits (kiosk.runtime): 75 after the hall's restart command asks for a new start
    os._exit(int(getattr(app, "exit_code", 0)) if state["ok"] else 1)


if __name__ == "__main__":
    sys.exit(_child_main())
