"""The keep-alive timeout under ``GuardedHttpToolsProtocol``'s lazy timer (hall/api/connection_guard.py):
one timer per connection instead of one made and cancelled per request, with uvicorn's rule kept —
a connection idle for ``timeout_keep_alive`` since its last answer is closed, one that keeps
sending is not, and a request that takes longer than the timeout is answered, not cut off."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import uvicorn

from hall.api.connection_guard import HttpToolsProtocol
from tests.hall.raw_http import connect, is_closed_by_peer, read_answer, served_in_thread

pytestmark = pytest.mark.skipif(HttpToolsProtocol is None, reason="httptools is not installed")
KEEP_ALIVE_S = 1


async def app(scope, receive, send) -> None:  # noqa: ANN001
    """Answers 200 at once, or after ``?wait=<seconds>``."""
    if scope["type"] != "http":
        return
    query = scope["query_string"].decode()
    if query.startswith("wait="):
        await asyncio.sleep(float(query[5:]))
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    from hall.api.connection_guard import GuardedHttpToolsProtocol  # type: ignore[attr-defined]

    config = uvicorn.Config(app, http=GuardedHttpToolsProtocol, log_level="warning", lifespan="off",
                            access_log=False, timeout_keep_alive=KEEP_ALIVE_S)
    with served_in_thread(config) as port:
        yield port


def ask(sock, target: str = "/") -> int | None:  # noqa: ANN001
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return read_answer(sock).status


def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(port):
    sock = connect(port)
    assert ask(sock) == 200
    started = time.monotonic()
    assert is_closed_by_peer(sock, 5 * KEEP_ALIVE_S)
    assert time.monotonic() - started >= 0.8 * KEEP_ALIVE_S
    sock.close()


def test_a_connection_that_keeps_asking_stays_open_past_the_timeout(port):
    sock = connect(port)
    started = time.monotonic()
    while time.monotonic() - started < 3 * KEEP_ALIVE_S:  # the first timer fires while it still asks
        assert ask(sock) == 200
        time.sleep(0.4 * KEEP_ALIVE_S)
    assert not is_closed_by_peer(sock, 0.3 * KEEP_ALIVE_S)
    assert is_closed_by_peer(sock, 5 * KEEP_ALIVE_S)  # then idle: closed
    sock.close()


def test_a_request_longer_than_the_timeout_is_answered_and_the_idle_time_counts_from_its_answer(port):
    sock = connect(port)
    assert ask(sock) == 200
    time.sleep(0.5 * KEEP_ALIVE_S)
    assert ask(sock, f"/?wait={1.5 * KEEP_ALIVE_S}") == 200  # the first answer's timer fires meanwhile
    answered = time.monotonic()
    assert not is_closed_by_peer(sock, 0.5 * KEEP_ALIVE_S)
    assert is_closed_by_peer(sock, 5 * KEEP_ALIVE_S)
    assert time.monotonic() - answered >= 0.8 * KEEP_ALIVE_S
    sock.close()
