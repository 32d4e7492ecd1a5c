"""Request signatures verify over exactly what was signed."""

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from offline_queue.signing import canonical_query, sign_headers, verify_signature


def _signed(key, body=b'{"a":1}', query=(("since", "17"),)):
    return sign_headers(key, "kiosk-1", "post", "/api/v1/applications", query, body, 1_795_000_000.5)


def test_round_trip():
    key = Ed25519PrivateKey.generate()
    headers = _signed(key)
    assert headers["X-Timestamp"] == "1795000000"
    assert len(headers["X-Nonce"]) == 32
    assert verify_signature(
        key.public_key(), headers, "POST", "/api/v1/applications", [("since", "17")], b'{"a":1}'
    )


def test_nonce_is_fresh():
    key = Ed25519PrivateKey.generate()
    assert _signed(key)["X-Nonce"] != _signed(key)["X-Nonce"]


def test_tampered_body_path_query_or_key_fail():
    key = Ed25519PrivateKey.generate()
    headers = _signed(key)
    pub = key.public_key()
    path = "/api/v1/applications"
    assert not verify_signature(pub, headers, "POST", path, [("since", "17")], b'{"a":2}')
    assert not verify_signature(pub, headers, "POST", "/api/v1/uploads", [("since", "17")], b'{"a":1}')
    assert not verify_signature(pub, headers, "POST", path, [("since", "18")], b'{"a":1}')
    assert not verify_signature(pub, headers, "GET", path, [("since", "17")], b'{"a":1}')
    other = Ed25519PrivateKey.generate().public_key()
    assert not verify_signature(other, headers, "POST", path, [("since", "17")], b'{"a":1}')
    assert not verify_signature(
        pub, {**headers, "X-Device-Id": "kiosk-2"}, "POST", path, [("since", "17")], b'{"a":1}'
    )
    assert not verify_signature(pub, {}, "POST", path, [], b"")


def test_canonical_query_sorts_and_encodes():
    assert canonical_query([("b", "2"), ("a", "x y"), ("a", "1")]) == "a=1&a=x%20y&b=2"
