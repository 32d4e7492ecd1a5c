"""The live scanner's thread (a workers.BackgroundLoop): alive after passes that fail."""

import threading
import time

import numpy as np

import hardware.docscan.live as live
from hardware.docscan.live import LiveScanner
from hardware.errors import CameraError


def wait_for(predicate, timeout_s=5.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


class GreyCamera:
    """A grey frame each read; the first reads fail as a flaky driver's would."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.reads = 0

    def read_frame(self):
        self.reads += 1
        if self.reads <= self.failures:
            raise CameraError("usb hiccup")
        return np.full((120, 160, 3), 128, np.uint8)

    def close(self):
        pass


def test_camera_errors_are_reported_and_the_thread_goes_on():
    scanner = LiveScanner(GreyCamera(failures=1), fps=100)
    scanner.start()
    try:
        assert wait_for(lambda: scanner.latest().sequence >= 3)
        assert scanner.running
        assert scanner.latest().error_key == ""  # cleared once frames came again
    finally:
        scanner.stop()
    assert not scanner.running


def test_a_pass_that_raises_is_logged_and_the_thread_stays_alive(monkeypatch):
    """A bug in quality assessment used to end the thread silently: the screen froze on 'no page'."""
    real_assess = live.assess
    calls = {"n": 0}

    def buggy_assess(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise ZeroDivisionError("quality bug")
        return real_assess(*args, **kwargs)

    monkeypatch.setattr(live, "assess", buggy_assess)
    scanner = LiveScanner(GreyCamera(), fps=100)
    scanner.loop.crash_backoff_s = 0.01
    scanner.start()
    try:
        assert wait_for(lambda: scanner.latest().sequence >= 3 and calls["n"] >= 3)
        assert scanner.running, "the live-scanner thread died after a failing pass"
        assert scanner.loop.stats.crashes == 2
    finally:
        scanner.stop()


def test_restart_while_a_read_hangs_leaves_the_old_thread_behind():
    release = threading.Event()

    class Hanging:
        def read_frame(self):
            release.wait(5)
            return None

        def close(self):
            release.set()

    scanner = LiveScanner(Hanging())
    scanner.start()
    time.sleep(0.05)
    scanner.stop(timeout=0.1)
    started = time.monotonic()
    scanner.start()  # must not wait for the hanging read
    assert time.monotonic() - started < 0.5
    assert scanner.running
    release.set()
    scanner.stop()


def test_a_stalled_or_fired_view_keeps_its_screen_preview():
    """latest() remakes the view when it stalls or fires; the preview must come along.

    Without it the screen fell back to a read-only copy that the texture upload refused, and
    the villager was sent home in the middle of taking a page (seen once in CI).
    """
    now = {"t": 0.0}
    scanner = LiveScanner(GreyCamera(), stall_s=3.0, clock=lambda: now["t"])
    scanner.step(np.full((120, 160, 3), 128, np.uint8))
    assert scanner.latest().preview is not None
    now["t"] = 10.0  # no frame since: stalled
    view = scanner.latest()
    assert view.stalled
    assert view.preview is not None and view.preview.flags.writeable


def test_paced_the_camera_is_read_only_after_the_screen_fetched_the_last_frame():
    camera = GreyCamera()
    scanner = LiveScanner(camera, fps=0, paced=True)
    scanner.unseen_wait_s = 60.0  # no screen for a long while: still no read before it fetched one
    scanner._one_frame()
    scanner._one_frame()
    assert camera.reads == 1
    assert scanner.latest().sequence == 1
    scanner._one_frame()
    assert camera.reads == 2
    scanner.unseen_wait_s = 0.0  # nobody draws: frames are still read (detection, auto-capture)
    scanner._one_frame()
    assert camera.reads == 3
    unpaced = LiveScanner(GreyCamera(), fps=0)
    for _ in range(3):
        unpaced._one_frame()
    assert unpaced.camera.reads == 3


def test_starting_fixes_the_allocators_mmap_threshold(monkeypatch):
    """Frame-sized buffers are mapped and unmapped, not carved out of the scanner thread's arena
    (live.MMAP_THRESHOLD: glibc's sliding threshold left ≈ 9 MB resident beyond what was in use)."""
    calls = []

    class Mallopt:
        argtypes: list = []
        restype = None

        def __call__(self, option, value):
            calls.append((option, value))
            return 1

    class Libc:
        mallopt = Mallopt()

    monkeypatch.setattr(live, "_threshold_set", False)
    monkeypatch.setattr(live.ctypes, "CDLL", lambda _name: Libc())
    scanner = LiveScanner(GreyCamera(), fps=100)
    scanner.start()
    scanner.start()  # already running
    scanner.stop()
    scanner.start()  # once per process
    try:
        assert calls == [(live.M_MMAP_THRESHOLD, live.MMAP_THRESHOLD)]
        assert wait_for(lambda: scanner.latest().sequence > 0)
    finally:
        scanner.stop()
