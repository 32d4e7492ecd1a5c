"""The FastAPI application factory: ``create_app(settings)``.

Migrations are not run here (``county-hall serve`` and ``migrate`` run them first).

``serve_app(settings)`` is what ``county-hall serve`` runs: the application behind the
front door (hall/api/front_door.py: health answered and hopeless requests shed before
FastAPI's own middleware stack), then the heartbeat's fast path (hall/api/heartbeat_fast_path.py:
``POST /api/v1/heartbeat`` answered there, many kiosks to a transaction by the process's
heartbeat writer thread), then the upload's (hall/api/upload_fast_path.py: its create and
chunk requests, each in one thread-pool trip on one connection). Any other request then
meets, in order: the streaming body limit (hall/api/body_limit.py: 413 before the body
is buffered, slow bodies cut off), admission (hall/api/admission.py: a bounded number in
flight per kind, else a fast 503), the read mode (GET/HEAD read SQLite without the write
lock), then FastAPI's routes. The server also runs a cleanup pass of
abandoned uploads every ``cleanup_interval_s`` on a ``workers.BackgroundLoop``, and reloads
the enrolled device ids the door and admission sort signed requests by
(hall/api/known_devices.py) on another.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from hall.api.admission import AdmissionMiddleware, gate_for
from hall.api.answer_signing import AnswerSigning
from hall.api.body_limit import BodyLimitMiddleware, BodyReader
from hall.api.errors import install_error_handlers
from hall.api.front_door import FrontDoor
from hall.api.heartbeat_fast_path import HeartbeatFastPath
from hall.api.known_devices import KnownDevices
from hall.api.main import api_router
from hall.api.read_mode import ReadModeMiddleware
from hall.api.upload_fast_path import UploadFastPath
from hall.console.auth import LoginRequired
from hall.console.error_page import install_console_error_page
from hall.console.figures_routes import router as figures_console_router
from hall.console.fleet_routes import router as fleet_console_router
from hall.console.routes import router as console_router
from hall.core.config import Settings, load_settings
from hall.core.keys import load_or_create_keys
from hall.core.secrets_store import console_secret
from hall.db import make_engine, make_sessionmaker
from hall.services.catalog import load_hall_catalog
from hall.services.nonce_book import NonceBook
from hall.timeutil import Clock, system_clock
from hall.tracking import router as tracking_router
from workers.loop import BackgroundLoop

log = logging.getLogger("hall.app")
# ``county-hall serve --workers N`` hands each worker process its settings through this
# variable (a JSON object of load_settings arguments), see ``app_from_environment``.
ENV_SERVE_SETTINGS = "COUNTY_HALL_SERVE_SETTINGS"
SWITCH_INTERVAL_S = 0.0005
# FastAPI's OpenTelemetry hooks, off: the hall exports no traces, and the check whether they
# are configured looked up environment variables on every request (~45 µs of the event
# loop per request, ~7 % of its time under the load mix of issue 9).
NO_TELEMETRY = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def _cleanup_loop(app: FastAPI) -> BackgroundLoop:
    from hall.services.uploads import cleanup_abandoned

    def one_pass() -> None:
        with app.state.sessionmaker() as db:
            done = cleanup_abandoned(db, app.state.settings, clock=app.state.clock)
        if done.uploads or done.stray_files:
            log.info("cleanup: %d abandoned uploads, %d stray files, %d bytes freed",
                     done.uploads, done.stray_files, done.bytes_freed)

    return BackgroundLoop("hall-upload-cleanup", one_pass, interval_s=app.state.settings.cleanup_interval_s,
                          lower_priority=True)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    loop = _cleanup_loop(app)
    app.state.cleanup_loop = loop
    known_loop = app.state.known_devices.loop()  # the enrolled ids the door and admission sort by
    app.state.known_devices_loop = known_loop
    loop.start()
    known_loop.start()
    try:
        yield
    finally:
        known_loop.stop()
        loop.stop()
        app.state.engine.dispose()


def create_app(settings: Settings, clock: Clock = system_clock) -> FastAPI:
    settings.ensure_dirs()
    engine = make_engine(settings.db_url, pool_size=settings.db_pool_size,
                         pool_timeout_s=settings.db_pool_timeout_s,
                         busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    app = FastAPI(title="Reference county sub-hall", version="0.1.0", docs_url=None, redoc_url=None,
                  lifespan=_lifespan, telemetry=NO_TELEMETRY)
    app.state.settings = settings
    app.state.clock = clock
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.nonce_book = NonceBook(app.state.sessionmaker, settings.max_skew_s,
                                     wait_s=settings.kiosk_wait_s)
    app.state.keys = load_or_create_keys(settings.keys_dir)
    app.state.console_secret = console_secret(settings.data_dir)
    app.state.catalog = load_hall_catalog()  # the kiosks' catalog, departments, working days
    app.state.gate = gate_for(settings)  # admission's places, also read by the front door
    app.state.body_reader = BodyReader(settings)  # the body limit's, also the heartbeat fast path's
    app.state.known_devices = KnownDevices(app.state.sessionmaker, settings.data_dir / "enrolments.stamp")

    install_error_handlers(app)
    install_console_error_page(app)  # a page, not JSON, for a console 403 / 404
    app.add_middleware(AnswerSigning, key=app.state.keys.sign_private)  # protocol 5.1: signed answers

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse("/console/login", status_code=303)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=303)

    app.include_router(api_router)
    app.include_router(console_router)
    app.include_router(fleet_console_router)
    app.include_router(figures_console_router)
    app.include_router(tracking_router)
    app.mount("/console/static", StaticFiles(directory=Path(__file__).parent / "console" / "static"),
              name="console-static")
    # The last added runs first: body limit, then admission, then the read mode.
    app.add_middleware(ReadModeMiddleware)
    app.add_middleware(AdmissionMiddleware, settings=settings, gate=app.state.gate,
                       known=app.state.known_devices)
    app.add_middleware(BodyLimitMiddleware, settings=settings, reader=app.state.body_reader)
    return app


def serve_app(settings: Settings, clock: Clock = system_clock) -> FrontDoor:
    """The application as served: ``create_app`` behind the front door."""
    app = create_app(settings, clock)
    return FrontDoor(UploadFastPath(HeartbeatFastPath(app)), app.state.gate, settings.retry_after_s,
                     app.state.known_devices)


def app_from_environment() -> FrontDoor:
    """The app of one ``uvicorn`` worker process (``county-hall serve --workers N``)."""
    import json
    import sys

    # A thread that comes back from SQLite or the network waits for the GIL up to the switch
    # interval (5 ms by default) while the event loop's thread computes; a write transaction
    # makes ~8 such calls holding SQLite's one write lock, so every writer queued behind
    # 40 ms of GIL waits. A shorter interval hands the GIL back sooner (issue 9, "Load").
    sys.setswitchinterval(SWITCH_INTERVAL_S)

    arguments = json.loads(os.environ.get(ENV_SERVE_SETTINGS, "{}"))
    app = serve_app(load_settings(**arguments))
    freeze_heap()
    return app


def freeze_heap() -> None:
    """Leave what the worker has built so far (modules, the app, its models: ~200,000 objects)
    out of the garbage collector's full passes. Every beat's rows live until their flush and so
    reach the oldest generation; a full pass then came every few thousand beats and walked all of
    it (~90 ms of the event loop, ≈ 6–10 µs a beat in heartbeat_protocol_cpu.py, issue 11
    "Speed"). Objects made later are collected as before; a frozen one is still freed by its
    reference count, only a cycle among them would outlive it (they live as long as the worker)."""
    gc.freeze()
