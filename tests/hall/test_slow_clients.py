"""Finding 6 of issue 9: half-sent heads and bodies are not held forever.

3,000 sockets that sent half a request were held 70 s and more; with 1,024 file
descriptors the hall stopped answering. Now a head must be complete within
``--header-timeout`` and a body must keep arriving (``--body-timeout``); past
``--max-connections`` a new connection gets 503 + Retry-After at once.
"""

from __future__ import annotations

import time

import pytest
import requests

from tests.hall.raw_http import connect, is_closed_by_peer, read_answer
from tests.support.hall_process import HallProcess


@pytest.fixture(scope="module")
def strict_hall(tmp_path_factory):
    args = ["--header-timeout", "1", "--body-timeout", "1", "--max-connections", "60"]
    with HallProcess(tmp_path_factory.mktemp("hall-slow"), serve_args=args) as process:
        yield process


def test_half_sent_heads_and_bodies_are_closed_and_others_served(strict_hall):
    port = strict_hall.port
    silent = [connect(port) for _ in range(10)]  # connect, send nothing
    half_heads = [connect(port) for _ in range(20)]
    for sock in half_heads:
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    half_bodies = [connect(port) for _ in range(20)]
    for sock in half_bodies:
        sock.sendall(b"POST /api/v1/enrolment HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"code\": ")
    try:
        # While they hang, the hall answers others at once.
        started = time.monotonic()
        assert requests.get(strict_hall.url + "/api/v1/health", timeout=5).status_code == 200
        assert time.monotonic() - started < 1
        # A second later the hall has closed every one of them.
        for sock in silent + half_heads:
            assert is_closed_by_peer(sock, timeout_s=5)
        for sock in half_bodies:
            answer = read_answer(sock, timeout_s=5)
            assert answer.status == 503 and "retry-after" in answer.head.lower()
            assert is_closed_by_peer(sock, timeout_s=5)
    finally:
        for sock in silent + half_heads + half_bodies:
            sock.close()
    assert requests.get(strict_hall.url + "/api/v1/health", timeout=5).status_code == 200


def test_a_head_dribbled_byte_by_byte_is_cut_off(strict_hall):
    sock = connect(strict_hall.port)
    try:
        started = time.monotonic()
        closed = False
        for byte in b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n" * 10:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.05)
            if time.monotonic() - started > 4:
                break
        assert closed or is_closed_by_peer(sock, timeout_s=1)
        assert time.monotonic() - started < 4
    finally:
        sock.close()


def test_connections_over_the_cap_get_503_with_retry_after(strict_hall):
    held = [connect(strict_hall.port) for _ in range(60)]
    try:
        time.sleep(0.2)
        sock = connect(strict_hall.port)
        try:
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_answer(sock, timeout_s=5)
        sock.close()
        assert answer.status == 503
        assert "retry-after: 2" in answer.head.lower()
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.2)
    assert requests.get(strict_hall.url + "/api/v1/health", timeout=5).status_code == 200


def test_answers_given_at_the_door_keep_the_connection_alive_past_the_head_timeout(strict_hall):
    """Health and a missing signature are answered by the connection's protocol without an
    ASGI task (hall/api/connection_guard.py); the connection lives on as after any answer:
    requests a little apart on one connection, 1.2 s in all, outlive the 1 s head timeout."""
    sock = connect(strict_hall.port)
    try:
        for _ in range(3):
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = read_answer(sock, timeout_s=5)
            assert (answer.status, answer.body) == (200, b'{"status":"ok"}')
            assert "cache-control: no-store" in answer.head.lower() and "date:" in answer.head.lower()
            time.sleep(0.6)
        # Two requests in one packet (pipelined): two answers, in order.
        sock.sendall(b"GET /api/v1/status-changes HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"HEAD /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while data.count(b"HTTP/1.1 ") < 2 or not data.endswith(b"\r\n\r\n"):
            data += sock.recv(65536)
        assert data.startswith(b"HTTP/1.1 401") and b'"bad_signature"' in data
        assert data.split(b"}", 1)[1].startswith(b"HTTP/1.1 200")
        # Unsigned junk with a body: 401, and the connection closed (its body is not read).
        sock.sendall(b"POST /api/v1/applications HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{")
        answer = read_answer(sock, timeout_s=5)
        assert answer.status == 401 and "connection: close" in answer.head.lower()
        assert is_closed_by_peer(sock, timeout_s=5)
    finally:
        sock.close()


def test_after_a_whole_request_a_half_sent_head_on_the_same_connection_is_cut_off(strict_hall):
    """Under httptools the head timer is armed only when a read leaves a head incomplete
    (hall/api/connection_guard.py): a head that came whole costs none, a half one is still cut
    off — also the second request of a keep-alive connection, and one that follows a whole
    request in the same packet."""
    for tail in (b"", b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: "):
        sock = connect(strict_hall.port)
        try:
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n" + tail)
            assert read_answer(sock, timeout_s=5).status == 200
            if not tail:
                sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            started = time.monotonic()
            assert is_closed_by_peer(sock, timeout_s=5)
            assert time.monotonic() - started < 3
        finally:
            sock.close()
