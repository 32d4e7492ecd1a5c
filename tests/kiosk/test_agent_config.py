"""Signed configuration from a real hall: pushed, taken, layered, refused when it must be."""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.agent.config import CONFIG_FILE, ConfigRefused, check_config
from kiosk.agent.documents import CONFIG_CONTEXT, sign_document
from kiosk.commands import settings_from
from tests.kiosk.test_agent import HostileClient, fleet_state, hall_sign_key, new_agent
from tests.support.hall_process import HallProcess


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    with HallProcess(tmp_path_factory.mktemp("config-hall")) as process:
        yield process


def push(hall, tmp_path, text: str, *devices: str, check: bool = True):
    path = tmp_path / f"layer-{uuid.uuid4().hex[:6]}.toml"
    path.write_text(text, encoding="utf-8")
    targets = [arg for device in devices for arg in ("--device", device)] or ["--all"]
    return hall.cli("config-push", str(path), *targets, "--by", "staff-li", check=check)


def rollout(hall) -> dict[str, dict]:
    rows = [json.loads(line) for line in hall.cli("configs", "--json").stdout.splitlines()]
    return {row["device_id"]: row for row in rows}


def settings_of(agent, config=None):
    return settings_from(argparse.Namespace(data_dir=str(agent.data_dir), config=config))


def test_a_pushed_configuration_is_taken_layered_and_reported(hall, tmp_path):
    agent, other = new_agent(hall, tmp_path), new_agent(hall, tmp_path)
    me = agent.identity.device_id
    layer = '[kiosk]\nidle_timeout_s = 90.0\nlanguage = "en"\n[sync]\nquiet_hours = "08:00-09:00"\n'
    push(hall, tmp_path, layer, me)
    report = agent.beat()
    assert report.config_applied >= 1 and report.config_refused == ""
    assert other.beat().config_applied == 0  # pushed to one kiosk only
    settings = settings_of(agent)
    assert settings.kiosk.idle_timeout_s == 90.0 and settings.sync.quiet_hours == "08:00-09:00"
    assert settings_of(other).kiosk.idle_timeout_s == 120.0
    (agent.data_dir / "device.toml").write_text("[kiosk]\nidle_timeout_s = 45.0\n")  # device.toml wins
    assert settings_of(agent).kiosk.idle_timeout_s == 45.0 and settings_of(agent).kiosk.language == "en"
    assert not rollout(hall)[me]["took_it"]  # not until the kiosk says so
    assert agent.beat().config_applied == 0  # the next beat reports it; nothing delivered again
    assert rollout(hall)[me]["took_it"] and fleet_state(hall, me)["config_version"] == report.config_applied


def test_the_hall_refuses_an_invalid_or_forbidden_configuration(hall, tmp_path):
    agent = new_agent(hall, tmp_path)
    me = agent.identity.device_id
    for text, needle in (("[kiosk]\nidle_timeout_s = 1.0\n", "kiosk.idle_timeout_s"),
                         ("[kiosk]\nno_such_key = 1\n", "unknown setting"),
                         ('[hall]\nurl = "http://evil.example"\n', "hall.url"),
                         ("not toml [", "not valid TOML")):
        result = push(hall, tmp_path, text, me, check=False)
        assert result.returncode == 2 and needle in result.stderr and "Traceback" not in result.stderr
    assert agent.beat().config_applied == 0


def _config(key: Ed25519PrivateKey, device_id: str, version: int, settings: dict) -> dict:
    document = {"version": version, "device_id": device_id, "settings": settings,
                "issued_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return {"document": document, "signature": sign_document(key, CONFIG_CONTEXT, document)}


def test_the_kiosk_refuses_unsigned_older_invalid_and_misaddressed_configurations(hall, tmp_path):
    key = hall_sign_key(hall)
    public = key.public_key()
    good = {"kiosk": {"idle_timeout_s": 60.0}}
    assert check_config(_config(key, "k1", 3, good), public, "k1", 2).version == 3
    cases = [
        (_config(Ed25519PrivateKey.generate(), "k1", 3, good), "bad_signature"),
        ({**_config(key, "k1", 3, good), "signature": ""}, "bad_signature"),
        (_config(key, "k1", 2, good), "not_newer"),
        (_config(key, "k2", 3, good), "other_device"),
        (_config(key, "k1", 3, {"kiosk": {"idle_timeout_s": 1.0}}), "invalid:kiosk.idle_timeout_s"),
        (_config(key, "k1", 3, {"kiosk": {"data_dir": "/tmp/x"}}), "forbidden:kiosk.data_dir"),
        ({"document": {"version": "3"}}, "malformed"),
    ]
    for delivery, reason in cases:
        with pytest.raises(ConfigRefused) as refused:
            check_config(delivery, public, "k1", 2)
        assert refused.value.reason == reason


def test_a_refused_configuration_keeps_the_last_good_one_and_is_reported(hall, tmp_path):
    agent = new_agent(hall, tmp_path)
    me = agent.identity.device_id
    key = hall_sign_key(hall)
    agent.client.__class__ = HostileClient
    HostileClient.deliveries = []
    good = _config(key, me, 7, {"kiosk": {"idle_timeout_s": 75.0}})
    original = HostileClient.heartbeat

    def with_config(delivery):
        def heartbeat(self, report):
            answer = original(self, report)
            return {**answer, "config": delivery}
        return heartbeat

    try:
        HostileClient.heartbeat = with_config(good)
        assert agent.beat().config_applied == 7
        HostileClient.heartbeat = with_config(_config(Ed25519PrivateKey.generate(), me, 8, {}))
        assert agent.beat().config_refused == "bad_signature"
        HostileClient.heartbeat = with_config(_config(key, me, 9, {"kiosk": {"language": "fr"}}))
        assert agent.beat().config_refused == "invalid:kiosk.language"
    finally:
        HostileClient.heartbeat = original
    assert settings_of(agent).kiosk.idle_timeout_s == 75.0  # the last good one
    agent.beat()
    # Each refusal is reported once, in the beat after it (v8's went with the beat that met v9).
    assert fleet_state(hall, me)["report"]["problems"] == ["config_refused:invalid:kiosk.language:v9"]
    # A file edited on a stolen disk is not obeyed: it no longer verifies.
    path = agent.data_dir / CONFIG_FILE
    tampered = json.loads(path.read_text())
    tampered["document"]["settings"] = {"kiosk": {"idle_timeout_s": 999.0}}
    path.write_text(json.dumps(tampered))
    assert settings_of(agent).kiosk.idle_timeout_s == 120.0
