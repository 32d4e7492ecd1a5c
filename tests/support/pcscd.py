"""The real ``pcscd`` with vsmartcard's vpcd virtual reader, for the PC/SC tests.

    from tests.support.pcscd import pcscd   # the session fixture, in a conftest
    def test_x(pcscd):
        with VpcdCard(StaffCard(...)):          # hardware.vpcd_card: a card in "Virtual PCD 00 00"
            ...

The fixture starts ``pcscd --foreground`` (as root in CI: it owns ``/run/pcscd``), waits
until the reader "Virtual PCD 00 00" shows and kills the daemon at the end. When a
``pcscd`` already runs with vpcd loaded (its port 35963 listens), that one is used and left
alone. It skips, with the reason, only when pcscd, the vpcd driver or pyscard are not
installed; anything else is a failure with pcscd's log.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

VPCD_READER = "Virtual PCD 00 00"
VPCD_PORT = 35963
VPCD_DRIVERS = [
    Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so"),
    *Path("/usr/lib").glob("*/pcsc/drivers/serial/libifdvpcd.so"),
]
START_TIMEOUT_S = 15.0


def missing_reason() -> str | None:
    """Why the PC/SC tests cannot run here, or None."""
    if shutil.which("pcscd") is None and not Path("/usr/sbin/pcscd").exists():
        return "pcscd is not installed (Debian package pcscd; scripts/bootstrap.sh installs it)"
    if not any(p.exists() for p in VPCD_DRIVERS):
        return "the vpcd virtual reader is not installed (Debian package vsmartcard-vpcd)"
    try:
        import smartcard.scard  # noqa: F401
    except ImportError:
        return "pyscard is not installed in the venv"
    return None


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _service_up() -> bool:
    from hardware.errors import SmartCardUnavailable
    from hardware.pcsc_monitor import reader_states

    try:
        reader_states()
    except SmartCardUnavailable:
        return False
    return True


class Pcscd:
    """A pcscd we started (``own``) or found running; ``stop()``/``start()`` for the unplug test."""

    def __init__(self) -> None:
        self.binary = shutil.which("pcscd") or "/usr/sbin/pcscd"
        self.process: subprocess.Popen | None = None
        self.own = False
        self.log_path = Path(tempfile.mkdtemp(prefix="pcscd-")) / "pcscd.log"

    def start(self) -> None:
        if self.process is None and not self.own and (_port_open(VPCD_PORT) or _service_up()):
            self.wait_for_reader()  # somebody else's pcscd (a system one, another run): use it
            return
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [self.binary, "--foreground", "--info"], stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.own = True
        try:
            self.process.wait(timeout=0.3)
        except subprocess.TimeoutExpired:
            pass  # running: ours
        else:
            if "Another pcscd" in self.log():  # one started meanwhile: use that one
                self.process, self.own = None, False
        self.wait_for_reader()

    def wait_for_reader(self) -> None:
        from hardware.errors import SmartCardUnavailable
        from hardware.pcsc_monitor import reader_states

        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                pytest.fail(f"pcscd exited with {self.process.returncode}:\n{self.log()}")
            try:
                if VPCD_READER in reader_states() and _port_open(VPCD_PORT):
                    return
            except SmartCardUnavailable:
                pass
            time.sleep(0.1)
        pytest.fail(f"the reader {VPCD_READER!r} did not appear within {START_TIMEOUT_S} s:\n{self.log()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        deadline = time.monotonic() + 5
        while _port_open(VPCD_PORT) and time.monotonic() < deadline:
            time.sleep(0.05)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no log)"


@pytest.fixture(scope="session")
def pcscd() -> Iterator[Pcscd]:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    daemon = Pcscd()
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()
