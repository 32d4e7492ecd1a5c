"""The device agent against a real hall: heartbeats, signed commands, refusals, wipe, lock."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.agent.actions import ACTIONS
from kiosk.agent.agent import DeviceAgent
from kiosk.agent.checks import (
    BAD_SIGNATURE,
    EXPIRED,
    MALFORMED,
    OTHER_DEVICE,
    REPLAYED,
    Command,
    Refusal,
    check_delivery,
)
from kiosk.agent.documents import COMMAND_ARGS, COMMAND_CONTEXT, sign_document
from kiosk.agent.state import AgentState
from kiosk.agent.wiring import build_agent
from kiosk.settings import load_settings
from offline_queue.identity import enroll
from offline_queue.transport import HallClient
from tests.support.hall_process import HallProcess

HEALTH = {"checked_at": "2026-12-01T16:00:00Z", "state": "ok", "devices": [
    {"device": "printer", "driver": "file", "state": "degraded", "reason": "paper_out", "detail": "x" * 500,
     "required": True, "needed_for": ["receipt"]}]}


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    with HallProcess(tmp_path_factory.mktemp("agent-hall")) as process:
        yield process


def hall_sign_key(hall: HallProcess) -> Ed25519PrivateKey:
    from hall.core.keys import load_or_create_keys
    return load_or_create_keys(hall.data_dir / "keys").sign_private


def new_agent(hall: HallProcess, tmp_path: Path, clock=time.time, **hooks) -> DeviceAgent:
    data_dir = tmp_path / f"kiosk-{uuid.uuid4().hex[:6]}"
    enroll(hall.url, hall.enrollment_code(), data_dir, name="test kiosk")
    settings = load_settings(data_dir=data_dir, environ={}).with_overrides({"kiosk.maintenance_window": ""})
    from kiosk.runtime import open_queue
    hooks.setdefault("health", lambda: HEALTH)
    from offline_queue.identity import DeviceIdentity
    return build_agent(settings, DeviceIdentity.load(data_dir), open_queue(settings), clock=clock, **hooks)


def issue(hall: HallProcess, device_id: str, kind: str, *args: str) -> str:
    return json.loads(hall.cli("command", device_id, kind, *args, "--json").stdout)["id"]


def commands(hall: HallProcess, device_id: str) -> dict[str, dict]:
    out = hall.cli("commands", "--device", device_id, "--json").stdout
    rows = [json.loads(line) for line in out.splitlines()]
    return {row["id"]: row for row in rows}


def fleet_state(hall: HallProcess, device_id: str) -> dict:
    rows = [json.loads(line) for line in hall.cli("fleet", "--json").stdout.splitlines()]
    return next(row for row in rows if row["device_id"] == device_id)["state"]


def test_every_kind_has_an_action():
    assert set(ACTIONS) == set(COMMAND_ARGS)


def test_a_beat_reports_and_the_hall_stores_it(hall, tmp_path):
    agent = new_agent(hall, tmp_path)
    report = agent.beat()
    assert report.reached_hall and report.interval_s == 60 and report.error == ""
    state = fleet_state(hall, agent.identity.device_id)
    assert state["queue_depth"] == 0 and state["locked"] is False
    assert state["report"]["health"]["devices"][0]["reason"] == "paper_out"  # a long detail was cut, not lost
    assert state["software_version"]


def test_lock_persists_emits_and_is_acknowledged_then_unlock(hall, tmp_path):
    events = []
    agent = new_agent(hall, tmp_path, emit=lambda what, payload: events.append((what, payload)))
    lock_id = issue(hall, agent.identity.device_id, "lock", "--arg", "notice=设备维护中 / under repair")
    report = agent.beat()
    assert report.done == [(lock_id, "lock", "done")]
    assert events == [("locked", {"notice": "设备维护中 / under repair"})]
    assert AgentState.load(agent.data_dir).locked  # survives a restart
    assert commands(hall, agent.identity.device_id)[lock_id]["status"] == "done"
    agent.beat()
    assert fleet_state(hall, agent.identity.device_id)["locked"] is True
    unlock_id = issue(hall, agent.identity.device_id, "unlock")
    assert agent.beat().done == [(unlock_id, "unlock", "done")]
    assert not AgentState.load(agent.data_dir).locked and events[-1] == ("unlocked", {})


def test_sync_now_self_test_diagnostics_and_key_rotation(hall, tmp_path):
    woken, probes, events = [], [], []
    agent = new_agent(hall, tmp_path, sync_now=lambda: woken.append(1),
                      self_test=lambda: probes.append(1) or HEALTH, emit=lambda what, p: events.append(what))
    device_id = agent.identity.device_id
    logs = agent.data_dir / "logs"
    logs.mkdir(exist_ok=True)
    (logs / "kiosk.log").write_text("INFO lookup 440105199001011234 phone 13812345678 failed\n", "utf-8")
    kinds = ("sync_now", "self_test", "upload_diagnostics", "rotate_keys")
    ids = {kind: issue(hall, device_id, kind) for kind in kinds}
    old_identity = agent.identity
    report = agent.beat()
    assert [status for _, _, status in report.done] == ["done"] * 4 and report.restart  # rotation restarts
    rows = commands(hall, device_id)
    assert woken == [1] and probes == [1, 1]  # self_test, and the diagnostics' own fresh report
    assert all(rows[ids[kind]]["status"] == "done" for kind in kinds)  # the last ack went with the new key
    assert rows[ids["self_test"]]["ack"]["result"]["health"]["state"] == "ok"
    assert events == ["restart"]

    # Diagnostics: in the hall sealed, opened only there, with nothing personal in them.
    upload = rows[ids["upload_diagnostics"]]["ack"]["result"]
    listed = [json.loads(line) for line in hall.cli("diagnostics", device_id, "--json").stdout.splitlines()]
    assert [row["id"] for row in listed] == [upload["diagnostics_id"]] and listed[0]["command_id"]
    opened = hall.cli("diagnostics", device_id, "--open", str(upload["diagnostics_id"]),
                      "--by", "staff-li").stdout
    assert "199001011234" not in opened and "12345678" not in opened and "phone 138****5678" in opened
    body = json.loads(opened)
    assert body["queue"]["waiting"] == 0 and body["device"]["health"]["state"] == "ok"
    assert body["device"]["agent"]["config_version"] == 0

    # Keys: the new one is in identity.json and works; the old one is refused from now on.
    from offline_queue.errors import HallAuthRefused
    from offline_queue.identity import DeviceIdentity
    saved = DeviceIdentity.load(agent.data_dir)
    assert saved.public_key == agent.identity.public_key != old_identity.public_key
    assert not (agent.data_dir / "rotating.key").exists()
    assert agent.beat().reached_hall
    with pytest.raises(HallAuthRefused):
        HallClient(old_identity).heartbeat({})
    out = hall.cli("audit", "--device", device_id, "--json").stdout
    audit = [json.loads(line)["action"] for line in out.splitlines()]
    assert {"device.rotate_keys", "diagnostics.open", "command.upload_diagnostics"} <= set(audit)


def test_a_rotation_whose_answer_was_lost_is_settled_at_the_next_beat(hall, tmp_path):
    from kiosk.agent.keys import rotate
    from offline_queue.errors import HallUnreachable
    agent = new_agent(hall, tmp_path)
    old = agent.identity

    def send_then_lose_the_answer(rotation: dict) -> None:
        agent.client.rotate_key(rotation)
        raise HallUnreachable("connection cut")

    with pytest.raises(HallUnreachable):
        rotate(old, send_then_lose_the_answer, agent.data_dir)
    assert (agent.data_dir / "rotating.key").exists()  # the hall holds a key only this file has
    report = agent.beat()  # the old key is refused: the kiosk takes the pending one
    assert report.reached_hall and agent.identity.public_key != old.public_key
    assert not (agent.data_dir / "rotating.key").exists()


def test_big_logs_are_cut_from_the_oldest_end_to_the_cap(tmp_path):
    import gzip
    import os

    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from kiosk.agent.diagnostics import MAX_BOX_BYTES, recent_logs, sealed_diagnostics
    from offline_queue.sealing import open_box, raw_public

    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "kiosk.log").write_text(os.urandom(1_500_000).hex() + "\nNEWEST LINE\n", "ascii")
    hall_key = X25519PrivateKey.generate()
    box, cut = sealed_diagnostics({"logs": recent_logs(tmp_path)}, "dev-1", raw_public(hall_key.public_key()))
    assert len(box) <= MAX_BOX_BYTES and cut > 0
    body = json.loads(gzip.decompress(open_box(box, hall_key, b"diagnostics:dev-1")))
    assert body["logs_cut_chars"] == cut and body["logs"].endswith("NEWEST LINE\n")


def test_disruptive_commands_wait_for_an_idle_kiosk_and_the_window(hall, tmp_path):
    busy = {"villager": True}
    agent = new_agent(hall, tmp_path, is_idle=lambda: not busy["villager"])
    restart_id = issue(hall, agent.identity.device_id, "restart")
    assert agent.beat().waiting == [(restart_id, "restart")]
    assert commands(hall, agent.identity.device_id)[restart_id]["status"] == "pending"
    busy["villager"] = False
    later = (datetime.now(UTC).hour + 8 + 2) % 24  # two hours from now, China Standard Time
    agent.maintenance_window = f"{later:02d}:00-{later:02d}:30"
    assert agent.beat().waiting == [(restart_id, "restart")]  # idle, but outside the window
    agent.maintenance_window = ""
    report = agent.beat()
    assert report.done == [(restart_id, "restart", "done")] and report.restart


def test_an_ack_the_hall_did_not_get_is_sent_again(hall, tmp_path):
    agent = new_agent(hall, tmp_path)
    command_id = issue(hall, agent.identity.device_id, "reload_config")
    real_ack = agent.client.ack_command

    def hall_down(*args, **kwargs):
        from offline_queue.errors import HallUnreachable
        raise HallUnreachable("down")

    agent.client.ack_command = hall_down  # type: ignore[method-assign]
    assert agent.beat().done == [(command_id, "reload_config", "done")]
    assert commands(hall, agent.identity.device_id)[command_id]["status"] == "pending"
    agent.client.ack_command = real_ack  # type: ignore[method-assign]
    report = agent.beat()  # the ack goes first; the hall no longer delivers the command
    assert report.done == [] and report.refused == []
    assert commands(hall, agent.identity.device_id)[command_id]["status"] == "done"


def test_a_restart_tries_its_ack_again_before_the_app_exits(hall, tmp_path):
    agent = new_agent(hall, tmp_path)
    restart_id = issue(hall, agent.identity.device_id, "restart")
    real_ack, calls, pauses = agent.client.ack_command, [], []

    def busy_once(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 1:
            from offline_queue.errors import HallBusy
            raise HallBusy("busy", retry_after=1.0)
        return real_ack(*args, **kwargs)

    agent.client.ack_command = busy_once  # type: ignore[method-assign]
    agent.sleep = pauses.append  # type: ignore[method-assign]
    report = agent.beat()
    assert report.restart and calls == [restart_id, restart_id] and pauses == [0.5]
    assert agent.state.seen[restart_id].acked
    assert commands(hall, agent.identity.device_id)[restart_id]["status"] == "done"


def test_a_command_expired_on_the_kiosk_clock_is_refused_and_reported(hall, tmp_path):
    agent = new_agent(hall, tmp_path)
    command_id = issue(hall, agent.identity.device_id, "unlock", "--ttl", "60")
    agent.clock = lambda: time.time() + 3600  # the client signs with the real clock; the agent judges
    report = agent.beat()
    assert report.refused == [(command_id, EXPIRED)]
    assert commands(hall, agent.identity.device_id)[command_id]["ack"]["reason"] == EXPIRED
    agent.beat()  # the next beat tells the hall why
    assert "command_refused:expired" in fleet_state(hall, agent.identity.device_id)["report"]["problems"]


# -- security: each forged, replayed, expired or misaddressed command is refused -----------


def _delivery(key: Ed25519PrivateKey, device_id: str, **changes) -> dict:
    now = time.time()
    document = {"id": str(uuid.uuid4()), "device_id": device_id, "kind": "wipe", "args": {"force": True},
                "issued_at": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "not_after": datetime.fromtimestamp(now + 600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                **changes}
    return {"document": document, "signature": sign_document(key, COMMAND_CONTEXT, document)}


def test_check_delivery_refusals(hall):
    key = hall_sign_key(hall)
    public = key.public_key()
    now = time.time()
    good = _delivery(key, "kiosk-1")
    assert isinstance(check_delivery(good, public, "kiosk-1", now, set()), Command)

    forged = _delivery(Ed25519PrivateKey.generate(), "kiosk-1")
    assert check_delivery(forged, public, "kiosk-1", now, set()).reason == BAD_SIGNATURE
    tampered = {**good, "document": {**good["document"], "args": {"force": False}}}
    assert check_delivery(tampered, public, "kiosk-1", now, set()).reason == BAD_SIGNATURE
    answer_sig = base64.b64encode(key.sign(b"hall-answer-v1\n" + b"x")).decode()
    other_purpose = {**good, "signature": answer_sig}
    assert check_delivery(other_purpose, public, "kiosk-1", now, set()).reason == BAD_SIGNATURE
    assert check_delivery(good, public, "kiosk-2", now, set()).reason == OTHER_DEVICE
    assert check_delivery(good, public, "kiosk-1", now + 601, set()).reason == EXPIRED
    assert check_delivery(good, public, "kiosk-1", now, {good["document"]["id"]}).reason == REPLAYED
    for hostile in (None, [], {"document": "x"}, {"document": {**good["document"], "extra": 1}},
                    {"document": {**good["document"], "id": 5}}):
        refusal = check_delivery(hostile, public, "kiosk-1", now, set())
        assert isinstance(refusal, Refusal) and refusal.reason == MALFORMED
    naive = _delivery(key, "kiosk-1", not_after="2099-01-01T00:00:00")
    assert check_delivery(naive, public, "kiosk-1", now, set()).reason == MALFORMED


class HostileClient(HallClient):
    """The real client, whose heartbeat answer a man in the middle replaced."""

    deliveries: list = []

    def heartbeat(self, report):
        super().heartbeat(report)
        return {"heartbeat_interval_s": 0.001, "commands": self.deliveries}


def test_the_agent_refuses_forged_replayed_and_other_device_commands(hall, tmp_path):
    agent = new_agent(hall, tmp_path)
    agent.client.__class__ = HostileClient
    me = agent.identity.device_id
    key = hall_sign_key(hall)
    replayed = _delivery(key, me, kind="lock", args={"notice": "x"})
    agent.state.remember(replayed["document"]["id"], "done", "", {})
    agent.state.seen[replayed["document"]["id"]].acked = True
    forged = _delivery(Ed25519PrivateKey.generate(), me)
    HostileClient.deliveries = [forged, replayed, _delivery(key, "kiosk-else"), "garbage"]
    report = agent.beat()
    assert [reason for _id, reason in report.refused] == [BAD_SIGNATURE, REPLAYED, OTHER_DEVICE, MALFORMED]
    assert report.done == [] and report.interval_s == 5.0  # a hostile interval is clamped
    assert not agent.locked


def test_wipe_keeps_unaccepted_applications_unless_forced(hall, tmp_path):
    from tests.kiosk.test_cli import kiosk as kiosk_cli
    from tests.kiosk.test_cli import paper_file

    agent = new_agent(hall, tmp_path)
    data = str(agent.data_dir)
    assert kiosk_cli("submit", str(paper_file(tmp_path)), "--data-dir", data).returncode == 0
    assert kiosk_cli("sync", "--once", "--data-dir", data).returncode == 0  # one accepted by the hall
    assert kiosk_cli("submit", str(paper_file(tmp_path)), "--data-dir", data).returncode == 0  # one not yet
    queue = agent.kit.queue
    blobs = agent.data_dir / "outbox" / "blobs"
    before = list(blobs.rglob("*"))
    first = issue(hall, agent.identity.device_id, "wipe")
    agent.beat()
    ack = commands(hall, agent.identity.device_id)[first]["ack"]
    assert ack["result"]["removed"] == 1 and ack["result"]["kept_not_accepted"] == 1
    assert ack["reason"] == "kept_not_accepted"
    assert [p.reason for p in queue.purges()] == ["wipe"]
    forced = issue(hall, agent.identity.device_id, "wipe", "--arg", "force=true")
    agent.beat()
    assert commands(hall, agent.identity.device_id)[forced]["ack"]["result"]["removed"] == 1
    assert before and not [p for p in blobs.rglob("*") if p.is_file()]  # no sealed box left on the disk


def test_the_agent_loop_keeps_beating_after_a_failed_pass(hall, tmp_path):
    calls = []

    def flaky_health():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("probe blew up")
        return HEALTH

    agent = new_agent(hall, tmp_path, health=flaky_health)
    agent.loop.crash_backoff_s = 0.05
    lock_id = issue(hall, agent.identity.device_id, "lock")
    agent.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not agent.locked:
            time.sleep(0.05)
        assert agent.locked and agent.loop.stats.crashes == 1
        assert agent.loop.running  # alive after the thing happened, not only after stop()
    finally:
        assert agent.stop()
    assert commands(hall, agent.identity.device_id)[lock_id]["status"] == "done"


def test_the_running_apps_wiring_starts_the_agent_and_stops_it(hall, tmp_path):
    """``build_service`` starts the agent beside the sync worker; a lock reaches the core as an event."""
    from kiosk.runtime import build_service, close_service

    data_dir = tmp_path / "app"
    enroll(hall.url, hall.enrollment_code(), data_dir)
    settings = load_settings(data_dir=data_dir, environ={})
    lock_id = None
    service = build_service(settings)
    try:
        heard = []

        class Screen:
            def on_event_fleet(self, what, payload):
                heard.append((what, payload))

        screen = Screen()
        service.bind(screen)
        agent = service.fleet_agent
        assert agent is not None and agent.loop.running
        lock_id = issue(hall, service.identity.device_id, "lock", "--arg", "notice=closed")
        agent.loop.wake()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not heard:
            time.sleep(0.1)
        assert heard == [("locked", {"notice": "closed"})]
        assert agent.loop.running and service.sync_worker is not None
    finally:
        close_service(service)
    assert not service.fleet_agent.loop.alive
    assert commands(hall, service.identity.device_id)[lock_id]["status"] == "done"
