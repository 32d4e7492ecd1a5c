"""``Annotated`` dependencies of the API: settings, keys, a DB session, the signed device."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from hall.core.config import Settings
from hall.core.keys import HallKeys
from hall.db import sqlite_begin
from hall.errors import TooLarge
from hall.models import Device
from hall.services.signatures import authenticate
from hall.timeutil import Clock


# ``async def``: FastAPI runs a plain ``def`` dependency on the thread pool, and each trip
# there and back waits its turn on a busy event loop (a signed request made six such trips).
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_keys(request: Request) -> HallKeys:
    return request.app.state.keys


async def get_clock(request: Request) -> Clock:
    return request.app.state.clock


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.sessionmaker() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
KeysDep = Annotated[HallKeys, Depends(get_keys)]
ClockDep = Annotated[Clock, Depends(get_clock)]
DbDep = Annotated[Session, Depends(get_db)]


async def raw_body(request: Request) -> bytes:
    """The exact body bytes (the signature covers their SHA-256), bounded in size.

    The bound is enforced while the body arrives, by hall/api/body_limit.py; this check
    only keeps the route honest should it ever be mounted without that middleware."""
    settings: Settings = request.app.state.settings
    limit = max(settings.max_chunk_bytes, settings.max_json_bytes)
    body = await request.body()
    if len(body) > limit:
        raise TooLarge(f"body larger than {limit} bytes")
    return body


BodyDep = Annotated[bytes, Depends(raw_body)]


def signed_device(request: Request, body: BodyDep, db: DbDep, clock: ClockDep,
                  settings: SettingsDep) -> Device:
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else request.url.path
    # The check only reads (DEFERRED: it never waits for SQLite's write lock) and ends its
    # read before the nonce book writes this request's nonce with others' in one
    # transaction, which need not wait for the disk (see hall.db.lazy_commit for why).
    with sqlite_begin("DEFERRED"):
        return authenticate(
            db, request.headers, request.method, path, request.query_params.multi_items(), body,
            record_nonce=request.app.state.nonce_book.record, clock=clock, max_skew_s=settings.max_skew_s,
        )


DeviceDep = Annotated[Device, Depends(signed_device)]
