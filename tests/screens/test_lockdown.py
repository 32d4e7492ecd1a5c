"""The kiosk window is locked down, and its UI loop pings the systemd watchdog (marker ``gui``)."""

from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest

from tests.support.kivy_driver import AppProcess

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]

PING_USEC = 600_000  # the app pings every 0.3 s
HANG_S = 3.0


class FakeSystemd:
    """A ``NOTIFY_SOCKET`` as systemd makes it: a unix datagram socket; every message, timed."""

    def __init__(self, path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            self.messages.append((time.monotonic(), data.decode()))

    def pings(self, since: float = 0.0) -> list[float]:
        return [t for t, m in self.messages if "WATCHDOG=1" in m.split("\n") and t >= since]

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


def test_locked_window_keeps_its_keys_and_pings_the_watchdog_until_the_ui_hangs(tmp_path):
    systemd = FakeSystemd(tmp_path / "notify.sock")
    env = {"NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": str(PING_USEC)}
    try:
        with AppProcess("tests.screens.scenarios_lockdown:build_app",
                        "tests.screens.scenarios_lockdown:lockdown_and_watchdog",
                        params={"data_dir": str(tmp_path / "data")}, env=env) as proc:
            assert proc.receive(timeout=90) == {"ready": True}
            assert any("READY=1" in m for _t, m in systemd.messages)
            start = time.monotonic()
            deadline = start + 30
            while len(systemd.pings(start)) < 3 and time.monotonic() < deadline:
                time.sleep(0.1)
            steady = systemd.pings(start)
            assert len(steady) >= 3, "no regular pings from the UI loop"
            steady_gaps = sorted(b - a for a, b in zip(steady, steady[1:], strict=False))
            assert steady_gaps[len(steady_gaps) // 2] < 1.0  # about every 0.3 s while the UI runs
            hang_from = time.monotonic()
            proc.send(hang_s=HANG_S)
            assert proc.receive(timeout=60) == {"hung": True}
            resumed = time.monotonic()
            deadline = resumed + 30
            while not systemd.pings(resumed) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert systemd.pings(resumed), "the pings did not come back after the hang"
            proc.send(stop=True)
            result = proc.wait(timeout=60)
    finally:
        systemd.close()
    pings = [t for t in systemd.pings(hang_from - 1) if t <= resumed + 2]
    gaps = [b - a for a, b in zip(pings, pings[1:], strict=False)]
    assert max(gaps) >= HANG_S - 0.5, f"pings went on while the UI hung: {gaps}"
    assert any("STOPPING=1" in m for _t, m in systemd.messages)
    assert result["before"]["locked_down"] and result["before"]["borderless"]
    assert result["before"]["cursor"] is False
    assert result["close_refused"] is True
    assert result["after"] == {**result["before"]}, "a key or Alt-F4 changed the kiosk window"
    assert result["after"]["running"] and result["after"]["screen"] == "home"
    assert result["after"]["panels"] == []  # no settings panel, no inspector
