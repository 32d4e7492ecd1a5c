"""The device ids this process knows to be enrolled (and not revoked), for sorting requests.

A request that carries the four signature headers was counted as a kiosk's
(hall/api/admission.py ``request_kind``) until its signature check failed: a flood that
forged the headers took the kiosks' places and their priority over everyone else. Whether
the id names an enrolled key needs the database, which the front door must not touch. So
each process keeps the set of enrolled ids, reloaded on a ``workers.BackgroundLoop`` every
``RELOAD_S`` and, at most every ``MISS_RELOAD_S``, soon after a request names an id outside
it; such a request counts as anonymous (``public``: the smallest budget, shed first under a
flood) instead of ``kiosk``.

A kiosk enrolled a moment ago is not such an id: each enrolment appends a byte to a stamp
file in the data dir the workers share, and while the stamp differs from the one seen at
the last load, an id outside the set is given the benefit of the doubt (until the reload
its miss asked for). Behind several machines (docs/operations.md, "Several hall
processes behind nginx") another machine does not see the stamp: there a new kiosk is
served at the lower priority until the reload, about a second (if shed, it is told when
to come back, as any kiosk), never turned away. Until the first reload (or in an app run without its
lifespan) every id is taken as known, as before.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hall.db import sqlite_begin
from hall.models import Device
from workers.loop import BackgroundLoop

RELOAD_S = 10.0
MISS_RELOAD_S = 1.0  # a flood of made-up ids costs at most one reload (one indexed read) per second


class KnownDevices:
    """``KnownDevices(sessions, stamp)``: ``stamp`` is the file enrolments append to."""

    def __init__(self, sessions: sessionmaker[Session], stamp: Path) -> None:
        self._sessions = sessions
        self._stamp = stamp
        self.ids: frozenset[bytes] | None = None  # None: not loaded yet, every id counts as known
        self._loaded_stamp: int | None = None  # the stamp's size when ``ids`` was read
        self._loop: BackgroundLoop | None = None
        self._next_wake = 0.0

    def knows(self, device_id: bytes) -> bool:
        """``device_id`` as the request's header bytes. A miss asks for a reload soon, and is
        taken as known while an enrolment newer than the set may have added it."""
        ids = self.ids
        if ids is None or device_id in ids:
            return True
        now = time.monotonic()
        if self._loop is not None and now >= self._next_wake:
            self._next_wake = now + MISS_RELOAD_S
            self._loop.wake()
        return self._stamp_size() != self._loaded_stamp

    def enrolled(self, device_id: str) -> None:
        """After an enrolment has committed: known in this process at once, and in the others
        of this data dir by the stamp."""
        with open(self._stamp, "ab") as stamp:
            stamp.write(b".")
        ids = self.ids
        if ids is not None:
            self.ids = ids | {device_id.encode("latin-1")}

    def reload(self) -> None:
        stamp = self._stamp_size()  # before the read: an enrolment during it changes the stamp again
        with self._sessions() as db, sqlite_begin("DEFERRED"):  # a read: never the write lock
            ids = db.scalars(select(Device.id).where(Device.revoked.is_(False))).all()
        self.ids = frozenset(device_id.encode("latin-1") for device_id in ids)
        self._loaded_stamp = stamp

    def loop(self, interval_s: float = RELOAD_S) -> BackgroundLoop:
        """The reloading loop (its owner starts and stops it)."""
        self._loop = BackgroundLoop("hall-known-devices", self.reload, interval_s=interval_s,
                                    lower_priority=True)
        return self._loop

    def _stamp_size(self) -> int | None:
        try:
            return os.stat(self._stamp).st_size
        except OSError:
            return None
