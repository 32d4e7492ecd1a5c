"""Request signatures verify over exactly what was signed."""

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from offline_queue.signing import (
    HEADER_SIGNATURE,
    canonical_query,
    request_key,
    sign_headers,
    verify_signature,
)


def _public(key: Ed25519PrivateKey):
    """The hall's form of the kiosk's key (libsodium's), from cryptography's key as enrolled."""
    return request_key(key.public_key().public_bytes_raw())


def _signed(key, body=b'{"a":1}', query=(("since", "17"),)):
    return sign_headers(key, "kiosk-1", "post", "/api/v1/applications", query, body, 1_795_000_000.5)


def test_round_trip():
    key = Ed25519PrivateKey.generate()
    headers = _signed(key)
    assert headers["X-Timestamp"] == "1795000000"
    assert len(headers["X-Nonce"]) == 32
    assert verify_signature(
        _public(key), headers, "POST", "/api/v1/applications", [("since", "17")], b'{"a":1}'
    )


def test_nonce_is_fresh():
    key = Ed25519PrivateKey.generate()
    assert _signed(key)["X-Nonce"] != _signed(key)["X-Nonce"]


def test_tampered_body_path_query_or_key_fail():
    key = Ed25519PrivateKey.generate()
    headers = _signed(key)
    pub = _public(key)
    path = "/api/v1/applications"
    assert not verify_signature(pub, headers, "POST", path, [("since", "17")], b'{"a":2}')
    assert not verify_signature(pub, headers, "POST", "/api/v1/uploads", [("since", "17")], b'{"a":1}')
    assert not verify_signature(pub, headers, "POST", path, [("since", "18")], b'{"a":1}')
    assert not verify_signature(pub, headers, "GET", path, [("since", "17")], b'{"a":1}')
    other = _public(Ed25519PrivateKey.generate())
    assert not verify_signature(other, headers, "POST", path, [("since", "17")], b'{"a":1}')
    assert not verify_signature(
        pub, {**headers, "X-Device-Id": "kiosk-2"}, "POST", path, [("since", "17")], b'{"a":1}'
    )
    assert not verify_signature(pub, {}, "POST", path, [], b"")


def test_malformed_signatures_and_a_small_order_key_are_refused_not_raised():
    key = Ed25519PrivateKey.generate()
    headers, path, query, body = _signed(key), "/api/v1/applications", [("since", "17")], b'{"a":1}'
    for bad in ("", "not base64!", "AAAA", headers[HEADER_SIGNATURE][:-8], "A" * 88):
        signed = {**headers, HEADER_SIGNATURE: bad}
        assert not verify_signature(_public(key), signed, "POST", path, query, body)
    # the identity point as the key, and R = identity, S = 0 as the signature: [S]B = R + [k]A
    # holds for every message: OpenSSL (cryptography 50) takes it, libsodium refuses the key
    identity = bytes([1]) + bytes(31)
    small_order = request_key(identity)
    forged = {**headers, HEADER_SIGNATURE: base64.b64encode(identity + bytes(32)).decode()}
    assert not verify_signature(small_order, forged, "POST", path, query, body)
    assert not verify_signature(small_order, headers, "POST", path, query, body)


def test_canonical_query_sorts_and_encodes():
    assert canonical_query([("b", "2"), ("a", "x y"), ("a", "1")]) == "a=1&a=x%20y&b=2"
