"""`kiosk demo`: the whole journey on one machine, with nothing plugged in.

Starts the reference county hall on loopback (SQLite, in ``<demo dir>/hall``), makes a
console user for county staff, enrols the kiosk with a one-time code the first time,
and starts the kiosk with the SAM reader simulator (a fictional villager's card on a
pseudo-terminal) and a camera replaying the bundled sample pages. Running it again
reuses the same hall and enrolment, so the queue and the console keep their history.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

from hall.process import HallProcess
from kiosk.display import has_display
from kiosk.runtime import NO_DISPLAY, run_kiosk
from kiosk.settings import load_settings
from offline_queue.identity import DeviceIdentity, enroll

DEFAULT_DIR = Path("demo-data")
SAMPLE_CERTIFICATES = Path(__file__).resolve().parent.parent / "config" / "e_certificates.toml"
DEMO_PORT = 8400  # the port `county-hall serve` and the default settings use
CONSOLE_USER = ("admin", "village-demo-2026")


def _announce(url: str) -> None:
    print(
        f"kiosk demo: county hall at {url}\n"
        f"  console for county staff: {url}/console  (user {CONSOLE_USER[0]}, password {CONSOLE_USER[1]})",
        flush=True,
    )


def _identity_for(hall: HallProcess, kiosk_dir: Path) -> DeviceIdentity:
    """Enrol once; on later runs point the stored identity at this run's hall address."""
    if DeviceIdentity.is_enrolled(kiosk_dir):
        identity = DeviceIdentity.load(kiosk_dir)
        if identity.hall_url != hall.url:
            identity = dataclasses.replace(identity, hall_url=hall.url)
            identity.save(kiosk_dir)
        return identity
    return enroll(hall.url, hall.enrollment_code(), kiosk_dir, name="demo kiosk")


def run_demo(
    data_dir: Path | None = None,
    config_file: Path | None = None,
    screenshot: Path | None = None,
    exit_after: float | None = None,
    port: int = 0,
) -> int:
    if screenshot is None and not has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 2
    base = (data_dir or Path(os.environ.get("KIOSK_DEMO_DIR", DEFAULT_DIR))).resolve()
    kiosk_dir = base / "kiosk"
    kiosk_dir.mkdir(parents=True, exist_ok=True)
    hall = HallProcess(base / "hall", port=port or None, preferred_port=DEMO_PORT)
    with hall:
        hall.cli("create-user", "--username", CONSOLE_USER[0], "--password", CONSOLE_USER[1])
        # the sample villagers' e-certificates (a second run adds none): the kiosk offers them
        hall.cli("certs", "load", str(SAMPLE_CERTIFICATES))
        _announce(hall.url)
        _identity_for(hall, kiosk_dir)
        settings = load_settings(config_file=config_file, data_dir=kiosk_dir).with_overrides(
            {
                "hall.url": hall.url,
                "devices.id_reader.driver": "sam_simulator",
                "devices.camera.driver": "replay",
                "sync.interval_s": 5.0,
            }
        )
        return run_kiosk(settings, screenshot=screenshot, exit_after=exit_after)
