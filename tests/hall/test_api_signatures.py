"""Signed requests: every refusal the protocol lists, against a real hall."""

from __future__ import annotations

import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _status(kiosk, **kw):
    return kiosk.request("GET", "/api/v1/status-changes", params={"since": "0"}, **kw)


def test_good_signature(kiosk):
    response = _status(kiosk)
    assert response.status_code == 200, response.text
    assert response.json() == {"changes": [], "cursor": "0"}


def test_tampered_body(kiosk):
    body = b'{"sha256": "' + b"a" * 64 + b'", "size": 10}'
    response = kiosk.request("POST", "/api/v1/uploads", body=body, signed_body=body.replace(b"10", b"11"))
    assert response.status_code == 401
    assert response.json()["error"] == "bad_signature"


def test_tampered_query(kiosk):
    from offline_queue.signing import sign_headers

    signed = sign_headers(kiosk.private_key, kiosk.device_id, "GET", "/api/v1/status-changes",
                          [("since", "0")], b"", time.time())
    response = kiosk.request("GET", "/api/v1/status-changes", params={"since": "5"}, sig_headers=signed)
    assert response.json()["error"] == "bad_signature"


def test_wrong_key(kiosk):
    response = _status(kiosk, key=Ed25519PrivateKey.generate())
    assert response.status_code == 401
    assert response.json()["error"] == "bad_signature"


def test_missing_headers(hall):
    import requests

    response = requests.get(hall.url + "/api/v1/status-changes", timeout=5)
    assert response.status_code == 401
    assert response.json()["error"] == "bad_signature"


def test_stale_timestamp_both_ways(kiosk):
    for skew in (-301, 301, -3600):
        response = _status(kiosk, now=time.time() + skew)
        assert response.status_code == 401, skew
        assert response.json()["error"] == "stale_timestamp"
    assert _status(kiosk, now=time.time() - 200).status_code == 200


def test_nonce_replay(kiosk):
    from offline_queue.signing import sign_headers

    signed = sign_headers(kiosk.private_key, kiosk.device_id, "GET", "/api/v1/status-changes",
                          [], b"", time.time())
    first = kiosk.request("GET", "/api/v1/status-changes", sig_headers=signed)
    assert first.status_code == 200
    again = kiosk.request("GET", "/api/v1/status-changes", sig_headers=signed)
    assert again.status_code == 401
    assert again.json()["error"] == "replayed_nonce"


def test_unknown_device_and_bad_signature_get_one_answer(kiosk):
    """Issue 9 (low): the answer must not tell which device ids exist."""
    real_key = kiosk.private_key
    kiosk.private_key = Ed25519PrivateKey.generate()
    wrong_key = _status(kiosk)
    kiosk.private_key = real_key
    kiosk.device_id = "kiosk-00000000"
    unknown = _status(kiosk)
    assert unknown.status_code == wrong_key.status_code == 401
    assert unknown.json() == wrong_key.json() == {"error": "bad_signature",
                                                  "detail": "the request's signature does not verify"}


def test_revoked_device(hall, kiosk):
    assert _status(kiosk).status_code == 200
    hall.revoke(kiosk.device_id)
    response = _status(kiosk)
    assert response.status_code == 403
    assert response.json() == {"error": "device_revoked", "detail": "this device has been revoked"}
    assert [d["revoked"] for d in hall.devices() if d["device_id"] == kiosk.device_id] == [True]
