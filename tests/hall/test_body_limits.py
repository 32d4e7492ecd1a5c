"""Finding 2 of issue 9: a body over its route's limit is refused while it arrives.

The hall used to buffer a chunked body whole (``request.body()``) before any check, also
on the unsigned enrolment endpoint: one request took it from 95 MiB to 3 GiB. Here the
413 must come back while the client is still sending, and the hall's RSS must not grow
with the bytes thrown at it.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.hall.raw_http import connect, read_answer, rss_bytes, stream_chunked
from tests.support.hall_process import HallProcess

MiB = 1024 * 1024
# Signature headers (not valid ones): the body limit comes before the signature check. A
# request to a signed endpoint without them is refused 401 at the front door before a
# byte of its body is read (tests/hall/test_front_door.py).
FAKE_SIGNATURE = {"X-Device-Id": "dev-x", "X-Timestamp": "1", "X-Nonce": "n", "X-Signature": "s"}


def _signature_for(path: str) -> dict[str, str]:
    return {} if path == "/api/v1/enrolment" else FAKE_SIGNATURE


@pytest.fixture(scope="module")
def small_hall(tmp_path_factory):
    with HallProcess(tmp_path_factory.mktemp("hall-limits")) as process:
        yield process


CHUNK_TYPE = "application/offset+octet-stream"


@pytest.mark.parametrize("method, path, limit, content_type", [
    ("POST", "/api/v1/enrolment", 16 * 1024, "application/json"),
    ("POST", "/api/v1/applications", 4 * MiB, "application/json"),
    ("PATCH", "/api/v1/uploads/up-0123", 16 * MiB, CHUNK_TYPE),
    ("POST", "/api/v1/uploads", 4 * MiB, "application/json"),  # the JSON create
    ("POST", "/api/v1/uploads", 16 * MiB, CHUNK_TYPE),  # a create with its first bytes: a chunk's
])
def test_chunked_body_gets_413_before_it_is_read(small_hall, method, path, limit, content_type):
    answer, sent = stream_chunked(small_hall.port, method, path, total_bytes=256 * MiB,
                                  headers={"Content-Type": content_type, **_signature_for(path)})
    assert answer.status == 413, answer.head
    assert b"too_large" in answer.body
    # The answer came while the client was sending: it sent the limit and what the
    # socket buffers hold, nowhere near the 256 MiB it meant to.
    assert sent < limit + 32 * MiB


@pytest.mark.parametrize("content_type, status", [("application/json", 413), (CHUNK_TYPE, 401)])
def test_a_create_with_its_first_bytes_has_a_chunk_s_limit(small_hall, content_type, status):
    """6 MiB: over the JSON limit (refused on its Content-Length), within a chunk's (read, then
    refused by the signature check: these are not a kiosk's)."""
    answer = requests.post(small_hall.url + "/api/v1/uploads", data=b"x" * (6 * MiB), timeout=30,
                           headers={"Content-Type": content_type, "Upload-Length": str(6 * MiB),
                                    "Upload-Sha256": "a" * 64, **FAKE_SIGNATURE})
    assert answer.status_code == status, answer.text


def test_declared_length_over_the_limit_is_refused_without_reading(small_hall):
    sock = connect(small_hall.port)
    try:
        sock.sendall(b"POST /api/v1/enrolment HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1048576\r\n\r\n")
        started = time.monotonic()
        answer = read_answer(sock, timeout_s=5)
    finally:
        sock.close()
    assert answer.status == 413
    assert time.monotonic() - started < 2


def test_bad_content_length_is_400(small_hall):
    sock = connect(small_hall.port)
    try:
        sock.sendall(b"POST /api/v1/applications HTTP/1.1\r\nHost: x\r\nContent-Length: \xb2\r\n"
                     + "".join(f"{k}: {v}\r\n" for k, v in FAKE_SIGNATURE.items()).encode() + b"\r\n")
        answer = read_answer(sock, timeout_s=5)
    finally:
        sock.close()
    assert answer.status == 400


def test_memory_stays_flat_under_endless_bodies(small_hall):
    """Six clients each pour 256 MiB at the hall (enrolment, applications, upload chunks):
    the process grows by less than 50 MiB."""
    pid = small_hall.pid
    assert requests.get(small_hall.url + "/api/v1/health", timeout=5).status_code == 200
    baseline = rss_bytes(pid)
    peak = baseline
    answers: list[int | None] = []

    def pour(method: str, path: str) -> None:
        answer, _ = stream_chunked(small_hall.port, method, path, total_bytes=256 * MiB,
                                   headers=_signature_for(path))
        answers.append(answer.status)

    threads = [threading.Thread(target=pour, args=args) for args in [
        ("POST", "/api/v1/enrolment"), ("POST", "/api/v1/applications"), ("PATCH", "/api/v1/uploads/u1"),
        ("POST", "/api/v1/enrolment"), ("POST", "/api/v1/applications"), ("PATCH", "/api/v1/uploads/u2"),
    ]]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        peak = max(peak, rss_bytes(pid))
        time.sleep(0.02)
    for thread in threads:
        thread.join()
    assert answers == [413] * 6
    assert peak - baseline < 50 * MiB, f"RSS grew by {(peak - baseline) / MiB:.0f} MiB"
    assert requests.get(small_hall.url + "/api/v1/health", timeout=5).status_code == 200
