"""The FastAPI application factory: ``create_app(settings)``.

Migrations are not run here (``county-hall serve`` and ``migrate`` run them first).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from hall.api.errors import install_error_handlers
from hall.api.main import api_router
from hall.console.auth import LoginRequired
from hall.console.fleet_routes import router as fleet_console_router
from hall.console.routes import router as console_router
from hall.core.config import Settings
from hall.core.keys import load_or_create_keys
from hall.core.secrets_store import console_secret
from hall.db import make_engine, make_sessionmaker
from hall.timeutil import Clock, system_clock
from hall.tracking import router as tracking_router


def create_app(settings: Settings, clock: Clock = system_clock) -> FastAPI:
    settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    app = FastAPI(title="Reference county sub-hall", version="0.1.0", docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.clock = clock
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.keys = load_or_create_keys(settings.keys_dir)
    app.state.console_secret = console_secret(settings.data_dir)

    install_error_handlers(app)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse("/console/login", status_code=303)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=303)

    app.include_router(api_router)
    app.include_router(console_router)
    app.include_router(fleet_console_router)
    app.include_router(tracking_router)
    app.mount("/console/static", StaticFiles(directory=Path(__file__).parent / "console" / "static"),
              name="console-static")
    return app
