"""No state in the process (issue 11, part 5): two hall processes on one database act as one.

Console lockouts and login limits are shared (tests/hall/test_console_login.py); here the
signed requests: a nonce one process recorded is a replay at the other (also on the
one-trip routes: the feed and the heartbeat), and a revocation made while both run is
refused by both. One second process serves every check.
"""

from __future__ import annotations

import json
import time

import pytest

from offline_queue.signing import sign_headers
from tests.support.hall_process import HallProcess

FEED = "/api/v1/status-changes"
HEARTBEAT = "/api/v1/heartbeat"


@pytest.fixture
def second_hall(hall: HallProcess, tmp_path):
    with HallProcess(tmp_path, db_url=hall.db_url) as other:
        yield other


def _at(kiosk, base: str, method: str, path: str, body: bytes = b"", signed: dict | None = None):
    signed = signed or sign_headers(kiosk.private_key, kiosk.device_id, method, path, [], body, time.time())
    headers = {**signed, "Content-Type": "application/json"} if body else signed
    return kiosk.session.request(method, base + path, data=body, headers=headers, timeout=15)


def test_two_processes_share_nonces_and_revocations(hall, second_hall, new_kiosk):
    kiosk = new_kiosk()
    beat = json.dumps({"queue": {"depth": 1}}).encode()
    for method, path, body in (("GET", FEED, b""), ("POST", HEARTBEAT, beat)):
        signed = sign_headers(kiosk.private_key, kiosk.device_id, method, path, [], body, time.time())
        first = _at(kiosk, hall.url, method, path, body, signed)
        assert first.status_code == 200, first.text
        replay = _at(kiosk, second_hall.url, method, path, body, signed)
        assert replay.status_code == 401, replay.text
        assert replay.json()["error"] == "replayed_nonce"
    assert _at(kiosk, second_hall.url, "POST", HEARTBEAT, beat).status_code == 200

    hall.revoke(kiosk.device_id)  # the CLI writes the database; neither process caches the device
    for base in (hall.url, second_hall.url):
        refused = _at(kiosk, base, "POST", HEARTBEAT, beat)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "device_revoked"
