"""What the kiosk's devices can do now, known before a villager starts.

``DeviceReadiness`` keeps the latest health of the two devices a visit may need after the
card: the camera (items with a page to photograph) and the receipt printer (the slip).
It is checked off the UI thread when the kiosk starts and again when the home screen
shows, at most every ``max_age_s`` (``check_if_stale``); the catalog marks the items that
need a photo when the camera is missing, and the receipt tells the villager to note the
number when no slip will print. A missing camera is found here, never after the form.

The camera probe borrows the camera from its ``DeviceLease`` (a step that borrows it
meanwhile waits for the few frames of the probe to end: ``give_back``). The printer is
asked through the receipt step, its one user. Event: ``devices_checked`` (camera,
printer: True when usable). No personal data here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from hardware.device_health import CAMERA, MISSING, PRINTER, DeviceHealth, device_health
from hardware.interfaces import Camera
from kiosk.devices import DeviceLease
from kiosk.jobs import OneShotJobs

log = logging.getLogger(__name__)

MAX_AGE_S = 120.0  # home screens closer together than this reuse the last check
PROBE_WAIT_S = 3.0  # the longest a borrower waits for a camera probe to end


class DeviceReadiness:
    """The camera's and the printer's latest health; see the module docstring."""

    def __init__(self, *, devices_cfg: Any, camera: DeviceLease[Camera],
                 printer_health: Callable[[], DeviceHealth], jobs: OneShotJobs,
                 emit: Callable[..., None], clock: Callable[[], float] = time.monotonic,
                 max_age_s: float = MAX_AGE_S) -> None:
        self.devices_cfg = devices_cfg
        self.camera = camera
        self.printer_health = printer_health
        self.jobs = jobs
        self.emit = emit
        self.clock = clock
        self.max_age_s = max_age_s
        self.report: dict[str, DeviceHealth] = {}
        self._checked_at: float | None = None
        self._busy = threading.Lock()
        self._probe_done = threading.Event()
        self._probe_done.set()

    # -- what the steps ask ---------------------------------------------------------------

    @property
    def printer_configured(self) -> bool:
        return (getattr(getattr(self.devices_cfg, "printer", None), "driver", "none") or "none") != "none"

    @property
    def camera_ok(self) -> bool:
        """False when there is no camera, or its last check found it missing."""
        health = self.report.get(CAMERA)
        return self.camera.device is not None and (health is None or health.state != MISSING)

    @property
    def printer_ok(self) -> bool:
        """False when no printer is configured, or its last check found it missing."""
        health = self.report.get(PRINTER)
        return self.printer_configured and (health is None or health.state != MISSING)

    # -- checking ---------------------------------------------------------------------------

    def check_if_stale(self) -> Future[None] | None:
        """Check on a one-shot job unless a check is running or recent; the job's future, or None."""
        now = self.clock()
        if self._checked_at is not None and now - self._checked_at < self.max_age_s:
            return None
        if not self._busy.acquire(blocking=False):
            return None
        self._checked_at = now

        def run() -> None:
            try:
                self.check()
            finally:
                self._busy.release()

        return self.jobs.submit("device check", run)

    def check(self) -> dict[str, DeviceHealth]:
        """Probe the camera and the printer now (a few frames; the printer's status)."""
        report = {CAMERA: self._probe_camera()}
        if self.printer_configured:
            try:
                report[PRINTER] = self.printer_health()
            except Exception as exc:
                report[PRINTER] = device_health(PRINTER, "?", MISSING, "unavailable", type(exc).__name__)
        self.report = report
        for health in report.values():
            if health.state != "ok":
                log.warning("device %s is %s: %s", health.device, health.state, health.reason)
        self.emit("devices_checked", camera=self.camera_ok, printer=self.printer_ok)
        return report

    def _probe_camera(self) -> DeviceHealth:
        from hardware.health import probe_camera

        if self.camera.holder not in (None, self):  # a step is using it: it works; keep the last word
            return self.report.get(CAMERA) or device_health(CAMERA, "?", "ok", "in_use")
        self._probe_done.clear()
        camera = self.camera.lend(self)
        try:
            if camera is None:
                return device_health(CAMERA, "none", MISSING, "no_camera")
            return probe_camera(getattr(self.devices_cfg, "camera", None), camera)
        except Exception as exc:
            return device_health(CAMERA, "?", MISSING, "no_camera", type(exc).__name__)
        finally:
            self._probe_done.set()
            self.camera.release(self)

    def give_back(self) -> None:
        """A step borrows the camera: let the probe's last frame be read first."""
        if not self._probe_done.wait(PROBE_WAIT_S):
            log.warning("camera probe still running after %.0f s", PROBE_WAIT_S)
