"""``Annotated`` dependencies of the API: settings, keys, a DB session, the signed device."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from hall.core.config import Settings
from hall.core.keys import HallKeys
from hall.db import lazy_commit, sqlite_begin
from hall.errors import TooLarge
from hall.models import Device
from hall.services.signatures import authenticate
from hall.timeutil import Clock


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_keys(request: Request) -> HallKeys:
    return request.app.state.keys


def get_clock(request: Request) -> Clock:
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
    # The check records the nonce: a write, even on a GET, so it takes the lock up front;
    # and it need not wait for the disk (see hall.db.lazy_commit for why that is safe).
    with sqlite_begin("IMMEDIATE"), lazy_commit():
        try:
            return authenticate(
                db, request.headers, request.method, path, request.query_params.multi_items(), body,
                clock=clock, max_skew_s=settings.max_skew_s,
            )
        except BaseException:
            # A refused request must not keep SQLite's write lock until the session closes
            # (after the answer is sent): forged-signature floods would serialise on it.
            db.rollback()
            raise


DeviceDep = Annotated[Device, Depends(signed_device)]
