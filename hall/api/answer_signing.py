"""Signed answers (protocol section 5.1): the hall signs what it answers a kiosk.

One ASGI middleware. For every request under ``/api/v1`` that carries the kiosk's
``X-Device-Id`` and ``X-Nonce`` it signs the answer with the hall's Ed25519 key over
``offline_queue.signing.answer_string`` (device id, the request's nonce, the status and
the body's SHA-256) and adds ``X-Hall-Signature``; the enrolment answer is signed with
device id "" and the SHA-256 of the enrolment request body in the nonce's place. The
kiosk pinned the key at enrolment and applies nothing from an answer that does not
verify, so a fake hall on the path cannot tell it "rejected" or "completed".

The answer is held until its last body part (API answers are small JSON) because the
signature header must go out before the body. The request body is only hashed as it
passes, never held here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from offline_queue.signing import (
    HEADER_DEVICE,
    HEADER_HALL_SIGNATURE,
    HEADER_NONCE,
    AnswerSigner,
    sign_answer,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_PREFIX = "/api/v1/"
ENROLMENT_PATH = "/api/v1/enrolment"


_HEADER_NAME = HEADER_HALL_SIGNATURE.lower().encode("latin-1")


def signature_header(key: AnswerSigner | Ed25519PrivateKey, device_id: str, nonce: str, status: int,
                     body: bytes) -> tuple[bytes, bytes]:
    """The ``X-Hall-Signature`` header of one answer, as an ASGI header pair (also used by the
    heartbeat's fast path, hall/api/heartbeat_fast_path.py, which answers before this layer)."""
    return _HEADER_NAME, sign_answer(key, device_id, nonce, status, body).encode("ascii")


class AnswerSigning:
    """``app.add_middleware(AnswerSigning, key=hall_keys.sign_private)``."""

    def __init__(self, app: ASGIApp, key: Ed25519PrivateKey) -> None:
        self.app = app
        self.key = AnswerSigner(key)  # libsodium's signature: the same bytes, in less than half the time

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        device_id = headers.get(HEADER_DEVICE.lower())
        nonce = headers.get(HEADER_NONCE.lower())
        enrolment = scope["path"] == ENROLMENT_PATH and scope["method"] == "POST"
        if not enrolment and not (device_id and nonce):
            await self.app(scope, receive, send)  # unsigned requests (health) get unsigned answers
            return
        request_hash = hashlib.sha256()

        async def hashing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request_hash.update(message.get("body", b""))
            return message

        start: Message | None = None
        parts: list[bytes] = []

        async def signing_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            parts.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(parts)
            if enrolment:
                signed = signature_header(self.key, "", request_hash.hexdigest(), start["status"], body)
            else:
                signed = signature_header(self.key, device_id or "", nonce or "", start["status"], body)
            start_headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != _HEADER_NAME]
            start_headers.append(signed)
            await send({**start, "headers": start_headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, hashing_receive if enrolment else receive, signing_send)
