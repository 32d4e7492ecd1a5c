"""One body reader per process (hall/api/body_limit.py ``BodyReader``): the body limit and the
heartbeat's fast path read with it, so a heartbeat's body counts toward ``max_buffered_bytes``
like any other, and is given back once its answer is sent. In-process, without a server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from hall.api.body_limit import BodyLimitMiddleware, BodyReader, BodyRefused, ClientLeft
from hall.api.errors import error_body
from hall.core.config import Settings

SIGNED = [(b"x-device-id", b"dev-1"), (b"x-timestamp", b"1"), (b"x-nonce", b"n-1"), (b"x-signature", b"s")]


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path, db_url=f"sqlite:///{tmp_path / 'hall.db'}", **overrides)


def _receiving(*chunks: bytes, then_disconnect: bool = False):
    messages = [{"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1}
                for n, chunk in enumerate(chunks)]
    if then_disconnect:
        messages[-1]["more_body"] = True
        messages.append({"type": "http.disconnect"})

    async def receive() -> dict:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # a client that stopped sending
        raise AssertionError("unreachable")
    return receive


def test_the_reader_counts_while_held_and_gives_back_on_every_refusal(tmp_path):
    reader = BodyReader(_settings(tmp_path, max_buffered_bytes=100, body_idle_timeout_s=0.05))

    async def scenario() -> None:
        body = await reader.read(_receiving(b"ab", b"cd"), limit=10)
        assert body == b"abcd" and reader.held == 4
        reader.release(len(body))
        refusals: list[object] = []
        for receive, limit in ((_receiving(b"x" * 6, b"x" * 6), 10),  # over the route's limit
                               (_receiving(b"x" * 60, b"x" * 60), 1000),  # the process full of bodies
                               (_receiving(b"x" * 5, then_disconnect=True), 10),
                               (_pausing(b"x" * 5), 10)):  # stops sending: the idle timeout
            try:
                await reader.read(receive, limit)
            except BodyRefused as refused:
                refusals.append((refused.status, refused.code, refused.transient))
            except ClientLeft:
                refusals.append("left")
            assert reader.held == 0
        assert refusals == [(413, "too_large", False), (503, "busy", True), "left",
                            (503, "body_timeout", True)]
        # Declared sizes are refused before a byte is read.
        reader.held = 95
        for length, code in ((b"x1", "bad_request"), (b"11", "too_large"), (b"6", "busy")):
            with pytest.raises(BodyRefused) as caught:
                reader.check_declared({"headers": [(b"content-length", length)]}, limit=10)
            assert caught.value.code == code

    asyncio.run(scenario())


def _pausing(first: bytes):
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": first, "more_body": True}
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")
    return receive


def test_heartbeat_bodies_share_the_process_budget_and_are_given_back_after_the_answer(tmp_path):
    from hall.api.heartbeat_fast_path import HeartbeatFastPath
    from hall.app import create_app

    settings = _settings(tmp_path, max_buffered_bytes=1000)
    app = create_app(settings)
    fast = HeartbeatFastPath(app)
    reader = app.state.body_reader
    limit = next(layer for layer in app.user_middleware if layer.cls is BodyLimitMiddleware)
    assert limit.kwargs["reader"] is reader  # the body limit's reader is the fast path's

    async def heartbeat(headers: list[tuple[bytes, bytes]], *chunks: bytes) -> tuple[int, dict, bytes]:
        sent: list[dict] = []

        async def send(message: dict) -> None:
            sent.append(message)
        scope = {"type": "http", "method": "POST", "path": "/api/v1/heartbeat", "headers": SIGNED + headers}
        await fast(scope, _receiving(*chunks), send)
        head = sent[0]
        return head["status"], dict(head["headers"]), sent[1]["body"]

    async def scenario() -> None:
        reader.held = 990  # other requests' bodies
        for headers, chunks in (([(b"content-length", b"20")], [b"{}" * 10]),  # declared: not read
                                ([(b"transfer-encoding", b"chunked")], [b"{}" * 5, b"{}" * 5])):
            status, answer_headers, body = await heartbeat(headers, *chunks)
            assert status == 503 and body == error_body("busy", "the hall is busy; try again later")
            assert answer_headers[b"retry-after"] == str(settings.retry_after_s).encode()
            assert answer_headers[b"connection"] == b"close"
            assert b"x-hall-signature" in answer_headers  # a signed request gets a signed answer
            assert reader.held == 990
        reader.held = 0

        async def one_request() -> tuple[bytes, int]:  # under uvicorn: one task per request
            body = await fast._read_body({"headers": []}, _receiving(b'{"queue":', b"{}}"), _no_send, {})
            return body, reader.held

        body, held_while_answering = await asyncio.create_task(one_request())
        assert json.loads(body) == {"queue": {}} and held_while_answering == len(body)
        await asyncio.sleep(0)  # the task's done callbacks run on the next turn
        assert reader.held == 0  # given back when the request's task ended

    asyncio.run(scenario())


async def _no_send(message: dict) -> None:
    raise AssertionError(f"nothing to answer here: {message}")
