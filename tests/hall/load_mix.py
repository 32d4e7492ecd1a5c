"""The load mix of issue 9 over raw asyncio streams (the burst test and
``benchmarks/abuse.py`` share it).

httpx topped out at ~50 requests/s with 250 connections on this 2-core machine (its
connection pool, not the hall, was the bottleneck), so each load worker here owns one
keep-alive HTTP/1.1 connection written by hand: a request is bytes out, a head and a
``Content-Length`` body in; a ``Connection: close`` answer or an error reconnects.

Kinds of request, each recorded as one ``Outcome``:

* ``health``  — ``GET /api/v1/health`` (unsigned)
* ``feed``    — the signed status feed ``GET /api/v1/status-changes``
* ``login``   — ``POST /console/login`` with a wrong password
* ``upload``  — a kiosk's small box, as the kiosk sends it (offline_queue/transport.py): one
  signed ``POST /api/v1/uploads`` that carries the whole 4 KB blob (docs/protocol.md 6.1,
  recorded as ``upload_whole``); to a hall that refuses that form (an older one: 400/415/422),
  from then on on that connection, the JSON create and, when created, one signed ``PATCH`` of
  the blob (recorded as ``upload`` and ``chunk``), as the kiosk falls back
* ``junk``    — unsigned ``POST /api/v1/applications`` (refused 401 at the front door)

A kiosk honours ``Retry-After`` (offline_queue/sync.py): after a 429/503 to one of its
signed requests it sends nothing for that long (``kiosk_backoff_s``; the load clients
that play kiosks do the same). The anonymous kinds do not: a flood's attacker will not.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import time
import urllib.parse
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from offline_queue.signing import sign_headers
from offline_queue.transport import MAX_RETRY_AFTER_S

SHED = (429, 503)  # answers that mean "come back later": must carry Retry-After
SIGNED_KINDS = frozenset({"feed", "upload", "upload_whole", "chunk"})  # a kiosk's: these honour Retry-After
FORM_REFUSED = (400, 415, 422)  # a hall without the create that carries the bytes (transport.py's, less 413)


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
    wait_s: float = 0.0  # the Retry-After of a 429/503, in seconds (0: none or not a number)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class Connection:
    """One keep-alive HTTP/1.1 connection to the hall."""

    def __init__(self, base: str, timeout_s: float = 30.0) -> None:
        parsed = urllib.parse.urlsplit(base)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.timeout_s = timeout_s
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.json_create = False  # the hall refused the create that carries the bytes: the JSON one

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                      body: bytes = b"") -> Answer:
        try:
            return await asyncio.wait_for(self._exchange(method, path, headers or {}, body), self.timeout_s)
        except BaseException:
            self.close()
            raise

    async def _exchange(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self._writer.drain()
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        answer_headers = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                answer_headers[name.strip().lower()] = value.strip()
        length = int(answer_headers.get("content-length", "0"))
        answer_body = await self._reader.readexactly(length) if method != "HEAD" else b""
        if answer_headers.get("connection", "").lower() == "close":
            self.close()
        return Answer(int(status_line.split(" ", 2)[1]), answer_headers, answer_body)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def enrol(connection: Connection, code: str) -> Kiosk:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    body = json.dumps({"code": code, "public_key": base64.b64encode(public).decode(), "name": "load kiosk",
                       "versions": {"kiosk": "0.1.0"}}).encode()
    answer = await connection.request("POST", "/api/v1/enrolment", {"Content-Type": "application/json"}, body)
    if answer.status != 201:
        raise RuntimeError(f"enrolment failed: {answer.status} {answer.body[:200]!r}")
    return Kiosk(answer.json()["device_id"], key)


def _signed(kiosk: Kiosk, method: str, path: str, body: bytes = b"", extra: dict | None = None) -> dict:
    headers = sign_headers(kiosk.key, kiosk.device_id, method, path, [], body, time.time())
    return {**headers, **(extra or {})}


async def _timed(kind: str, call) -> tuple[Outcome, Answer | None]:
    started = time.monotonic()
    try:
        answer = await call()
    except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
            ValueError) as exc:
        return Outcome(kind, None, time.monotonic() - started, False, type(exc).__name__), None
    return Outcome(kind, answer.status, time.monotonic() - started, "retry-after" in answer.headers,
                   wait_s=retry_after_s(answer)), answer


def retry_after_s(answer: Answer) -> float:
    """A shed answer's Retry-After in seconds (delta-seconds only, as the hall sends it),
    capped as the kiosk caps it (offline_queue/transport.py); 0 when absent or not a number."""
    if answer.status not in SHED:
        return 0.0
    text = answer.headers.get("retry-after", "")
    return min(float(text), MAX_RETRY_AFTER_S) if text.isdigit() else 0.0


def kiosk_backoff_s(outcomes: list[Outcome]) -> float:
    """How long a kiosk stays quiet after these answers: as offline_queue/sync.py does, a
    429/503 with Retry-After holds every request of that kiosk off for that long."""
    return max((o.wait_s for o in outcomes if o.kind in SIGNED_KINDS), default=0.0)


async def one(connection: Connection, kind: str, kiosk: Kiosk | None) -> list[Outcome]:
    c = connection
    if kind == "health":
        return [(await _timed(kind, lambda: c.request("GET", "/api/v1/health")))[0]]
    if kind == "feed":
        path = "/api/v1/status-changes"
        return [(await _timed(kind, lambda: c.request("GET", path, _signed(kiosk, "GET", path))))[0]]
    if kind == "login":
        # As a browser (or a determined attacker) does: fetch the form for its one-time login
        # token and cookie, then post a wrong password with them, so the flood reaches the
        # password check instead of stopping at the missing token.
        page_outcome, page = await _timed(kind, lambda: c.request("GET", "/console/login"))
        if page is None or page.status != 200:
            return [page_outcome]
        token = re.search(rb'name="login_token" value="([^"]+)"', page.body)
        cookie = page.headers.get("set-cookie", "").split(";", 1)[0]
        form = urllib.parse.urlencode({"username": "clerk", "password": "wrong-" + os.urandom(4).hex(),
                                       "login_token": token.group(1).decode() if token else ""})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        login = await _timed(kind, lambda: c.request("POST", "/console/login", headers, form.encode()))
        return [login[0]]
    if kind == "junk":
        return [(await _timed(kind, lambda: c.request(
            "POST", "/api/v1/applications", {"Content-Type": "application/json"}, b'{"id": "x"}')))[0]]
    if kind == "upload":
        blob = os.urandom(4096)
        path = "/api/v1/uploads"
        sha256 = hashlib.sha256(blob).hexdigest()
        outcomes = []
        if not c.json_create:
            whole, answer = await _timed("upload_whole", lambda: c.request("POST", path, _signed(
                kiosk, "POST", path, blob, {"Content-Type": "application/offset+octet-stream",
                                            "Upload-Length": str(len(blob)), "Upload-Sha256": sha256}), blob))
            if answer is None or answer.status not in FORM_REFUSED:
                return [whole]
            c.json_create = True
            outcomes.append(whole)
        body = json.dumps({"sha256": sha256, "size": len(blob)}).encode()
        created, answer = await _timed("upload", lambda: c.request(
            "POST", path, _signed(kiosk, "POST", path, body, {"Content-Type": "application/json"}), body))
        outcomes.append(created)
        if answer is not None and answer.status == 201:
            chunk_path = f"{path}/{answer.json()['upload_id']}"
            headers = _signed(kiosk, "PATCH", chunk_path, blob, {
                "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
            chunk, _ = await _timed("chunk", lambda: c.request("PATCH", chunk_path, headers, blob))
            outcomes.append(chunk)
        return outcomes
    raise ValueError(kind)


def uploads_done(outcomes: list[Outcome]) -> int:
    """Uploads completed: a create that carried the whole box (201), or a chunk that ended one."""
    return sum((o.kind == "upload_whole" and o.status == 201) or (o.kind == "chunk" and o.status == 200)
               for o in outcomes)


async def burst(base: str, kiosks: list[Kiosk], kinds: list[str], timeout_s: float = 30.0) -> list[Outcome]:
    """Every request of ``kinds`` at once, each on a connection of its own."""
    async def single(index: int, kind: str) -> list[Outcome]:
        connection = Connection(base, timeout_s)
        try:
            return await one(connection, kind, kiosks[index % len(kiosks)] if kiosks else None)
        finally:
            connection.close()

    results = await asyncio.gather(*(single(i, kind) for i, kind in enumerate(kinds)))
    return [outcome for group in results for outcome in group]


def enrol_all(base: str, codes: list[str]) -> list[Kiosk]:
    async def run() -> list[Kiosk]:
        connection = Connection(base)
        try:
            return [await enrol(connection, code) for code in codes]
        finally:
            connection.close()
    return asyncio.run(run())
