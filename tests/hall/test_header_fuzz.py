"""Hypothesis against a real hall: no protocol header value makes it answer 500.

The low item of issue 9 (``Upload-Offset: ²`` gave a 500) generalised: the signature
headers (X-Timestamp, X-Nonce, X-Signature, X-Device-Id) on a signed GET, and
Upload-Offset, Upload-Length and Idempotency-Key behind a valid signature. Any byte a
header may carry is tried (h11 itself refuses control characters with a 400). Bounded
to a few hundred examples, well under a minute.
"""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offline_queue.signing import sign_headers
from tests.hall.kiosk_client import SignedClient
from tests.hall.raw_http import request
from tests.support.hall_process import HallProcess

_HEADER_BYTES = st.binary(min_size=0, max_size=80).map(
    lambda raw: bytes(b for b in raw if b not in b"\r\n\x00").strip(b" \t"))
_INTERESTING = st.sampled_from([
    b"", b"0", b"-1", b"+1", b"1.5", b"1e9", "²".encode(), "²".encode("latin-1"), "١٢٣".encode(),
    "１２３".encode(), b"9" * 5000, b"00000000000000000000001", b"null", b"\xff\xfe", b"%00", b"../../x",
    b"0x10", b"  7", b"7 7",
])
VALUES = st.one_of(_INTERESTING, _HEADER_BYTES, st.integers(-2**70, 2**70).map(lambda n: str(n).encode()))
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def acceptable(status: int | None, head: str) -> bool:
    if status is None:
        return False
    if status in (429, 503, 507):
        return "retry-after" in head.lower()
    return status < 500


@pytest.fixture(scope="module")
def fuzz_hall(tmp_path_factory):
    with HallProcess(tmp_path_factory.mktemp("hall-fuzz")) as process:
        process.kiosk = SignedClient.enrolled(process.url, process.enrollment_code())
        yield process


def signed(kiosk: SignedClient, method: str, path: str, body: bytes = b"") -> dict[str, str]:
    return sign_headers(kiosk.private_key, kiosk.device_id, method, path, [], body, time.time())


@FUZZ
@given(which=st.sets(st.sampled_from(["X-Timestamp", "X-Nonce", "X-Signature", "X-Device-Id"]), min_size=1),
       value=VALUES)
def test_signature_headers_never_500(fuzz_hall, which, value):
    path = "/api/v1/status-changes"
    headers = signed(fuzz_hall.kiosk, "GET", path)
    raw = [(name.encode(), value if name in which else headers[name].encode()) for name in headers]
    answer = request(fuzz_hall.port, "GET", path, raw)
    assert acceptable(answer.status, answer.head), (which, value, answer.status, answer.body[:200])


@FUZZ
@given(offset=VALUES, length=VALUES)
def test_upload_headers_never_500(fuzz_hall, offset, length):
    kiosk = fuzz_hall.kiosk
    if not hasattr(fuzz_hall, "upload_id"):
        fuzz_hall.upload_id = kiosk.create_upload(b"fuzz" * 100).json()["upload_id"]
    path = f"/api/v1/uploads/{fuzz_hall.upload_id}"
    body = b"fuzz"
    raw = [(k.encode(), v.encode()) for k, v in signed(kiosk, "PATCH", path, body).items()]
    raw += [(b"Content-Type", b"application/offset+octet-stream"), (b"Upload-Offset", offset),
            (b"Upload-Length", length)]
    answer = request(fuzz_hall.port, "PATCH", path, raw, body)
    assert acceptable(answer.status, answer.head), (offset, length, answer.status, answer.body[:200])


@FUZZ
@given(key=VALUES)
def test_idempotency_key_never_500(fuzz_hall, key):
    kiosk = fuzz_hall.kiosk
    payload, _ = kiosk.make_application()
    body = json.dumps(payload).encode()
    path = "/api/v1/applications"
    raw = [(k.encode(), v.encode()) for k, v in signed(kiosk, "POST", path, body).items()]
    raw += [(b"Content-Type", b"application/json"), (b"Idempotency-Key", key)]
    answer = request(fuzz_hall.port, "POST", path, raw, body)
    assert acceptable(answer.status, answer.head), (key, answer.status, answer.body[:200])
