"""Heartbeats and signed commands on a real hall (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.agent.documents import COMMAND_CONTEXT, verify_document
from offline_queue.signing import ANSWER_CONTEXT

HEALTH = {"checked_at": "2026-12-01T16:00:00Z", "state": "degraded", "devices": [
    {"device": "printer", "driver": "escpos", "state": "degraded", "reason": "paper_out", "detail": "",
     "required": True, "needed_for": ["receipt"]}]}


def beat(kiosk, **overrides) -> dict:
    report = {"health": HEALTH, "queue": {"depth": 3, "oldest_unsent_s": 7200}, "free_disk_bytes": 10**9,
              "versions": {"kiosk": "0.1.0"}, "config_version": 0, "uptime_s": 60, "locked": False,
              **overrides}
    response = kiosk.post_json("/api/v1/heartbeat", report)
    assert response.status_code == 200, response.text
    return response.json()


def hall_sign_key(hall) -> Ed25519PublicKey:
    from hall.core.keys import load_or_create_keys
    return load_or_create_keys(hall.data_dir / "keys").sign_private.public_key()


def issue(hall, device_id: str, kind: str, *args: str) -> dict:
    out = hall.cli("command", device_id, kind, *args, "--by", "staff-anna", "--json").stdout
    return json.loads(out)


def test_heartbeat_is_stored_and_answered_with_the_interval(hall, kiosk):
    answer = beat(kiosk)
    assert answer["heartbeat_interval_s"] == 60
    assert answer["commands"] == []
    # The answer is written without FastAPI's validation: every field of HeartbeatOut, null too.
    assert set(answer) == {"heartbeat_interval_s", "server_time", "commands", "config", "release"}
    assert answer["config"] is None and answer["release"] is None
    row = next(d for d in hall.devices() if d["device_id"] == kiosk.device_id)
    assert row["last_seen"]
    # A revocation holds for every beat arriving the hall's freshness window (0.4 s: a plain beat
    # may be answered from a cache whose generation is that young, hall/api/heartbeat_writer.py)
    # after it commits (the test hall's CLI waits it out); a kiosk beats once a minute.
    hall.revoke(kiosk.device_id)
    refused = kiosk.post_json("/api/v1/heartbeat", {})
    assert refused.status_code == 403 and refused.json()["error"] == "device_revoked"


def test_hostile_heartbeats_are_refused_and_unsigned_ones_too(hall, kiosk):
    for bad in ({"queue": {"depth": -1}}, {"versions": {"kiosk": "x" * 500}}, {"problems": ["p" * 1000]},
                {"health": {"devices": [{"device": "d" * 100, "state": "ok"}]}}):
        response = kiosk.post_json("/api/v1/heartbeat", bad)
        assert response.status_code == 422, (bad, response.text)
    response = kiosk.request("POST", "/api/v1/heartbeat", body=b"not json")
    assert response.status_code == 422
    import requests
    assert requests.post(hall.url + "/api/v1/heartbeat", json={}, timeout=10).status_code == 401


def test_heartbeat_answers_are_signed_refusals_too_and_the_body_is_bounded(hall, kiosk):
    """The heartbeat is answered before FastAPI (hall/api/heartbeat_fast_path.py): its answers are
    signed like every API answer, a replay is refused, and a body over the limit is not read."""
    from offline_queue.signing import HEADER_HALL_SIGNATURE, sign_headers, verify_answer
    from tests.hall.raw_http import connect, read_answer

    key = hall_sign_key(hall)
    body = json.dumps({"queue": {"depth": 1}}).encode()
    signed = sign_headers(kiosk.private_key, kiosk.device_id, "POST", "/api/v1/heartbeat", [], body,
                          time.time())
    for expected in (200, 401):  # the same signed request twice: the second is a replay
        answer = kiosk.request("POST", "/api/v1/heartbeat", body=body, sig_headers=signed)
        assert answer.status_code == expected, answer.text
        assert verify_answer(key, answer.headers.get(HEADER_HALL_SIGNATURE), kiosk.device_id,
                             signed["X-Nonce"], answer.status_code, answer.content)
    assert answer.json()["error"] == "replayed_nonce"
    bad = kiosk.request("POST", "/api/v1/heartbeat", body=b"[1, 2")
    assert bad.status_code == 422 and bad.headers.get(HEADER_HALL_SIGNATURE)

    sock = connect(hall.port)
    try:
        # signature headers present (without them the front door answers 401 before any size check)
        sock.sendall(b"POST /api/v1/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"X-Device-Id: dev-x\r\nX-Timestamp: 1\r\nX-Nonce: n\r\nX-Signature: s\r\n"
                     b"Content-Length: 1073741824\r\n\r\n")
        started = time.monotonic()
        too_large = read_answer(sock, timeout_s=5)
    finally:
        sock.close()
    assert too_large.status == 413 and time.monotonic() - started < 2


def test_a_command_is_signed_delivered_until_acked_and_audited(hall, kiosk):
    issued = issue(hall, kiosk.device_id, "lock", "--arg", "notice=Closed for repairs")
    assert issued["status"] == "pending" and issued["args"] == {"notice": "Closed for repairs"}
    for _ in range(2):  # delivered again until acknowledged
        commands = beat(kiosk)["commands"]
        assert [c["document"]["id"] for c in commands] == [issued["id"]]
    delivered = commands[0]
    document = delivered["document"]
    assert set(document) == {"id", "device_id", "kind", "args", "issued_at", "not_after"}
    assert document["device_id"] == kiosk.device_id and document["kind"] == "lock"
    key = hall_sign_key(hall)
    assert verify_document(key, COMMAND_CONTEXT, document, delivered["signature"])
    # The signature is for commands only: not valid under the answer context.
    assert not verify_document(key, ANSWER_CONTEXT, document, delivered["signature"])
    tampered = {**document, "kind": "wipe"}
    assert not verify_document(key, COMMAND_CONTEXT, tampered, delivered["signature"])

    ack = kiosk.post_json(f"/api/v1/commands/{issued['id']}/ack",
                          {"status": "done", "result": {"locked": True}})
    assert ack.status_code == 200 and ack.json()["status"] == "done"
    again = kiosk.post_json(f"/api/v1/commands/{issued['id']}/ack",
                            {"status": "done", "result": {"locked": True}})
    assert again.status_code == 200  # a lost reply's retry is fine
    other = kiosk.post_json(f"/api/v1/commands/{issued['id']}/ack", {"status": "failed"})
    assert other.status_code == 409
    assert beat(kiosk)["commands"] == []
    listed = json.loads(hall.cli("commands", "--device", kiosk.device_id, "--json").stdout.splitlines()[0])
    assert listed["status"] == "done" and listed["ack"]["result"] == {"locked": True}
    audit = [json.loads(line) for line in hall.cli("audit", "--device", kiosk.device_id, "--json")
             .stdout.splitlines()]
    assert audit[0]["actor"] == "staff-anna" and audit[0]["action"] == "command.lock"
    assert audit[0]["detail"]["command_id"] == issued["id"]


def test_a_kiosk_can_neither_see_nor_ack_another_kiosks_command(hall, new_kiosk):
    first, second = new_kiosk(), new_kiosk()
    issued = issue(hall, first.device_id, "sync_now")
    assert beat(second)["commands"] == []
    response = second.post_json(f"/api/v1/commands/{issued['id']}/ack", {"status": "done"})
    assert response.status_code == 404
    assert beat(first)["commands"][0]["document"]["id"] == issued["id"]


def test_an_unacknowledged_command_expires(hall, kiosk):
    from hall.core.config import load_settings
    from hall.core.keys import load_or_create_keys
    from hall.db import make_engine, make_sessionmaker
    from hall.services.commands import issue as issue_in_process

    settings = load_settings(db=hall.db_url, data_dir=hall.data_dir, environ={})
    engine = make_engine(settings.db_url)
    try:
        with make_sessionmaker(engine)() as db:
            past = time.time() - 3600
            command = issue_in_process(db, load_or_create_keys(settings.keys_dir).sign_private,
                                       kiosk.device_id, "restart", {}, "staff-anna", ttl_s=600,
                                       clock=lambda: past)
    finally:
        engine.dispose()
    assert beat(kiosk)["commands"] == []
    listed = json.loads(hall.cli("commands", "--device", kiosk.device_id, "--json").stdout.splitlines()[0])
    assert listed["id"] == command.id and listed["status"] == "expired"
    # The kiosk's refusal is still recorded; the command stays expired.
    ack = kiosk.post_json(f"/api/v1/commands/{command.id}/ack", {"status": "refused", "reason": "expired"})
    assert ack.status_code == 200 and ack.json()["status"] == "expired"


@pytest.mark.parametrize("args, message", [
    (["nonsense"], "unknown command kind"),
    (["lock", "--arg", "colour=red"], "takes no argument"),
    (["wipe", "--arg", "force=perhaps"], "true or false"),
    (["unlock", "--ttl", "5"], "ttl must be"),
])
def test_bad_commands_are_one_line_errors(hall, kiosk, args, message):
    result = hall.cli("command", kiosk.device_id, *args, check=False)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_a_command_for_an_unknown_device_is_refused(hall):
    result = hall.cli("command", "no-such-kiosk", "unlock", check=False)
    assert result.returncode == 2 and "no device" in result.stderr


def test_history_is_bounded(hall, kiosk):
    """Only the newest ``heartbeat_history`` beats are kept (checked in-process on a tiny bound)."""
    from dataclasses import replace

    from hall.core.config import load_settings
    from hall.db import make_engine, make_sessionmaker
    from hall.models import Device
    from hall.services.fleet import history, record_heartbeat

    settings = replace(load_settings(db=hall.db_url, data_dir=hall.data_dir, environ={}), heartbeat_history=3)
    engine = make_engine(settings.db_url)
    try:
        with make_sessionmaker(engine)() as db:
            device = db.get(Device, kiosk.device_id)
            for depth in range(6):
                record_heartbeat(db, settings, device, {"queue": {"depth": depth}})
                db.commit()
            assert [h.queue_depth for h in history(db, kiosk.device_id)] == [3, 4, 5]
    finally:
        engine.dispose()


def test_signing_key_matches_the_enrolment_answer(hall, make_code):
    from tests.hall.kiosk_client import enroll
    answer = enroll(hall.url, make_code()).json()
    pinned = base64.b64decode(answer["hall_sign_public_key"])
    from cryptography.hazmat.primitives import serialization
    raw = hall_sign_key(hall).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert pinned == raw


def test_a_configuration_is_signed_per_kiosk_and_delivered_until_reported(hall, new_kiosk, tmp_path):
    from kiosk.agent.documents import CONFIG_CONTEXT

    first, second = new_kiosk(), new_kiosk()
    layer = tmp_path / "layer.toml"
    layer.write_text("[kiosk]\nidle_timeout_s = 75.0\n")
    group = ["--device", first.device_id, "--device", second.device_id]
    hall.cli("config-push", str(layer), *group, "--by", "li")
    deliveries = [beat(k)["config"] for k in (first, second)]
    versions = {d["document"]["version"] for d in deliveries}
    assert len(versions) == 1 and [d["document"]["device_id"] for d in deliveries] == [first.device_id,
                                                                                       second.device_id]
    key = hall_sign_key(hall)
    assert all(verify_document(key, CONFIG_CONTEXT, d["document"], d["signature"]) for d in deliveries)
    assert not verify_document(key, COMMAND_CONTEXT, deliveries[0]["document"], deliveries[0]["signature"])
    (version,) = versions
    assert beat(first, config_version=version)["config"] is None
    assert beat(second)["config"]["document"]["version"] == version  # until it says it took it
    out = hall.cli("configs", "--json").stdout
    rows = {row["device_id"]: row for row in map(json.loads, out.splitlines())}
    assert rows[first.device_id]["took_it"] and not rows[second.device_id]["took_it"]


def test_hostile_key_rotations_and_diagnostics_are_refused(hall, new_kiosk):
    """A rotation needs both keys' signatures and a key no other device holds; diagnostics must be
    a sealed box under the cap (the happy paths: tests/kiosk/test_agent.py, through the real agent)."""
    import os

    from kiosk.agent.documents import ROTATION_CONTEXT, sign_document
    from offline_queue.sealing import seal
    from tests.hall.kiosk_client import raw_public

    first, other = new_kiosk(), new_kiosk()
    new_key = Ed25519PrivateKey.generate()
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    document = {"device_id": first.device_id, "old_public_key": b64(raw_public(first.private_key)),
                "new_public_key": b64(raw_public(new_key))}
    good = {"document": document,
            "old_signature": sign_document(first.private_key, ROTATION_CONTEXT, document),
            "new_signature": sign_document(new_key, ROTATION_CONTEXT, document)}
    not_by_new = {**good, "new_signature": good["old_signature"]}
    assert first.post_json("/api/v1/keys/rotate", not_by_new).status_code == 401
    taken = {**document, "new_public_key": b64(raw_public(other.private_key))}
    stolen = {"document": taken, "old_signature": sign_document(first.private_key, ROTATION_CONTEXT, taken),
              "new_signature": sign_document(other.private_key, ROTATION_CONTEXT, taken)}
    assert first.post_json("/api/v1/keys/rotate", stolen).json()["error"] == "key_in_use"
    # to the identity point, "signed" by it with R = identity, S = 0 (which OpenSSL's check takes)
    identity = bytes([1]) + bytes(31)
    weak = {**document, "new_public_key": b64(identity)}
    to_weak = {"document": weak, "old_signature": sign_document(first.private_key, ROTATION_CONTEXT, weak),
               "new_signature": b64(identity + bytes(32))}
    assert first.post_json("/api/v1/keys/rotate", to_weak).json()["error"] == "invalid_key"
    for_other = {**good, "document": {**document, "device_id": other.device_id}}
    assert first.post_json("/api/v1/keys/rotate", for_other).status_code == 422
    assert first.post_json("/api/v1/keys/rotate", good).status_code == 200
    assert first.post_json("/api/v1/keys/rotate", good).status_code == 401  # signed by the old key: refused
    first.private_key = new_key
    assert beat(first)["commands"] == []

    octets = {"Content-Type": "application/octet-stream"}
    plain = first.request("POST", "/api/v1/diagnostics", body=b"logs in the clear", headers=octets)
    assert plain.status_code == 422 and plain.json()["error"] == "not_sealed"
    huge = seal(os.urandom(600 * 1024), first.hall_seal_key)
    assert first.request("POST", "/api/v1/diagnostics", body=huge, headers=octets).status_code == 413
    box = seal(b"{}", first.hall_seal_key)
    assert first.request("POST", "/api/v1/diagnostics", body=box, headers=octets).status_code == 200


def test_a_release_is_offered_by_stage_and_served_in_signed_ranges(hall, new_kiosk, tmp_path):
    from kiosk.updates.manifest import RELEASE_CONTEXT
    from tests.support.releases import broken_wheel

    pilot, other = new_kiosk(), new_kiosk()
    version = f"0.{int(time.time() * 1000) % 10**9}"  # the hall is shared by the module's tests
    wheel = broken_wheel(tmp_path / "bundle", version, padding=10_000)
    hall.cli("release", "publish", str(tmp_path / "bundle"), "--version", version, "--pilot", pilot.device_id)
    offer = beat(pilot)["release"]
    assert offer["manifest"]["version"] == version and beat(other)["release"] is None
    assert verify_document(hall_sign_key(hall), RELEASE_CONTEXT, offer["manifest"], offer["signature"])
    assert beat(pilot, versions={"kiosk": "0.1.0", "release": version})["release"] is None  # it runs it

    path = f"/api/v1/releases/{version}/{wheel.name}"
    data = wheel.read_bytes()
    first = pilot.request("GET", path, headers={"Range": "bytes=0-999"})
    assert first.status_code == 206 and first.content == data[:1000]
    assert first.headers["Content-Range"] == f"bytes 0-999/{len(data)}"
    rest = pilot.request("GET", path, headers={"Range": "bytes=1000-"})
    assert first.content + rest.content == data
    for bad in ("bytes=-5", f"bytes={len(data)}-", "lines=0-5", "bytes=0-5,9-10"):
        assert pilot.request("GET", path, headers={"Range": bad}).status_code == 422, bad
    for name in ("..%2F..%2Fkeys%2Fsign.key", "other.whl"):
        assert pilot.request("GET", f"/api/v1/releases/{version}/{name}").status_code == 404
    import requests
    assert requests.get(hall.url + path, timeout=10).status_code == 401  # unsigned
