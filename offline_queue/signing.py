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
that device within the skew window, and a revoked device.

Answers are signed too (protocol section 5.1): the hall signs every answer to a signed
request with its Ed25519 key, over

    hall-answer-v1
    device id
    the request's nonce          (binds the answer to the one request it answers)
    HTTP status code (decimal)
    hex SHA-256 of the answer body bytes

in the header ``X-Hall-Signature``. The kiosk pinned the hall's key at enrolment and
applies nothing from an answer that does not verify. The enrolment answer is signed the
same way with device id "" and, in the nonce's place, the hex SHA-256 of the enrolment
request body. This module holds only the pure functions both sides share; storage of
keys and nonces belongs to each side.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from urllib.parse import quote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.bindings import crypto_core_ed25519_is_valid_point, crypto_sign, crypto_sign_seed_keypair
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

MAX_SKEW_SECONDS = 300
HEADER_DEVICE = "X-Device-Id"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_NONCE = "X-Nonce"
HEADER_SIGNATURE = "X-Signature"
HEADER_HALL_SIGNATURE = "X-Hall-Signature"
ANSWER_CONTEXT = "hall-answer-v1"


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    if isinstance(pairs, (list, tuple)) and not pairs:
        return ""  # no query (the heartbeat's, every beat): what the sort and join of nothing give
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


def request_key(raw_public_key: bytes) -> VerifyKey:
    """A kiosk's public key (32 raw bytes), as ``verify_signature`` takes it.

    The hall verifies every signed request, and a heartbeat's verification was its largest
    single cost: libsodium (PyNaCl) verifies an Ed25519 signature in about half the time
    OpenSSL (cryptography) takes on this machine (103 against 204 µs, one process, rounds in
    turn). The signatures are the same Ed25519 either way; libsodium is only stricter (it
    also refuses small-order keys and non-canonical points, which no honest kiosk makes)."""
    return VerifyKey(raw_public_key)


def usable_public_key(raw_public_key: bytes) -> bool:
    """A key the hall can take: 32 bytes encoding a point of Ed25519's prime-order group.

    Every key a kiosk makes is one. A small-order key (the identity point, say) is not, and
    under it one signature "verifies" for every message with OpenSSL's verification, so a
    kiosk enrolled with such a key could be impersonated by anyone; libsodium refuses such
    keys at every request, so taking one at enrolment would only make a kiosk that can never
    send."""
    return len(raw_public_key) == 32 and crypto_core_ed25519_is_valid_point(raw_public_key)


def verify_signature(
    public_key: VerifyKey,
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
    except (KeyError, ValueError):
        return False
    return signature_matches(public_key, message, signature)


def signature_matches(public_key: VerifyKey, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is ``public_key``'s over ``message`` (the canonical string); a
    malformed signature is a mismatch, not an error."""
    try:
        public_key.verify(message, signature)
    except (ValueError, BadSignatureError):  # PyNaCl's ValueError is Python's too
        return False
    return True


def answer_string(device_id: str, request_nonce: str, status_code: int, body: bytes) -> bytes:
    """The canonical string the hall signs for one answer (see the module docstring)."""
    body_hash = hashlib.sha256(body).hexdigest()
    lines = [ANSWER_CONTEXT, device_id, request_nonce, str(int(status_code)), body_hash]
    return "\n".join(lines).encode("utf-8")


class AnswerSigner:
    """The hall's Ed25519 key held for libsodium (PyNaCl), to sign answers with.

    The hall signs every answer to a signed request; OpenSSL's (cryptography's) signature took
    69 µs on this machine, libsodium's 26–29 µs. Ed25519 signing is deterministic (RFC 8032),
    so both give the same 64 bytes for the same key and message
    (tests/offline_queue/test_answer_signing.py): a kiosk verifies them with whatever it uses."""

    __slots__ = ("_secret",)

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        # libsodium's 64-byte secret key (seed and public key) made from the same 32-byte seed.
        self._secret = crypto_sign_seed_keypair(private_key.private_bytes_raw())[1]

    def sign(self, message: bytes) -> bytes:
        return crypto_sign(message, self._secret)[:64]  # the signed message: signature, then message


def sign_answer(
    private_key: Ed25519PrivateKey | AnswerSigner, device_id: str, request_nonce: str, status_code: int,
    body: bytes,
) -> str:
    """The value of ``X-Hall-Signature`` for one answer (the hall signs with an ``AnswerSigner``)."""
    message = answer_string(device_id, request_nonce, status_code, body)
    return base64.b64encode(private_key.sign(message)).decode("ascii")


def verify_answer(
    public_key: Ed25519PublicKey,
    signature_header: str | None,
    device_id: str,
    request_nonce: str,
    status_code: int,
    body: bytes,
) -> bool:
    """True when ``signature_header`` is the hall's signature over this very answer."""
    if not signature_header:
        return False
    try:
        signature = base64.b64decode(signature_header, validate=True)
        public_key.verify(signature, answer_string(device_id, request_nonce, status_code, body))
    except (ValueError, InvalidSignature):
        return False
    return True
