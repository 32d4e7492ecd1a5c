"""Every non-2xx answer is ``{"error": CODE, "detail": TEXT}``.

Every 429 and 5xx but 500 carries ``Retry-After`` (the kiosk waits at least that long).
A database that is busy — no pooled connection free within the pool timeout, a SQLite
lock not granted within busy_timeout, PostgreSQL refusing connections — is ``503 busy``,
never a 500: it is load, not a bug, and the kiosk retries it.
"""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from hall.errors import HallError

log = logging.getLogger("hall.api")

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
               429: "too_many_requests", 503: "busy"}
DEFAULT_RETRY_AFTER_S = 2


# JSON as Starlette's JSONResponse renders it (compact, UTF-8), for the answers written without
# it (the fast paths); one encoder made once: ``json.dumps`` with options builds one per call.
encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def error_body(code: str, detail: str) -> bytes:
    """The body of every error answer, whoever writes it: FastAPI's handlers below, the
    middlewares and the front door (hall/api/body_limit.py ``error_answer``), the heartbeat's
    fast path. Compact UTF-8, as Starlette's JSONResponse renders."""
    return encode_json({"error": code, "detail": detail}).encode()


def error_response(status: int, code: str, detail: str, headers: dict | None = None,
                   retry_after: int | None = None) -> Response:
    headers = dict(headers or {})
    if (status == 429 or status > 500) and not any(k.lower() == "retry-after" for k in headers):
        headers["Retry-After"] = str(retry_after or DEFAULT_RETRY_AFTER_S)
    return Response(error_body(code, detail), status_code=status, headers=headers,
                    media_type="application/json")


def _retry_after(request: Request) -> int:
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "retry_after_s", DEFAULT_RETRY_AFTER_S)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HallError)
    async def _hall_error(request: Request, exc: HallError) -> Response:
        log.info("%s %s -> %s %s", request.method, request.url.path, exc.status, exc.code)
        retry_after = getattr(exc, "retry_after", None) or _retry_after(request)
        return error_response(exc.status, exc.code, exc.detail, retry_after=retry_after)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    @app.exception_handler(DisconnectionError)
    async def _database_busy(request: Request, exc: Exception) -> Response:
        # The type only: a driver's message can quote the statement's parameters.
        log.warning("database busy (%s) on %s %s", type(exc).__name__, request.method, request.url.path)
        return error_response(503, "busy", "the hall is busy; try again later",
                              retry_after=_retry_after(request))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        detail = "invalid request"
        if errors:
            where = ".".join(str(part) for part in errors[0].get("loc", ()))
            detail = f"{where}: {errors[0].get('msg', 'invalid')}"
        return error_response(422, "invalid_request", detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "server_error" if exc.status_code >= 500 else "http_error")
        return error_response(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None),
                              retry_after=_retry_after(request))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return error_response(500, "internal_error", "the hall failed; try again later")
