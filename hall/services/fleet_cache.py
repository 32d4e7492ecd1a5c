"""What a heartbeat answer is made of, cached in the process, valid for one fleet generation.

Per kiosk: its id, county, pinned key and revocation (the signature check), its pending
commands and its assigned configuration version; for the fleet: the releases' stages and
the signed manifests offered. The heartbeat writer (hall/services/heartbeat_writer.py)
calls ``refresh`` at the start of each batch's transaction: one read of the fleet
generation (hall/services/fleet_generation.py), and when it has changed the whole cache is
dropped; then the kiosks of the batch not in the cache are read, three statements for all
of them. So a revocation, a key rotation, a command or a configuration pushed anywhere is
seen by the next batch that begins after it committed, in every hall process.

Only the writer's thread changes a cache (no lock). It updates its own entries when its batch
marks commands delivered or expired; when a batch's transaction fails, ``clear`` drops
everything, since the marks it made in the cache were not committed. The fast path's event
loop reads it too (a plain beat, ``delivers_nothing``): ``epoch`` is odd while ``refresh`` or
``clear`` runs and moves with each, so a reader that saw the same even epoch before and after
its reads read one generation's entries (a seqlock; CPython's dict reads are atomic).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Row
from sqlalchemy.engine import Connection

from hall.services import commands, configs, fleet_generation, releases
from hall.services.signatures import KnownDevice, devices_of_many

MAX_KIOSKS = 200_000  # far above a province's fleet; a bound on memory whatever ids arrive


@dataclass
class PendingCommand:
    id: str
    not_after: datetime
    delivered: bool
    delivery: dict[str, Any]  # the signed document as the answer carries it


@dataclass
class KioskEntry:
    device: KnownDevice  # id, county, public_key, revoked
    commands: list[PendingCommand] = field(default_factory=list)
    config: Row | None = None  # the assigned configuration version (id, settings_json, created_at)
    config_delivery: dict[str, Any] | None = None  # signed for this kiosk, made at first need


class FleetCache:
    def __init__(self, sign_key: Ed25519PrivateKey) -> None:
        self._sign_key = sign_key
        self.generation: int | None = None
        self.kiosks: dict[str, KioskEntry] = {}
        self._stages: list[tuple[Row, frozenset[str]]] | None = None
        self._manifests: dict[str, dict | None] = {}
        self.reloads = 0  # generations seen change, for tests and logs
        self.epoch = 0  # odd while the writer changes the cache (module docstring)
        # ``time.monotonic()`` when ``generation`` was last known to be the database's (read, or
        # held by a guarded write): a plain beat is answered from the cache only shortly after.
        self.confirmed_at = float("-inf")
        self.changed_at = float("-inf")  # a commit of this process bumped the generation then
        fleet_generation.on_commit(self)

    def clear(self) -> None:
        self.epoch += 1
        self._clear()
        self.epoch += 1

    def changed(self) -> None:
        """This process committed a fleet change: the generation held is no longer known fresh
        (a read begun before this moment confirms nothing: ``fresh``)."""
        self.changed_at = time.monotonic()

    def fresh(self, now: float, within: float) -> bool:
        """Whether the generation held was read (after this process's last change) within ``within`` s."""
        confirmed = self.confirmed_at
        return confirmed > self.changed_at and now - confirmed <= within

    def confirm(self, stamp: float) -> None:
        """The generation was the database's at ``stamp`` (``time.monotonic()`` taken before the
        transaction that read it or whose guarded write held on it)."""
        self.confirmed_at = max(self.confirmed_at, stamp)

    def _clear(self) -> None:
        self.generation = None
        self.confirmed_at = float("-inf")
        self.kiosks.clear()
        self._stages = None
        self._manifests.clear()

    def refresh(self, connection: Connection, device_ids: set[str], generation: int | None = None) -> None:
        """At the start of a batch, in its transaction: drop everything if the generation
        changed, then read the kiosks of the batch that are not cached. ``generation``: read
        already by the caller (the heartbeat writer's own statement), else read here."""
        self.epoch += 1
        try:
            self._refresh(connection, device_ids, generation)
        finally:
            self.epoch += 1

    def _refresh(self, connection: Connection, device_ids: set[str], generation: int | None) -> None:
        if generation is None:
            generation = fleet_generation.read(connection)
        # A missing row (-1: a database restored from before migration 0012 and not migrated)
        # could never announce a change: then nothing is kept from one batch to the next.
        if generation < 0 or generation != self.generation or len(self.kiosks) > MAX_KIOSKS:
            self._clear()
            self.generation = generation
            self.reloads += 1
        if self._stages is None:
            self._stages = releases.stages(connection)
        missing = sorted(device_id for device_id in device_ids if device_id not in self.kiosks)
        if not missing:
            return
        devices = devices_of_many(connection, missing)  # an unknown id stays missing: never cached
        if not devices:
            return
        known = sorted(devices)
        pending = commands.pending_of_many(connection, known)
        assigned = configs.assigned_of_many(connection, known)
        for device_id in known:
            self.kiosks[device_id] = KioskEntry(
                devices[device_id],
                [PendingCommand(row.id, row.not_after, row.delivered_at is not None,
                                commands.delivery_json(row)) for row in pending[device_id]],
                assigned.get(device_id))

    def device(self, device_id: str) -> KnownDevice | None:
        entry = self.kiosks.get(device_id)
        return None if entry is None else entry.device

    def config_for(self, device_id: str, reported: int) -> dict | None:
        """The signed configuration to send, or None when the kiosk runs the assigned one."""
        entry = self.kiosks[device_id]
        if entry.config is None or entry.config.id <= reported:
            return None
        if entry.config_delivery is None:
            entry.config_delivery = configs.signed_delivery(self._sign_key, device_id, entry.config)
        return entry.config_delivery

    def release_for(self, connection: Connection, device_id: str, running: str) -> dict | None:
        """The signed manifest of the release this kiosk should run, when it runs another."""
        offered = releases.offer_among(self._stages or [], device_id, running)
        if offered is None or offered == running:
            return None
        if offered not in self._manifests:
            self._manifests[offered] = releases.delivery_of(connection, offered)
        return self._manifests[offered]

    def delivers_nothing(self, device_id: str, config_version: int, running: str) -> bool:
        """As cached: no command to deliver or expire, no configuration and no release to send
        to this kiosk — its answer records nothing (the heartbeat writer's plain beat)."""
        entry = self.kiosks[device_id]
        if entry.commands or (entry.config is not None and entry.config.id > config_version):
            return False
        offered = releases.offer_among(self._stages or [], device_id, running)
        return offered is None or offered == running

    def commands_for(self, device_id: str, now: datetime, expired: list[str],
                     delivered: list[str]) -> list[dict]:
        """The commands to deliver now; appends the ids to mark expired and delivered (the
        caller writes both in the batch's transaction) and updates the cache to match."""
        entry = self.kiosks[device_id]
        if not entry.commands:
            return []
        due = []
        for command in entry.commands:
            if command.not_after < now:
                expired.append(command.id)
                continue
            due.append(command)
            if not command.delivered:
                delivered.append(command.id)
                command.delivered = True
        entry.commands = due
        return [command.delivery for command in due]
