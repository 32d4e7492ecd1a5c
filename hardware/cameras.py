"""The cameras: replayed image files and OpenCV devices, and their registry.

``CAMERAS`` lists them; ``hardware.factory.build_camera`` and the settings use it. A new
camera model: a module with a settings model, a build and a probe, and one line in
``CAMERAS``.
"""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import Field

from hardware.camera import SAMPLES_DIR, OpenCVCamera, ReplayCamera
from hardware.device_health import CAMERA, DEGRADED, MISSING, OK, DeviceHealth, device_health
from hardware.errors import CameraError
from hardware.interfaces import Camera
from hardware.registry import Driver, DriverRegistry, DriverSettings

PROBE_FRAMES = 5


class ReplaySettings(DriverSettings):
    source: str = ""  # a folder of images or a video; "" = the bundled samples


class OpenCVSettings(DriverSettings):
    source: str = ""  # a device index or path; "" = the first camera
    width: int | None = None
    height: int | None = None
    focus: int = Field(-1, ge=-1, le=255)  # -1: the camera focuses itself


REPLAY_FPS = 15.0  # paced like the USB document cameras kiosks ship with, not as fast as asked


def build_replay(settings: ReplaySettings) -> Camera:
    """Raises ``CameraUnavailable`` when the source holds no pictures."""
    return ReplayCamera(Path(settings.source) if settings.source else SAMPLES_DIR, fps=REPLAY_FPS)


def build_opencv(settings: OpenCVSettings) -> Camera:
    return OpenCVCamera(settings.source or 0, width=settings.width, height=settings.height,
                        focus=settings.focus)


def probe_camera_frames(
    driver: Driver[Camera], settings: DriverSettings | None, camera: Camera | None,
    frames: int = PROBE_FRAMES,
) -> DeviceHealth:
    """A few frames from the camera given, or from one opened for the probe."""
    own = camera is None
    try:
        if camera is None:
            camera = driver.build(settings)
    except CameraError as exc:
        return device_health(CAMERA, driver.name, MISSING, "no_camera", str(exc))
    except ValueError as exc:
        return device_health(CAMERA, driver.name, MISSING, "not_configured", str(exc))
    try:
        for _ in range(frames):
            try:
                frame = camera.read_frame()
            except CameraError as exc:
                return device_health(CAMERA, driver.name, MISSING, "no_camera", str(exc))
            if frame is not None:
                h, w = frame.shape[:2]
                reason = "replay" if driver.name == "replay" else ""
                return device_health(CAMERA, driver.name, OK, reason, f"{w}x{h} frames")
            time.sleep(0.1)
        return device_health(CAMERA, driver.name, DEGRADED, "no_frames", f"no frame in {frames} tries")
    finally:
        if own:
            camera.close()


CAMERAS: DriverRegistry[Camera] = DriverRegistry("camera", [
    Driver("replay", ReplaySettings, build_replay, probe_camera_frames),
    Driver("opencv", OpenCVSettings, build_opencv, probe_camera_frames),
])
