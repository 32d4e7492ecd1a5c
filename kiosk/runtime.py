"""Wiring: settings in, the kiosk's object graph out. `main.py` and the CLIs only call this.

Everything is built once here and handed down as explicit arguments; nothing below
reads a global.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hardware.interfaces import Camera, IdCardReader
from kiosk.catalog import ServiceItem, load_catalog
from kiosk.display import has_display, virtual_display
from kiosk.i18n import Translator
from kiosk.privacy import setup_logging
from kiosk.settings import Settings
from offline_queue.errors import NotEnrolled
from offline_queue.identity import DeviceIdentity
from offline_queue.outbox import OfflineQueue, QueueEntry
from offline_queue.sync import SyncEngine, SyncWorker
from offline_queue.transport import HallClient

if TYPE_CHECKING:  # the core imports the camera and code stacks: only `kiosk run` needs them
    from kiosk.service import KioskService
    from kiosk.visit import Visit

log = logging.getLogger(__name__)

NO_DISPLAY = (
    "kiosk: 没有找到显示屏 / no display found (DISPLAY is not set).\n"
    "  On a machine without a screen, run the kiosk under a virtual display, e.g.\n"
    "    .venv/bin/kiosk demo --screenshot home.png --exit-after 10\n"
    "  (--screenshot starts a private Xvfb and saves the home screen), or\n"
    "    xvfb-run -s '-screen 0 1920x1080x24' .venv/bin/kiosk demo"
)


def queue_dir(settings: Settings) -> Path:
    return settings.data_dir / "outbox"


def open_queue(settings: Settings, clock: Callable[[], float] = time.time) -> OfflineQueue:
    return OfflineQueue(
        queue_dir(settings),
        settings.queue.budget_bytes,
        clock=clock,
        near_full_fraction=settings.queue.near_full_fraction,
        min_free_bytes=settings.queue.min_free_mb * 1024 * 1024,
    )


def purge_retained(settings: Settings, queue: OfflineQueue) -> int:
    """Delete sealed copies the hall confirmed more than ``queue.retention_days`` ago (audited)."""
    try:
        return queue.purge_confirmed(settings.queue.retention_days * 86400.0)
    except Exception as exc:  # start-up must go on; the sync pass purges again later
        log.warning("retention purge failed: %s", type(exc).__name__)
        return 0


def open_identity(settings: Settings) -> DeviceIdentity | None:
    if not DeviceIdentity.is_enrolled(settings.data_dir):
        return None
    return DeviceIdentity.load(settings.data_dir)


def require_identity(settings: Settings) -> DeviceIdentity:
    identity = open_identity(settings)
    if identity is None:
        raise NotEnrolled("this kiosk is not enrolled; run `kiosk enroll --hall URL --code CODE`")
    return identity


def open_sync_engine(settings: Settings, queue: OfflineQueue | None = None,
                     clock: Callable[[], float] = time.time) -> SyncEngine:
    client = HallClient(require_identity(settings), timeout_s=settings.hall.timeout_s, clock=clock)
    return SyncEngine.from_settings(queue or open_queue(settings, clock), client, settings.sync, clock=clock,
                                    retention_days=settings.queue.retention_days)


def enqueue_session(settings: Settings, queue: OfflineQueue, session: Visit, item: ServiceItem,
                    clock: Callable[[], float] = time.time) -> QueueEntry:
    from kiosk.intake import enqueue_session as enqueue

    return enqueue(
        session,
        item,
        queue=queue,
        identity=require_identity(settings),
        county=settings.kiosk.county,
        data_dir=settings.data_dir,
        clock=clock,
    )


def open_camera(settings: Settings) -> Camera | None:
    """The configured camera, or None when it cannot be opened: the kiosk still starts, and the
    items needing a photo are marked in the catalog (``kiosk.readiness``) instead."""
    from hardware.errors import CameraError
    from hardware.factory import build_camera

    try:
        return build_camera(settings.devices.camera)
    except CameraError as exc:
        log.warning("no camera: %s", type(exc).__name__)
        return None


def build_service(settings: Settings, *, id_reader: IdCardReader | None = None, camera: Camera | None = None,
                  clock: Callable[[], float] = time.time) -> KioskService:
    """The kiosk's core with its devices, queue and sync worker (started)."""
    from hardware.factory import build_id_reader
    from kiosk.agent.wiring import start_agent
    from kiosk.service import KioskService

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    setup_logging(settings.data_dir)
    queue = open_queue(settings, clock)
    purge_retained(settings, queue)  # on start; each sync pass purges again
    identity = open_identity(settings)
    translator = Translator.load(lang=settings.kiosk.language)
    service = KioskService(
        settings=settings,
        catalog=load_catalog(),
        translator=translator,
        id_reader=id_reader if id_reader is not None else build_id_reader(settings.devices.id_reader),
        camera=camera if camera is not None else open_camera(settings),
        queue=queue,
        identity=identity,
        clock=clock,
        translator_factory=lambda lang: Translator.load(lang=lang),
    )
    if settings.devices.pcsc.enabled:  # staff cards (代办) and social security cards
        from hardware.factory import build_pcsc_reader
        from kiosk.staff import SmartCardDesk

        service.watch_smart_cards(SmartCardDesk(build_pcsc_reader(settings.devices.pcsc)))
    if identity is not None:
        engine = open_sync_engine(settings, queue, clock)
        worker = SyncWorker(engine, settings.sync.interval_s, on_event=service.on_sync_event)
        service.sync_worker = worker
        worker.start()
    setattr(service, "fleet_agent", start_agent(settings, service))  # noqa: B010 - heartbeats, hall commands
    return service


def close_service(service: KioskService) -> None:
    """Shutting down: the steps' devices and workers, the sync worker, the devices, the outbox."""
    steps: list[tuple[str, Callable[[], object]]] = [("the steps", service.close)]
    agent = getattr(service, "fleet_agent", None)
    if agent is not None:
        steps.append(("the fleet agent", agent.stop))
    if isinstance(service.sync_worker, SyncWorker):
        steps.append(("the sync worker", service.sync_worker.stop))
    for name, device in (("the ID card reader", service.id_reader), ("the camera", service.camera)):
        if device is not None:
            steps.append((name, device.close))
    for name, stop in steps:
        try:
            stop()
        except Exception as exc:  # shutting down: note it, keep closing the rest
            log.warning("closing %s failed: %s", name, type(exc).__name__)
    service.queue.close()


def run_kiosk(settings: Settings, screenshot: Path | None = None, exit_after: float | None = None) -> int:
    """Start the Kivy app; on a machine without a display, explain instead of crashing."""
    if not has_display():
        if screenshot is None:
            print(NO_DISPLAY, file=sys.stderr)
            return 2
        with virtual_display(settings.display.width, settings.display.height):
            return _run_app(settings, screenshot, exit_after)
    return _run_app(settings, screenshot, exit_after)


def _run_app(settings: Settings, screenshot: Path | None, exit_after: float | None) -> int:
    import os

    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kiosk.app import KioskApp

    service = build_service(settings)
    app = KioskApp(service=service, settings=settings, screenshot=screenshot, exit_after=exit_after)
    try:
        app.run()
    finally:
        close_service(service)
    if screenshot is not None and not Path(screenshot).is_file():
        print(f"kiosk: the screenshot {screenshot} was not written", file=sys.stderr)
        return 1
    return app.exit_code  # RESTART_EXIT_CODE after the hall's restart command
