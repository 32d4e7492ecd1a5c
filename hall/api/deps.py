"""``Annotated`` dependencies of the API: settings, keys, a DB session, the signed device.

Every trip of a request to the thread pool and back waits its turn on the one event loop
of the worker, behind every other request's work; under a flood that wait, not the
work, made the signed p99. A signed route with a plain ``def`` took six trips (the
session's opening and closing, the signature check, the route, the answer's validation).
So: ``DbDep`` is opened and closed on the loop (a session holds no connection until it is
used; one still in a transaction is closed on the pool), and the hot signed routes take
``SignedDep`` and do their whole database part in ONE trip::

    @router.get(...)
    async def route(signed: SignedDep) -> dict:
        return await signed.run(lambda device, db: service(db, device))

``signed.run`` opens a session, checks the signature (device, skew, signature,
revocation, nonce), runs the work and closes the session, all in one thread-pool call.
``DeviceDep`` (a sync check, then a sync route) remains for the colder routes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from hall.core.config import Settings
from hall.core.keys import HallKeys
from hall.db import lazy_commit, sqlite_begin
from hall.errors import TooLarge
from hall.models import Device
from hall.services.signatures import authenticate, device_row
from hall.timeutil import Clock


# ``async def``: FastAPI runs a plain ``def`` dependency on the thread pool, and each trip
# there and back waits its turn on a busy event loop (a signed request made six such trips).
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_keys(request: Request) -> HallKeys:
    return request.app.state.keys


async def get_clock(request: Request) -> Clock:
    return request.app.state.clock


async def get_db(request: Request) -> AsyncIterator[Session]:
    session: Session = request.app.state.sessionmaker()  # no connection until it is used
    try:
        yield session
    finally:
        if session.in_transaction():  # it holds a connection: the rollback may wait on the database
            await run_in_threadpool(session.close)
        else:
            session.close()


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


def _check(request: Request, body: bytes, db: Session, clock: Clock, settings: Settings,
           load_device: Callable[[Session, str], Device | None] | None = None) -> Device:
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else request.url.path
    # The check only reads (DEFERRED: it never waits for SQLite's write lock) and ends its
    # read before the nonce book writes this request's nonce with others' in one
    # transaction, which need not wait for the disk (see hall.db.lazy_commit for why).
    # A read has nothing to make durable: lazy like the writes that follow, so that the
    # connection keeps one setting (hall.db sets it only when it changes).
    with sqlite_begin("DEFERRED"), lazy_commit():
        return authenticate(
            db, request.headers, request.method, path, request.query_params.multi_items(), body,
            record_nonce=request.app.state.nonce_book.record, clock=clock, max_skew_s=settings.max_skew_s,
            load_device=load_device,
        )


def signed_device(request: Request, body: BodyDep, db: DbDep, clock: ClockDep,
                  settings: SettingsDep) -> Device:
    return _check(request, body, db, clock, settings)


DeviceDep = Annotated[Device, Depends(signed_device)]

T = TypeVar("T")


class SignedRequest:
    """A signed request whose check and database work run in one thread-pool trip."""

    def __init__(self, request: Request, body: bytes, settings: Settings, clock: Clock) -> None:
        self.request = request
        self.body = body
        self.settings = settings
        self.clock = clock
        self._sessions: sessionmaker[Session] = request.app.state.sessionmaker

    async def run(self, work: Callable[[Device, Session], T], detached: bool = False) -> T:
        """``work(device, db)`` after the signature check, on the thread pool; the session
        is closed before the answer goes back to the loop (``work`` commits what it writes).
        ``detached``: ``device`` is read without the ORM (cheaper) and is not in the session,
        for work that only reads its id, county, key and revocation."""
        return await run_in_threadpool(self._run, work, device_row if detached else None)

    def _run(self, work: Callable[[Device, Session], T],
             load_device: Callable[[Session, str], Device | None] | None) -> T:
        with self._sessions() as db:
            device = _check(self.request, self.body, db, self.clock, self.settings, load_device)
            return work(device, db)


async def signed_request(request: Request, body: BodyDep, settings: SettingsDep,
                         clock: ClockDep) -> SignedRequest:
    return SignedRequest(request, body, settings, clock)


SignedDep = Annotated[SignedRequest, Depends(signed_request)]
