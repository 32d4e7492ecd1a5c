"""Finding a screen to draw on, or making a virtual one (Xvfb) for headless runs.

Kivy on a machine without a display dies with a long traceback deep in SDL. The
kiosk checks first and says plainly what to do instead. ``Xvfb`` is also what the GUI
tests run the app on (``tests/support/kivy_driver.py``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path


def has_display(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _free_display_number(first: int, last: int) -> int:
    for number in range(first, last):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            return number
    raise RuntimeError(f"no free X display number between :{first} and :{last - 1}")


class Xvfb:
    """A private virtual screen; ``display`` is its name (``:217``) once started.

    ``first``/``last`` bound the display numbers tried, so that the demo and parallel
    test processes do not race for the same ones.
    """

    def __init__(self, width: int = 1920, height: int = 1080, first: int = 90, last: int = 190) -> None:
        self.width, self.height = width, height
        self.first, self.last = first, last
        self.proc: subprocess.Popen | None = None
        self.display = ""

    def start(self) -> Xvfb:
        if shutil.which("Xvfb") is None:
            raise RuntimeError("Xvfb is not installed (run `make setup`)")
        for _attempt in range(5):  # another process may take the number we found
            number = _free_display_number(self.first, self.last)
            proc = subprocess.Popen(
                ["Xvfb", f":{number}", "-screen", "0", f"{self.width}x{self.height}x24", "-nolisten", "tcp"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.poll() is None:
                if Path(f"/tmp/.X11-unix/X{number}").exists():
                    self.proc, self.display = proc, f":{number}"
                    return self
                time.sleep(0.05)
            proc.kill()
            proc.wait()
        raise RuntimeError("Xvfb did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


@contextlib.contextmanager
def virtual_display(width: int = 1920, height: int = 1080) -> Iterator[str]:
    """Start a private Xvfb, point DISPLAY at it for the duration, then stop it."""
    xvfb = Xvfb(width, height).start()
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = xvfb.display
    try:
        yield xvfb.display
    finally:
        if previous is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = previous
        xvfb.stop()
