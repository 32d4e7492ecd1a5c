"""The fleet generation: one number that every write a heartbeat answer depends on adds one to.

The heartbeat writer (hall/services/heartbeat_writer.py) answers from a process-local cache
of each kiosk's key and revocation, its pending commands, its assigned configuration and the
releases' stages. Each batch of heartbeats reads this one row first (one indexed read per
batch, not per beat) and drops the cache when the number changed, so a write in any hall
process, the console or the CLI is seen by every process's next batch.

The number is added to by a ``before_flush`` hook on the hall's sessions
(``hall.db.make_sessionmaker`` installs it): any ORM write of a ``Device`` (enrolment,
revocation, key rotation), a ``DeviceCommand`` (issue, acknowledgement), a ``DeviceConfig``
or ``ConfigVersion`` (push) or a ``Release`` (publish, stage) bumps it in the same
transaction, so the change and the bump commit together. Writes made with Core statements
outside the ORM do not bump it; the ones that exist need not: the heartbeat writer's own
delivery and expiry marks (it updates its cache itself), the console's bulk expiry of
overdue commands (the cache checks ``not_after`` itself) and ``last_seen``.

A commit that bumped it also tells this process's caches at once (``on_commit``): the heartbeat
writer answers plain beats from its cache only while the generation is freshly read, and a
change made by this very process (the console's) then holds at the next beat, not up to the
freshness window later. Other processes see it by reading the number.
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from hall.models import ConfigVersion, Device, DeviceCommand, DeviceConfig, FleetGeneration, Release

WATCHED = (Device, DeviceCommand, DeviceConfig, ConfigVersion, Release)
_TABLE = FleetGeneration.__table__
_READ = select(_TABLE.c.value).where(_TABLE.c.id == 1)
_BUMP = update(_TABLE).where(_TABLE.c.id == 1).values(value=_TABLE.c.value + 1)


def read(connection: Connection) -> int:
    """The current number (-1 when the row is missing)."""
    value = connection.execute(_READ).scalar()
    return -1 if value is None else int(value)


def bump(connection: Connection) -> None:
    connection.execute(_BUMP)


_BUMPED = "fleet_generation_bumped"
_listeners: weakref.WeakSet[Any] = weakref.WeakSet()  # objects with a ``changed()`` method


def on_commit(listener: Any) -> None:
    """``listener.changed()`` runs after each commit in this process that bumped the number
    (kept weakly: a listener gone is forgotten)."""
    _listeners.add(listener)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for objects in (session.new, session.dirty, session.deleted):
        if any(isinstance(obj, WATCHED) for obj in objects):
            bump(session.connection())
            session.info[_BUMPED] = True
            return


def _after_commit(session: Session) -> None:
    if session.info.pop(_BUMPED, False):
        for listener in list(_listeners):
            listener.changed()


def _after_rollback(session: Session) -> None:
    session.info.pop(_BUMPED, None)


def install(sessions: sessionmaker[Session]) -> None:
    """Bump the generation in every flush of these sessions that writes a watched row."""
    event.listen(sessions, "before_flush", _before_flush)
    event.listen(sessions, "after_commit", _after_commit)
    event.listen(sessions, "after_rollback", _after_rollback)
