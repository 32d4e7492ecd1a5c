"""Request signing between a kiosk and the county hall (Ed25519).

Every request after enrolment carries four headers:

    X-Device-Id: <device id the hall assigned at enrolment>
    X-Timestamp: <unix seconds, integer>
    X-Nonce:     <32 hex characters, fresh per request>
    X-Signature: <base64 of the Ed25519 signature over the canonical string>

The canonical string is these lines joined by "\\n" (no trailing newline):

    device id
    METHOD (upper case)
    path (as sent, e.g. /api/v1/applications)
    canonical query (pairs sorted by key then value, each percent-encoded, joined by &)
    timestamp
    nonce
    hex SHA-256 of the body bytes (of the empty string when there is no body)

The hall refuses a bad signature, |now - timestamp| > 300 s, a nonce it has seen from
that device within the skew window, and a revoked device. This module holds only the
pure functions both sides share; storage of keys and nonces belongs to each side.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from urllib.parse import quote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MAX_SKEW_SECONDS = 300
HEADER_DEVICE = "X-Device-Id"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_NONCE = "X-Nonce"
HEADER_SIGNATURE = "X-Signature"


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    encoded = sorted((quote(str(k), safe="-._~"), quote(str(v), safe="-._~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_string(
    device_id: str, method: str, path: str, query: str, timestamp: str, nonce: str, body: bytes
) -> bytes:
    body_hash = hashlib.sha256(body).hexdigest()
    lines = [device_id, method.upper(), path, query, timestamp, nonce, body_hash]
    return "\n".join(lines).encode("utf-8")


def sign_headers(
    private_key: Ed25519PrivateKey,
    device_id: str,
    method: str,
    path: str,
    query_pairs: Iterable[tuple[str, str]],
    body: bytes,
    now: float,
) -> dict[str, str]:
    """The four signature headers for one request."""
    timestamp = str(int(now))
    nonce = secrets.token_hex(16)
    message = canonical_string(device_id, method, path, canonical_query(query_pairs), timestamp, nonce, body)
    signature = base64.b64encode(private_key.sign(message)).decode("ascii")
    return {
        HEADER_DEVICE: device_id,
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature,
    }


def verify_signature(
    public_key: Ed25519PublicKey,
    headers: Mapping[str, str],
    method: str,
    path: str,
    query_pairs: Iterable[tuple[str, str]],
    body: bytes,
) -> bool:
    """True when the signature header matches; skew and replay are the caller's checks."""
    try:
        signature = base64.b64decode(headers[HEADER_SIGNATURE], validate=True)
        message = canonical_string(
            headers[HEADER_DEVICE],
            method,
            path,
            canonical_query(query_pairs),
            headers[HEADER_TIMESTAMP],
            headers[HEADER_NONCE],
            body,
        )
        public_key.verify(signature, message)
    except (KeyError, ValueError, InvalidSignature):
        return False
    return True
