"""A hall's ASGI app driven in the benchmark's own process, without the network.

Shared by heartbeat_cpu.py, heartbeat_protocol_cpu.py and upload_cpu.py. Nothing of the hall
is imported at this module's top: upload_cpu.py's workers import the hall of the tree their
``sys.path`` names, after this module is loaded."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any


async def call(app, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """One request through the ASGI app, as uvicorn would hand it over."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80), "state": {}}
    delivered = False

    async def receive() -> dict:
        nonlocal delivered
        if delivered:  # the app never asks twice for a complete body; wait like a quiet client
            await asyncio.Event().wait()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    status = 0
    parts: list[bytes] = []

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(parts)


async def enrol_kiosks(app, sessionmaker, settings, count: int) -> list[tuple[str, Any]]:
    """``count`` kiosks enrolled through ``app`` for real: (device id, Ed25519 private key)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from hall.services.enrolment import create_code
    from tests.hall.kiosk_client import raw_public

    kiosks = []
    for _ in range(count):
        with sessionmaker() as db:
            code = create_code(db, settings).code
            db.commit()
        key = Ed25519PrivateKey.generate()
        body = json.dumps({"code": code, "public_key": base64.b64encode(raw_public(key)).decode(),
                           "name": "bench", "versions": {"kiosk": "0.1.0"}}).encode()
        status, answer = await call(app, "POST", "/api/v1/enrolment", {"content-type": "application/json"},
                                    body)
        assert status == 201, answer
        kiosks.append((json.loads(answer)["device_id"], key))
    return kiosks
