"""The hall's CPU per signed heartbeat, in one process, without the network (issue 11, "Speed").

``benchmarks/fleet.py`` measures rates over HTTP, which a busy machine (or other work on
the same cores) disturbs a lot; this measures what one heartbeat costs the hall: the app
(``hall.app.create_app``, every middleware, the signature check, the nonce book, the
database work, the signed answer) called as ASGI, one request after another, on SQLite in
a temporary folder (or ``HB_DB``, e.g. a PostgreSQL URL). CPU time of the whole process
(every thread) per heartbeat; ``HB_ROUNDS`` rounds of ``HB_N`` beats, the median round.
``HB_PROFILE=1`` prints a cProfile of the event loop's side after (the thread pool's side
needs py-spy). Prints one JSON line last.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from fleet import HEARTBEAT_PATH, report  # noqa: E402

from hall.app import create_app  # noqa: E402
from hall.core.config import load_settings  # noqa: E402
from hall.db import migrate  # noqa: E402
from hall.services.enrolment import create_code  # noqa: E402
from offline_queue.signing import sign_headers  # noqa: E402
from tests.hall.kiosk_client import raw_public  # noqa: E402


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


async def main() -> dict:
    folder = tempfile.mkdtemp(prefix="heartbeat-cpu-")
    settings = load_settings(db=os.environ.get("HB_DB") or None, data_dir=folder, environ={})
    migrate(settings.db_url)
    app = create_app(settings)
    kiosks = []
    for _ in range(int(os.environ.get("HB_KIOSKS", 20))):
        with app.state.sessionmaker() as db:
            code = create_code(db, settings).code
            db.commit()
        key = Ed25519PrivateKey.generate()
        body = json.dumps({"code": code, "public_key": base64.b64encode(raw_public(key)).decode(),
                           "name": "bench", "versions": {"kiosk": "0.1.0"}}).encode()
        status, answer = await call(app, "POST", "/api/v1/enrolment",
                                    {"content-type": "application/json"}, body)
        assert status == 201, answer
        kiosks.append((json.loads(answer)["device_id"], key))

    async def beats(count: int) -> None:
        for number in range(count):
            device_id, key = kiosks[number % len(kiosks)]
            body = report(number)
            headers = {"content-type": "application/json",
                       **sign_headers(key, device_id, "POST", HEARTBEAT_PATH, [], body, time.time())}
            status, answer = await call(app, "POST", HEARTBEAT_PATH, headers, body)
            assert status == 200, (status, answer)

    count = int(os.environ.get("HB_N", 300))
    await beats(50)  # warm: statement caches, the thread pool, the key cache
    rounds = []
    for _ in range(int(os.environ.get("HB_ROUNDS", 3))):
        cpu, wall = time.process_time(), time.perf_counter()
        await beats(count)
        rounds.append(((time.process_time() - cpu) / count * 1000,
                       (time.perf_counter() - wall) / count * 1000))
    if os.environ.get("HB_PROFILE"):
        import cProfile
        import pstats
        profile = cProfile.Profile()
        profile.enable()
        await beats(count)
        profile.disable()
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    app.state.engine.dispose()
    return {"benchmark": "heartbeat_cpu", "db": settings.db_url.split(":", 1)[0], "beats_per_round": count,
            "cpu_ms_per_beat": round(statistics.median(r[0] for r in rounds), 2),
            "cpu_ms_per_beat_rounds": [round(r[0], 2) for r in rounds],
            "wall_ms_per_beat": round(statistics.median(r[1] for r in rounds), 2),
            "load_average": os.getloadavg()[0]}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
