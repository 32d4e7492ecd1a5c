"""What each command kind does on the kiosk: one function per kind in ``ACTIONS``.

An action gets the agent's ``Kit`` (the queue, the persisted state, callbacks into the
running app) and the command's checked arguments, and returns an ``Outcome`` that the
agent acknowledges. An action that cannot be done says so (``failed`` + reason); it
never raises for an expected condition.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.agent.state import AgentState
from offline_queue.outbox import OfflineQueue
from offline_queue.store import HALL_STATES

log = logging.getLogger(__name__)

DONE, FAILED, REFUSED = "done", "failed", "refused"
MAX_LISTED = 200  # provisional numbers listed in a wipe's result


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str = ""
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class Kit:
    """What actions may touch. Callbacks are None when nothing can do that (the CLI has no UI)."""

    data_dir: Path
    queue: OfflineQueue
    state: AgentState
    health: Callable[[], dict[str, Any]]  # fresh probes of every device (self_test)
    emit: Callable[[str, dict[str, Any]], None]
    sync_now: Callable[[], None] | None = None
    # Done by the agent itself (they need its hall client and identity): each returns the Outcome.
    rotate_keys: Callable[[], Outcome] | None = None
    upload_diagnostics: Callable[[], Outcome] | None = None


def lock(kit: Kit, args: dict[str, Any]) -> Outcome:
    kit.state.locked, kit.state.notice = True, str(args.get("notice", ""))
    kit.state.save(kit.data_dir)
    kit.emit("locked", {"notice": kit.state.notice})
    return Outcome(DONE, result={"locked": True})


def unlock(kit: Kit, args: dict[str, Any]) -> Outcome:
    kit.state.locked, kit.state.notice = False, ""
    kit.state.save(kit.data_dir)
    kit.emit("unlocked", {})
    return Outcome(DONE, result={"locked": False})


def sync_now(kit: Kit, args: dict[str, Any]) -> Outcome:
    if kit.sync_now is None:
        return Outcome(FAILED, "no_sync_worker")
    kit.sync_now()
    return Outcome(DONE, result={"sync": "started"})


def self_test(kit: Kit, args: dict[str, Any]) -> Outcome:
    report = kit.health()
    return Outcome(DONE, result={"health": report})


def reload_config(kit: Kit, args: dict[str, Any]) -> Outcome:
    # Settings are built once; the running app rebuilds them when it hears this event.
    kit.emit("reload_config", {})
    return Outcome(DONE, result={"reload": "requested"})


def restart(kit: Kit, args: dict[str, Any]) -> Outcome:
    # The app stops with RESTART_EXIT_CODE and its service manager starts it again (the
    # agent only runs this when no villager is at the kiosk, inside the maintenance window).
    kit.emit("restart", {})
    return Outcome(DONE, result={"restart": "requested"})


def wipe(kit: Kit, args: dict[str, Any]) -> Outcome:
    """Delete sealed copies through ``purge()`` (audited in the outbox); applications the hall
    has not accepted yet are kept unless ``force``: they exist nowhere else."""
    force = bool(args.get("force", False))
    removed: list[str] = []
    kept = 0
    for entry in kit.queue.entries():
        if entry.state not in HALL_STATES and not force:
            kept += 1
            continue
        if kit.queue.purge(entry.id, "wipe"):
            removed.append(entry.provisional_number)
    freed = sum(p.bytes_freed for p in kit.queue.purges() if p.reason == "wipe")
    result = {"removed": len(removed), "kept_not_accepted": kept, "bytes_freed": freed,
              "provisional_numbers": removed[:MAX_LISTED], "force": force}
    log.warning("wipe from the hall: %d sealed entries removed, %d kept", len(removed), kept)
    kit.emit("wiped", {"removed": len(removed), "kept": kept})
    return Outcome(DONE, "kept_not_accepted" if kept else "", result)


def rotate_keys(kit: Kit, args: dict[str, Any]) -> Outcome:
    if kit.rotate_keys is None:
        return Outcome(FAILED, "not_supported")
    return kit.rotate_keys()


def upload_diagnostics(kit: Kit, args: dict[str, Any]) -> Outcome:
    if kit.upload_diagnostics is None:
        return Outcome(FAILED, "not_supported")
    return kit.upload_diagnostics()


ACTIONS: dict[str, Callable[[Kit, dict[str, Any]], Outcome]] = {
    "lock": lock, "unlock": unlock, "sync_now": sync_now, "self_test": self_test,
    "reload_config": reload_config, "restart": restart, "wipe": wipe,
    "rotate_keys": rotate_keys, "upload_diagnostics": upload_diagnostics,
}
