"""The load mix of issue 9, as an asyncio + httpx client (the burst test and
``benchmarks/abuse.py`` share it).

Kinds of request, each recorded as one ``Outcome``:

* ``health``  — ``GET /api/v1/health`` (unsigned)
* ``feed``    — the signed status feed ``GET /api/v1/status-changes``
* ``login``   — ``POST /console/login`` with a wrong password
* ``upload``  — signed ``POST /api/v1/uploads`` and, when created, one signed ``PATCH``
  of the whole small blob (recorded as ``upload`` and ``chunk``)
* ``junk``    — unsigned ``POST /api/v1/applications`` (refused 401 at the signature)
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from offline_queue.signing import sign_headers

SHED = (429, 503)  # answers that mean "come back later": must carry Retry-After


@dataclass(frozen=True)
class Kiosk:
    device_id: str
    key: Ed25519PrivateKey


@dataclass(frozen=True)
class Outcome:
    kind: str
    status: int | None  # None: no answer (timeout, reset)
    seconds: float
    retry_after: bool
    error: str = ""


async def enrol(client: httpx.AsyncClient, base: str, code: str) -> Kiosk:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    body = {"code": code, "public_key": base64.b64encode(public).decode(), "name": "load kiosk",
            "versions": {"kiosk": "0.1.0"}}
    answer = await client.post(base + "/api/v1/enrolment", json=body)
    answer.raise_for_status()
    return Kiosk(answer.json()["device_id"], key)


def _signed(kiosk: Kiosk, method: str, path: str, body: bytes = b"", extra: dict | None = None) -> dict:
    headers = sign_headers(kiosk.key, kiosk.device_id, method, path, [], body, time.time())
    return {**headers, **(extra or {})}


async def _timed(kind: str, call) -> tuple[Outcome, httpx.Response | None]:
    started = time.monotonic()
    try:
        answer = await call()
    except httpx.HTTPError as exc:
        return Outcome(kind, None, time.monotonic() - started, False, type(exc).__name__), None
    return Outcome(kind, answer.status_code, time.monotonic() - started,
                   "retry-after" in answer.headers), answer


async def one(client: httpx.AsyncClient, base: str, kind: str, kiosk: Kiosk | None) -> list[Outcome]:
    if kind == "health":
        return [(await _timed(kind, lambda: client.get(base + "/api/v1/health")))[0]]
    if kind == "feed":
        path = "/api/v1/status-changes"
        return [(await _timed(kind, lambda: client.get(base + path, headers=_signed(kiosk, "GET", path))))[0]]
    if kind == "login":
        form = {"username": "clerk", "password": "wrong-" + os.urandom(4).hex()}
        return [(await _timed(kind, lambda: client.post(base + "/console/login", data=form)))[0]]
    if kind == "junk":
        body = b'{"id": "x"}'
        return [(await _timed(kind, lambda: client.post(
            base + "/api/v1/applications", content=body, headers={"Content-Type": "application/json"})))[0]]
    if kind == "upload":
        blob = os.urandom(4096)
        body = json.dumps({"sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob)}).encode()
        path = "/api/v1/uploads"
        created, answer = await _timed("upload", lambda: client.post(
            base + path, content=body,
            headers=_signed(kiosk, "POST", path, body, {"Content-Type": "application/json"})))
        outcomes = [created]
        if answer is not None and answer.status_code == 201:
            chunk_path = f"{path}/{answer.json()['upload_id']}"
            headers = _signed(kiosk, "PATCH", chunk_path, blob, {
                "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
            chunk, _ = await _timed("chunk", lambda: client.patch(base + chunk_path, content=blob,
                                                                  headers=headers))
            outcomes.append(chunk)
        return outcomes
    raise ValueError(kind)


async def burst(base: str, kiosks: list[Kiosk], kinds: list[str], concurrency: int,
                timeout_s: float = 30.0) -> list[Outcome]:
    """Send every request of ``kinds`` at once over up to ``concurrency`` connections."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=timeout_s) as client:
        jobs = [one(client, base, kind, kiosks[i % len(kiosks)] if kiosks else None)
                for i, kind in enumerate(kinds)]
        results = await asyncio.gather(*jobs)
    return [outcome for group in results for outcome in group]


def enrol_all(base: str, codes: list[str]) -> list[Kiosk]:
    async def run() -> list[Kiosk]:
        async with httpx.AsyncClient(timeout=30) as client:
            return [await enrol(client, base, code) for code in codes]
    return asyncio.run(run())
