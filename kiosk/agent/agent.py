"""``DeviceAgent``: one heartbeat to the hall, and the commands its answer carries.

    agent = DeviceAgent(identity, client, queue, data_dir, health=…, emit=…)
    agent.beat()                 # one heartbeat: report, check and carry out commands, ack
    agent.start(); agent.stop()  # the same on a BackgroundLoop, at the interval the hall sets

A beat first re-sends acknowledgements a previous beat could not deliver, then reports
(device health, queue depth and oldest unsent age, free disk, versions, configuration
version, uptime, lock state, problems) and handles each delivered command: checked by
``kiosk.agent.checks``, refused with a reason, or carried out by ``kiosk.agent.actions``
and remembered (so it never runs twice) before it is acknowledged. Disruptive kinds
(restart, wipe, rotate_keys) wait, unacknowledged, until no villager is at the kiosk and
the clock is inside ``kiosk.maintenance_window``; the hall delivers them again meanwhile.

A configuration in the answer is checked and kept by ``kiosk.agent.config`` (the next
heartbeat reports its version, or why it was refused).

``rotate_keys`` (``kiosk.agent.keys``) switches the agent to the new key at once (the ack
goes out signed with it) and asks for a restart, so every other part of the app reloads
the identity. ``upload_diagnostics`` (``kiosk.agent.diagnostics``) sends masked logs, the
device report and a queue summary, sealed to the hall.

Events (``emit(what, payload)``, on the agent's thread): ``locked`` {notice}, ``unlocked``,
``wiped``, ``restart``, ``reload_config``, ``config_applied`` {version}. Syncing is not
touched by a lock. A beat that carried out a restart (or a key rotation) says so in
``BeatReport.restart``: ``kiosk agent`` then exits with ``RESTART_EXIT_CODE``.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.agent.actions import ACTIONS, DONE, FAILED, REFUSED, Kit, Outcome
from kiosk.agent.checks import REPLAYED, Command, Refusal, check_delivery
from kiosk.agent.config import ConfigRefused, applied_version, check_config, save_config
from kiosk.agent.diagnostics import collect, sealed_diagnostics
from kiosk.agent.documents import DISRUPTIVE_KINDS
from kiosk.agent.keys import rotate, settle_rotation
from kiosk.agent.state import AgentState
from kiosk.updates.download import DownloadCorrupt, download_release
from kiosk.updates.manifest import BadManifest, verify_manifest
from kiosk.updates.slots import RELEASE_ENV, InstallFailed, SlotState, install, mark_healthy, releases_dir
from offline_queue.errors import HallError, HallRejected
from offline_queue.identity import DeviceIdentity
from offline_queue.outbox import OfflineQueue
from offline_queue.sync import in_quiet_hours
from offline_queue.transport import HallClient
from workers.loop import BackgroundLoop

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 60.0
MIN_INTERVAL_S, MAX_INTERVAL_S = 5.0, 3600.0  # whatever the hall says: a hostile answer cannot stop or flood
MAX_COMMANDS_PER_BEAT = 20
# The exit code that asks the service manager for a restart (systemd: RestartForceExitStatus=75).
RESTART_EXIT_CODE = 75
# Pauses before the acks of a restarting beat are tried again (3 s in all: stop() waits 5 s).
ACK_RETRY_PAUSES_S = (0.5, 1.0, 1.5)


@dataclass
class BeatReport:
    """What one beat did (for the CLI and tests)."""

    reached_hall: bool = False
    interval_s: float = DEFAULT_INTERVAL_S
    done: list[tuple[str, str, str]] = field(default_factory=list)  # (id, kind, status)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (id, reason)
    waiting: list[tuple[str, str]] = field(default_factory=list)  # (id, kind)
    config_applied: int = 0  # the configuration version taken in this beat
    config_refused: str = ""  # or why the delivered one was refused
    restart: bool = False  # a command asked the app to restart (restart, rotate_keys, a new release)
    release: str = ""  # what became of a release offer: "<version> installed", "… waiting", "… refused: why"
    error: str = ""


def kiosk_version() -> str:
    try:
        from importlib.metadata import version

        return version("village-kiosk")
    except Exception:  # noqa: BLE001 - not installed: the version is only informative
        return "0.1.0"


def _short(value: object, limit: int) -> str:
    return str(value)[:limit]


def _bounded_health(report: dict[str, Any]) -> dict[str, Any]:
    """The health report cut to the sizes the hall accepts (a long detail must not lose the beat)."""
    devices = [{"device": _short(d.get("device", ""), 32), "driver": _short(d.get("driver", ""), 64),
                "state": _short(d.get("state", ""), 16), "reason": _short(d.get("reason", ""), 64),
                "detail": _short(d.get("detail", ""), 200), "required": bool(d.get("required", True)),
                "needed_for": [_short(n, 64) for n in list(d.get("needed_for", []))[:20]]}
               for d in list(report.get("devices", []))[:20]]
    return {"checked_at": _short(report.get("checked_at", ""), 40),
            "state": _short(report.get("state", ""), 16), "devices": devices}


def _no_event(what: str, payload: dict[str, Any]) -> None:
    pass


def running_release() -> str:
    """The release the launcher started ("" = the factory install, or not started by it)."""
    return os.environ.get(RELEASE_ENV, "")[:40]


class DeviceAgent:
    def __init__(
        self,
        identity: DeviceIdentity,
        client: HallClient,
        queue: OfflineQueue,
        data_dir: Path,
        *,
        health: Callable[[], dict[str, Any]],
        self_test: Callable[[], dict[str, Any]] | None = None,
        emit: Callable[[str, dict[str, Any]], None] | None = None,
        sync_now: Callable[[], None] | None = None,
        is_idle: Callable[[], bool] = lambda: True,
        maintenance_window: str = "",
        config_version: Callable[[], int] | None = None,
        clock: Callable[[], float] = time.time,
        client_for: Callable[[DeviceIdentity], HallClient] | None = None,
    ) -> None:
        self.identity = identity
        self._hall_key = Ed25519PublicKey.from_public_bytes(identity.hall_sign_public_key)
        self.client = client
        self.client_for = client_for or (
            lambda ident: HallClient(ident, timeout_s=client.timeout_s, clock=clock))
        self.data_dir = Path(data_dir)
        self.state = AgentState.load(self.data_dir)
        self.health = health  # each beat's report (may be a cached one: probing can disturb a device)
        self.kit = Kit(self.data_dir, queue, self.state, self_test or health, emit or _no_event, sync_now,
                       rotate_keys=self._rotate_keys, upload_diagnostics=self._upload_diagnostics)
        self._command_id = ""  # the command being carried out (diagnostics name it)
        self.is_idle = is_idle
        self.maintenance_window = maintenance_window
        self.config_version = config_version or (
            lambda: applied_version(self.data_dir, self._hall_key, identity.device_id))
        self.clock = clock
        self.sleep: Callable[[float], None] = time.sleep  # between the acks a restart tries again
        self.started = clock()
        self.interval_s = DEFAULT_INTERVAL_S
        self.loop = BackgroundLoop("fleet-agent", self._one_pass, DEFAULT_INTERVAL_S, lower_priority=True)

    @property
    def locked(self) -> bool:
        return self.state.locked

    # -- the loop ----------------------------------------------------------------------

    def start(self) -> None:
        self.loop.start()

    def stop(self, timeout_s: float = 15) -> bool:
        return self.loop.stop(timeout_s)

    def _one_pass(self) -> float:
        return self.beat().interval_s

    # -- one beat ----------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        summary = self.kit.queue.summary()
        oldest = summary.oldest_unsent_age_s
        return {
            "health": _bounded_health(self.health()),
            "queue": {"depth": summary.waiting, "oldest_unsent_s": None if oldest is None else int(oldest)},
            "free_disk_bytes": int(summary.free_disk_bytes or 0),
            "versions": {"kiosk": kiosk_version(), "python": platform.python_version(),
                         "release": running_release()},
            "config_version": int(self.config_version()),
            "uptime_s": int(max(0.0, self.clock() - self.started)),
            "locked": self.state.locked,
            "problems": list(self.state.problems),
        }

    def beat(self) -> BeatReport:
        result = BeatReport(interval_s=self.interval_s)
        self._settle_rotation()
        self._resend_acks()
        try:
            sent_problems = list(self.state.problems)
            answer = self.client.heartbeat(self.report())
        except HallError as exc:
            result.error = type(exc).__name__
            log.info("heartbeat not delivered (%s); next try in %.0f s", result.error, self.interval_s)
            return result
        result.reached_hall = True
        if running_release() and mark_healthy(self.data_dir, running_release()):
            log.debug("release %s reported healthy", running_release())
        if sent_problems:
            self.state.problems = [p for p in self.state.problems if p not in sent_problems]
            self.state.save(self.data_dir)
        self.interval_s = result.interval_s = self._interval(answer.get("heartbeat_interval_s"))
        if answer.get("config") is not None:
            self._take_config(answer["config"], result)
        if answer.get("release") is not None:
            self._take_release(answer["release"], result)
        deliveries = answer.get("commands", [])
        if not isinstance(deliveries, list):
            self.state.add_problem("bad_heartbeat_answer")
            self.state.save(self.data_dir)
            return result
        for delivery in deliveries[:MAX_COMMANDS_PER_BEAT]:
            self._handle(delivery, result)
        if result.restart:
            self._ack_before_restart()
        return result

    def _take_config(self, delivery: object, result: BeatReport) -> None:
        try:
            config = check_config(delivery, self._hall_key, self.identity.device_id, self.config_version())
            if isinstance(delivery, Mapping):  # always, once check_config passed
                save_config(self.data_dir, delivery)
        except ConfigRefused as refused:
            log.warning("refused the hall's configuration: %s", refused.reason)
            result.config_refused = refused.reason
            self.state.add_problem(refused.problem)
            self.state.save(self.data_dir)
            return
        result.config_applied = config.version
        log.info("hall configuration version %d kept; it applies from the next start", config.version)
        self.kit.emit("config_applied", {"version": config.version})

    def _take_release(self, offer: object, result: BeatReport) -> None:
        """Download, install beside the running one, and restart into it when no villager is here."""
        try:
            manifest = verify_manifest(offer, self._hall_key)
        except BadManifest as refused:
            self._release_problem(result, "?", str(refused))
            return
        version = manifest.version
        state = SlotState.load(self.data_dir)
        if version == running_release():
            return
        if version in state.bad:  # it failed its health check here before: never again
            self._release_problem(result, version, "rolled_back_before")
            return
        if state.next != version:
            folder = releases_dir(self.data_dir) / "downloads" / version
            try:
                wheels = download_release(manifest, self.client.release_range, folder)
                install(self.data_dir, version, wheels)
            except HallError as exc:  # resumed at the next beat, from where it stopped
                result.release = f"{version} downloading ({type(exc).__name__})"
                log.info("release %s: download interrupted (%s)", version, type(exc).__name__)
                return
            except DownloadCorrupt:
                self._release_problem(result, version, "hash_mismatch")
                return
            except (InstallFailed, OSError) as exc:
                self._release_problem(result, version, f"install_failed:{type(exc).__name__}")
                return
            log.info("release %s installed beside the running one", version)
        if not self._may_disrupt():
            result.release = f"{version} waiting"
            return
        result.release, result.restart = f"{version} installed", True
        self.kit.emit("restart", {"why": "release", "version": version})

    def _release_problem(self, result: BeatReport, version: str, reason: str) -> None:
        result.release = f"{version} refused: {reason}"
        log.warning("release %s refused: %s", version, reason)
        self.state.add_problem(f"release_refused:{version}:{reason}"[:200])
        self.state.save(self.data_dir)

    def _interval(self, value: object) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(min(MAX_INTERVAL_S, max(MIN_INTERVAL_S, value)))
        return self.interval_s

    def _handle(self, delivery: object, result: BeatReport) -> None:
        checked = check_delivery(delivery, self._hall_key, self.identity.device_id, self.clock(),
                                 self.state.seen)
        if isinstance(checked, Refusal):
            self._refuse(checked, result)
            return
        if checked.kind in DISRUPTIVE_KINDS and not self._may_disrupt():
            result.waiting.append((checked.id, checked.kind))
            return
        outcome = self._carry_out(checked)
        # Remembered before the ack: a crash after carrying it out must not run it again.
        self.state.remember(checked.id, outcome.status, outcome.reason, outcome.result)
        self.state.save(self.data_dir)
        result.done.append((checked.id, checked.kind, outcome.status))
        result.restart = result.restart or bool(outcome.status == DONE and outcome.result.get("restart"))
        self._ack(checked.id)

    def _refuse(self, refusal: Refusal, result: BeatReport) -> None:
        seen = self.state.seen.get(refusal.command_id) if refusal.reason == REPLAYED else None
        if seen is not None and not seen.acked:
            self._ack(refusal.command_id)  # the hall never heard the first answer: say it again
            return
        result.refused.append((refusal.command_id, refusal.reason))
        log.warning("refused a command from the heartbeat answer: %s", refusal.reason)
        self.state.add_problem(f"command_refused:{refusal.reason}")
        self.state.save(self.data_dir)
        if refusal.command_id:
            self._send_ack(refusal.command_id, Outcome(REFUSED, refusal.reason))

    def _carry_out(self, command: Command) -> Outcome:
        self._command_id = command.id
        try:
            return ACTIONS[command.kind](self.kit, command.args)
        except Exception as exc:  # noqa: BLE001 - one failed command must not end the beat
            log.exception("command %s failed", command.kind)
            return Outcome("failed", type(exc).__name__)
        finally:
            self._command_id = ""

    # -- the commands that need the hall client ------------------------------------------

    def _use_identity(self, identity: DeviceIdentity) -> None:
        self.identity = identity
        self.client = self.client_for(identity)

    def _rotate_keys(self) -> Outcome:
        try:
            rotated = rotate(self.identity, self.client.rotate_key, self.data_dir)
        except HallRejected as exc:
            return Outcome(FAILED, exc.code)
        except HallError as exc:  # no answer: the next beat finds out which key the hall holds
            return Outcome(FAILED, type(exc).__name__)
        self._use_identity(rotated)
        log.warning("device key rotated; the app restarts to use it everywhere")
        self.kit.emit("restart", {"why": "rotate_keys"})
        return Outcome(DONE, result={"rotated": True, "restart": "requested"})

    def _settle_rotation(self) -> None:
        settled = settle_rotation(self.identity, self.data_dir,
                                  lambda ident: self.client_for(ident).heartbeat(self.report()))
        if settled is not self.identity:
            log.warning("a key rotation whose answer was lost took effect; using the new key")
            self._use_identity(settled)

    def _upload_diagnostics(self) -> Outcome:
        report = {k: v for k, v in self.report().items() if k != "health"}
        document = collect(self.data_dir, self.kit.queue, self.kit.health, {"agent": report}, self.clock)
        box, cut = sealed_diagnostics(document, self.identity.device_id, self.identity.hall_seal_public_key)
        try:
            stored = self.client.upload_diagnostics(box, self._command_id)
        except HallRejected as exc:
            return Outcome(FAILED, exc.code)
        except HallError as exc:
            return Outcome(FAILED, type(exc).__name__)
        return Outcome(DONE, result={"diagnostics_id": stored.get("id"), "bytes": len(box),
                                     "log_chars_cut": cut})

    def _may_disrupt(self) -> bool:
        window = self.maintenance_window
        in_window = not window or in_quiet_hours(window, self.clock())
        return in_window and self.is_idle()

    # -- acknowledgements ----------------------------------------------------------------

    def _ack(self, command_id: str) -> None:
        seen = self.state.seen[command_id]
        if self._send_ack(command_id, Outcome(seen.status, seen.reason, seen.result)):
            seen.acked = True
            self.state.save(self.data_dir)

    def _send_ack(self, command_id: str, outcome: Outcome) -> bool:
        """True when the hall has the answer (or will never take it: it refused for good)."""
        try:
            self.client.ack_command(command_id, outcome.status, outcome.reason, outcome.result)
        except HallRejected as exc:  # unknown to the hall, or already acknowledged: nothing to resend
            log.info("hall did not take the ack of a command: %s", exc.code)
            return True
        except HallError as exc:
            log.info("ack not delivered (%s); resent at the next beat", type(exc).__name__)
            return False
        return True

    def _resend_acks(self) -> None:
        for command_id, seen in list(self.state.seen.items()):
            if not seen.acked:
                self._ack(command_id)

    def _ack_before_restart(self) -> None:
        """The app exits after this beat: an ack that met the hall busy is tried again a few times
        first, so the console hears of the restart now rather than after the next start (it would be
        sent then; this only shortens the wait). Bounded well inside ``BackgroundLoop.stop``'s wait."""
        for pause_s in ACK_RETRY_PAUSES_S:
            if all(seen.acked for seen in self.state.seen.values()):
                return
            self.sleep(pause_s)
            self._resend_acks()
