"""Building a ``DeviceAgent`` from the settings: for ``kiosk agent`` and for the running app."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kiosk.agent.agent import DeviceAgent
from kiosk.settings import Settings
from offline_queue.identity import DeviceIdentity
from offline_queue.outbox import OfflineQueue
from offline_queue.transport import HallClient


def device_health(settings: Settings, **own_devices: Any) -> dict[str, Any]:
    from hardware.health import check_devices

    return check_devices(settings.devices, **own_devices).to_json()


class HealthCache:
    """The running app's device health: probed at most every ``max_age_s`` and by each
    self_test, not at every beat: a probe talks to devices a villager may be using."""

    def __init__(self, probe: Callable[[], dict[str, Any]], max_age_s: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._probe = probe
        self._max_age_s = max_age_s
        self._clock = clock
        self._last: dict[str, Any] | None = None
        self._at = 0.0

    def latest(self) -> dict[str, Any]:
        if self._last is None or self._clock() - self._at > self._max_age_s:
            return self.probe()
        return self._last

    def probe(self) -> dict[str, Any]:
        self._last, self._at = self._probe(), self._clock()
        return self._last


def build_agent(settings: Settings, identity: DeviceIdentity, queue: OfflineQueue, *,
                clock: Callable[[], float] = time.time, **hooks: Any) -> DeviceAgent:
    """``hooks``: ``health``, ``self_test``, ``emit``, ``sync_now``, ``is_idle`` (see ``DeviceAgent``)."""
    hooks.setdefault("health", lambda: device_health(settings))
    client = HallClient(identity, timeout_s=settings.hall.timeout_s, clock=clock)
    return DeviceAgent(identity, client, queue, settings.data_dir,
                       maintenance_window=settings.kiosk.maintenance_window, clock=clock, **hooks)


def start_agent(settings: Settings, service: Any) -> DeviceAgent | None:
    """The agent of the running app, started: it wakes the app's sync worker, asks its session
    keeper whether a villager is at the kiosk, and tells the presenter as ``fleet`` events."""
    if service.identity is None:
        return None
    worker = service.sync_worker
    health = HealthCache(lambda: device_health(settings, id_reader=service.id_reader, camera=service.camera))
    agent = build_agent(
        settings, service.identity, service.queue, clock=service.clock,
        health=health.latest, self_test=health.probe,
        emit=lambda what, payload: service.emit("fleet", what=what, payload=payload),
        sync_now=worker.wake if worker is not None else None,
        is_idle=lambda: service.keeper.current is None,
    )
    agent.start()
    return agent
