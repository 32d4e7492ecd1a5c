"""The upload's fast path (hall/api/upload_fast_path.py) answers exactly as the FastAPI routes.

Both shapes on one database and data folder, in one process, called as ASGI: ``route`` is
``create_app`` (the FastAPI routes, as served when the layer is off) and ``fast`` is
``serve_app`` (the app as ``county-hall serve`` serves it). Each case sends the same kind of
request to both and compares status, body (upload ids aside), the headers a kiosk reads, and
the answer's signature (``X-Hall-Signature``, checked with the hall's key).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hall.app import create_app, serve_app
from hall.core.config import load_settings
from hall.db import migrate
from hall.services.enrolment import create_code
from offline_queue.signing import HEADER_HALL_SIGNATURE, sign_headers, verify_answer
from tests.hall.kiosk_client import raw_public

UPLOADS = "/api/v1/uploads"
COMPARED_HEADERS = ("content-type", "retry-after", "upload-offset", "upload-length", "cache-control")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


async def _call(app, method: str, path: str, headers: dict[str, str], body: bytes, query: str = "") -> Answer:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
             "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
             + [(b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80), "state": {}}
    delivered = False

    async def receive() -> dict:
        nonlocal delivered
        if delivered:
            await asyncio.Event().wait()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    start: dict = {}
    parts: list[bytes] = []

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    return Answer(start["status"], {k.decode().lower(): v.decode() for k, v in start.get("headers", [])},
                  b"".join(parts))


@dataclass
class Kiosk:
    device_id: str
    key: Ed25519PrivateKey

    def signed(self, method: str, path: str, body: bytes, extra: dict[str, str] | None = None,
               at: float | None = None) -> dict[str, str]:
        return {**sign_headers(self.key, self.device_id, method, path, [], body,
                               time.time() if at is None else at), **(extra or {})}


class Shapes:
    def __init__(self, settings) -> None:
        self.settings = settings
        self.route = create_app(settings)
        self.fast = serve_app(settings)
        self.apps = {"route": self.route, "fast": self.fast}
        self.public = self.route.state.keys.sign_private.public_key()

    def send(self, shape: str, method: str, path: str, headers: dict[str, str], body: bytes = b"",
             query: str = "") -> Answer:
        return asyncio.run(_call(self.apps[shape], method, path, headers, body, query))

    def enrol(self) -> Kiosk:
        with self.route.state.sessionmaker() as db:
            code = create_code(db, self.settings).code
            db.commit()
        key = Ed25519PrivateKey.generate()
        body = json.dumps({"code": code, "public_key": base64.b64encode(raw_public(key)).decode(),
                           "name": "fast path test", "versions": {"kiosk": "0.1.0"}}).encode()
        answer = self.send("route", "POST", "/api/v1/enrolment", {"content-type": "application/json"}, body)
        assert answer.status == 201, answer.body
        return Kiosk(answer.json()["device_id"], key)

    def create(self, shape: str, kiosk: Kiosk, blob: bytes, size: int | None = None) -> Answer:
        body = json.dumps({"sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob) if size is None
                           else size}).encode()
        return self.send(shape, "POST", UPLOADS, kiosk.signed("POST", UPLOADS, body,
                                                              {"content-type": "application/json"}), body)

    def chunk_headers(self, kiosk: Kiosk, upload_id: str, offset: int, chunk: bytes,
                      content_type: str = "application/offset+octet-stream") -> tuple[str, dict[str, str]]:
        path = f"{UPLOADS}/{upload_id}"
        return path, kiosk.signed("PATCH", path, chunk, {"upload-offset": str(offset),
                                                         "content-type": content_type})

    def chunk(self, shape: str, kiosk: Kiosk, upload_id: str, offset: int, chunk: bytes, **kw) -> Answer:
        path, headers = self.chunk_headers(kiosk, upload_id, offset, chunk, **kw)
        return self.send(shape, "PATCH", path, headers, chunk)

    def close(self) -> None:
        for app in self.apps.values():
            writer = getattr(app, "writer", None)
            if writer is not None:
                writer.stop()
        self.route.state.engine.dispose()
        self.fast.state.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shapes(request, tmp_path) -> Iterator[Shapes]:
    db_url = None
    if request.param == "postgres":
        db_url = request.getfixturevalue("postgres_cluster").create_database("hall_upload_fast_path")
    settings = load_settings(db=db_url, data_dir=tmp_path, environ={}, device_upload_count=4,
                             max_chunk_bytes=64 * 1024, max_upload_bytes=1024 * 1024)
    migrate(settings.db_url)
    made = Shapes(settings)
    try:
        yield made
    finally:
        made.close()


def _same(shapes: Shapes, kiosk: Kiosk, route: Answer, fast: Answer, request_nonces: tuple[str, str]) -> None:
    """The two answers alike: status, body (the upload's id aside), headers, a valid signature each
    (none on either for a body refused before it was read, as the body limit refuses it)."""
    assert route.status == fast.status, (route, fast)
    route_doc, fast_doc = route.json(), fast.json()
    for doc in (route_doc, fast_doc):
        if "upload_id" in doc:
            assert doc.pop("upload_id").startswith("up-")
        if doc.get("error") == "stale_timestamp":
            # "differs from the hall clock by N s": each shape's N is read at its own request,
            # which may fall a second apart (600 against 601 when a second begins between them)
            doc["detail"] = re.sub(r"by -?\d+ s", "by N s", doc["detail"])
    assert route_doc == fast_doc
    assert shapes.fast.answered > 0 and not hasattr(shapes.route, "answered")  # two shapes indeed
    for name in COMPARED_HEADERS:
        assert route.headers.get(name) == fast.headers.get(name), name
    if route.headers.get("connection") == "close":  # the body limit's refusal: not signed, alike
        assert HEADER_HALL_SIGNATURE.lower() not in route.headers | fast.headers
        assert fast.headers.get("connection") == "close"
        return
    for answer, nonce in zip((route, fast), request_nonces, strict=True):
        signature = answer.headers.get(HEADER_HALL_SIGNATURE.lower())
        assert verify_answer(shapes.public, signature, kiosk.device_id, nonce, answer.status, answer.body)


def _both_create(shapes: Shapes, kiosk: Kiosk, blobs: tuple[bytes, bytes], size: int | None = None
                 ) -> tuple[Answer, Answer]:
    return shapes.create("route", kiosk, blobs[0], size), shapes.create("fast", kiosk, blobs[1], size)


def test_create_and_chunk_answer_alike(shapes):
    kiosk = shapes.enrol()
    blobs = os.urandom(5000), os.urandom(5000)
    answers = {}
    for shape, blob in zip(("route", "fast"), blobs, strict=True):
        body = json.dumps({"sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob)}).encode()
        headers = kiosk.signed("POST", UPLOADS, body, {"content-type": "application/json"})
        answers[shape] = (shapes.send(shape, "POST", UPLOADS, headers, body), headers["X-Nonce"])
    (route, route_nonce), (fast, fast_nonce) = answers["route"], answers["fast"]
    assert route.status == 201
    _same(shapes, kiosk, route, fast, (route_nonce, fast_nonce))
    ids = route.json()["upload_id"], fast.json()["upload_id"]

    # A repeat of each create (a new request): 200, the same upload.
    again = _both_create(shapes, kiosk, blobs)
    assert again[0].status == 200 and [a.json()["upload_id"] for a in again] == list(ids)

    # The first chunk, then the rest: offsets, completion, the headers a kiosk resumes by.
    for start, end in ((0, 3000), (3000, 5000)):
        pair = []
        for shape, upload_id, blob in zip(("route", "fast"), ids, blobs, strict=True):
            path, headers = shapes.chunk_headers(kiosk, upload_id, start, blob[start:end])
            pair.append((shapes.send(shape, "PATCH", path, headers, blob[start:end]), headers["X-Nonce"]))
        assert pair[0][0].status == 200 and pair[0][0].json() == {"offset": end, "complete": end == 5000}
        _same(shapes, kiosk, pair[0][0], pair[1][0], (pair[0][1], pair[1][1]))
    for blob in blobs:
        assert (shapes.settings.attachments_dir / hashlib.sha256(blob).hexdigest()).read_bytes() == blob
    # A create of a complete upload says so.
    complete = _both_create(shapes, kiosk, blobs)
    assert complete[0].json()["complete"] is True and complete[1].json()["complete"] is True


def _pair(shapes: Shapes, kiosk: Kiosk, make) -> None:
    """``make(shape)`` -> (method, path, headers, body) per shape; both answers compared."""
    answers, nonces = [], []
    for shape in ("route", "fast"):
        method, path, headers, body = make(shape)
        answers.append(shapes.send(shape, method, path, headers, body))
        nonces.append(headers.get("X-Nonce", ""))
    _same(shapes, kiosk, answers[0], answers[1], (nonces[0], nonces[1]))
    return answers[0]


def test_refusals_answer_alike(shapes):
    kiosk = shapes.enrol()
    stranger = Kiosk(kiosk.device_id, Ed25519PrivateKey.generate())  # the id, not the key
    blob = os.urandom(2000)
    body = json.dumps({"sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob)}).encode()
    json_type = {"content-type": "application/json"}


    def create(signer: Kiosk, document: bytes, at: float | None = None):
        def make(_shape: str):  # signed afresh for each shape: a nonce of its own
            return "POST", UPLOADS, signer.signed("POST", UPLOADS, document, json_type, at=at), document
        return make

    forged = _pair(shapes, kiosk, create(stranger, body))
    assert (forged.status, forged.json()["error"]) == (401, "bad_signature")
    expired = _pair(shapes, kiosk, create(kiosk, body, at=time.time() - 600))
    assert (expired.status, expired.json()["error"]) == (401, "stale_timestamp")
    oversized = _pair(shapes, kiosk, create(kiosk, json.dumps({"sha256": "a" * 64, "size": 10**9}).encode()))
    assert (oversized.status, oversized.json()["error"]) == (413, "too_large")
    bad_json = _pair(shapes, kiosk, create(kiosk, b"{"))
    assert (bad_json.status, bad_json.json()["error"]) == (422, "invalid_request")
    bad_hash = _pair(shapes, kiosk, create(kiosk, json.dumps({"sha256": "z" * 64, "size": 5}).encode()))
    assert (bad_hash.status, bad_hash.json()["error"]) == (422, "invalid_request")

    # Replayed: the same signed request twice, to each shape (and one shape's to the other).
    for first, second in (("route", "route"), ("fast", "fast"), ("route", "fast"), ("fast", "route")):
        request_blob = os.urandom(100)
        request_body = json.dumps({"sha256": hashlib.sha256(request_blob).hexdigest(), "size": 100}).encode()
        headers = kiosk.signed("POST", UPLOADS, request_body, json_type)
        assert shapes.send(first, "POST", UPLOADS, headers, request_body).status == 201
        replay = shapes.send(second, "POST", UPLOADS, headers, request_body)
        assert (replay.status, replay.json()) == (401, {"error": "replayed_nonce",
                                                        "detail": "nonce already seen"})
        assert verify_answer(shapes.public, replay.headers.get("x-hall-signature"), kiosk.device_id,
                             headers["X-Nonce"], 401, replay.body)
    # A refused request's nonce is used all the same (the route's nonce book keeps it).
    refused = kiosk.signed("POST", UPLOADS, b"{", json_type)
    assert shapes.send("fast", "POST", UPLOADS, refused, b"{").status == 422
    assert shapes.send("route", "POST", UPLOADS, refused, b"{").json()["error"] == "replayed_nonce"


def test_chunk_refusals_answer_alike(shapes):
    kiosk = shapes.enrol()
    blobs = os.urandom(3000), os.urandom(3000)
    ids = [answer.json()["upload_id"] for answer in _both_create(shapes, kiosk, blobs)]
    by_shape = {"route": (ids[0], blobs[0]), "fast": (ids[1], blobs[1])}
    stranger = Kiosk(kiosk.device_id, Ed25519PrivateKey.generate())

    def chunk(shape, upload_id=None, offset=0, data=None, signer=kiosk, **kw):
        upload_id = upload_id or by_shape[shape][0]
        data = by_shape[shape][1] if data is None else data
        path, headers = shapes.chunk_headers(signer, upload_id, offset, data, **kw)
        return "PATCH", path, headers, data

    cases = {
        "forged": (lambda s: chunk(s, signer=stranger), 401, "bad_signature"),
        "unknown upload": (lambda s: chunk(s, upload_id="up-nope"), 404, "upload_not_found"),
        "wrong content type": (lambda s: chunk(s, content_type="application/json"), 422, "invalid_request"),
        "offset not a number": (lambda s: chunk(s, offset="²"), 422, "invalid_request"),  # type: ignore[arg-type]
        "offset mismatch": (lambda s: chunk(s, offset=10), 409, "offset_mismatch"),
        "past the size": (lambda s: chunk(s, data=by_shape[s][1] + b"x"), 413, "too_large"),
        "over the chunk limit": (lambda s: chunk(s, data=os.urandom(64 * 1024 + 1)), 413, "too_large"),
        "wrong hash": (lambda s: chunk(s, data=os.urandom(3000)), 422, "hash_mismatch"),
    }
    for name, (make, status, code) in cases.items():
        answer = _pair(shapes, kiosk, make)
        assert (answer.status, answer.json()["error"]) == (status, code), name
    # Expired: the clock window, before anything else.
    expired = []
    for shape in ("route", "fast"):
        path = f"{UPLOADS}/{by_shape[shape][0]}"
        headers = kiosk.signed("PATCH", path, by_shape[shape][1], {
            "upload-offset": "0", "content-type": "application/offset+octet-stream"}, at=time.time() - 600)
        expired.append((shapes.send(shape, "PATCH", path, headers, by_shape[shape][1]), headers["X-Nonce"]))
    assert expired[0][0].status == 401 and expired[0][0].json()["error"] == "stale_timestamp"
    _same(shapes, kiosk, expired[0][0], expired[1][0], (expired[0][1], expired[1][1]))
    # After the wrong hash the upload starts again from nothing, alike; then the right bytes.
    done = _pair(shapes, kiosk, lambda s: chunk(s))
    assert done.json() == {"offset": 3000, "complete": True}


def test_quota_and_revocation_answer_alike(shapes):
    kiosk = shapes.enrol()
    for _ in range(2):  # the quota is 4 unused uploads: two each
        created = _both_create(shapes, kiosk, (os.urandom(10), os.urandom(10)))
        assert created[0].status == created[1].status == 201
    over = _pair(shapes, kiosk, lambda _: ("POST", UPLOADS, kiosk.signed(
        "POST", UPLOADS, (b := json.dumps({"sha256": hashlib.sha256(os.urandom(9)).hexdigest(), "size": 9}
                                          ).encode()), {"content-type": "application/json"}), b))
    assert over.status == 429 and over.json()["error"] == "upload_quota" and over.headers["retry-after"]
    with shapes.route.state.sessionmaker() as db:
        from hall.models import Device

        db.get(Device, kiosk.device_id).revoked = True
        db.commit()
    revoked = _pair(shapes, kiosk, lambda _: ("POST", UPLOADS, kiosk.signed(
        "POST", UPLOADS, b"{}", {"content-type": "application/json"}), b"{}"))
    assert (revoked.status, revoked.json()["error"]) == (403, "device_revoked")


def test_a_missing_signature_header_is_refused_before_the_body_is_used(shapes):
    answer = shapes.send("fast", "POST", UPLOADS, {"content-type": "application/json"}, b"{}")
    assert (answer.status, answer.json()["error"]) == (401, "bad_signature")
    route = shapes.send("route", "POST", UPLOADS, {"content-type": "application/json"}, b"{}")
    assert (route.status, route.json()) == (answer.status, answer.json())


def test_the_query_is_signed_alike(shapes):
    """The signature covers the query string: signed, it is accepted; added unsigned, refused."""
    kiosk = shapes.enrol()
    for shape in ("route", "fast"):
        blob = os.urandom(50)
        body = json.dumps({"sha256": hashlib.sha256(blob).hexdigest(), "size": 50}).encode()
        signed = {**sign_headers(kiosk.key, kiosk.device_id, "POST", UPLOADS, [("a", "1"), ("b", "")], body,
                                 time.time()), "content-type": "application/json"}
        assert shapes.send(shape, "POST", UPLOADS, signed, body, query="a=1&b=").status == 201, shape
        added = kiosk.signed("POST", UPLOADS, body, {"content-type": "application/json"})
        refused = shapes.send(shape, "POST", UPLOADS, added, body, query="a=1")
        assert (refused.status, refused.json()["error"]) == (401, "bad_signature"), shape


@pytest.mark.postgres
def test_postgres_connections_lost_or_locked_answer_503_then_recover(request, tmp_path):
    """PostgreSQL's fast path (hall/api/upload_pg.py, the driver's own statements): connections the
    database dropped between requests are replaced by the pool's pre-ping (no request fails); a
    statement the database refuses (a lock not granted in time) answers ``503 busy`` with
    ``Retry-After``, leaves no transaction open on the connection given back, and the next
    requests, on the same threads and pool, answer as before."""
    from sqlalchemy import text

    from hall.db import make_engine

    db_url = request.getfixturevalue("postgres_cluster").create_database("hall_upload_fast_path_lost")
    admin = make_engine(db_url)
    with admin.connect() as connection:  # every new connection of the hall gives up a lock after 300 ms
        connection.execute(text("ALTER DATABASE hall_upload_fast_path_lost SET lock_timeout = '300ms'"))
        connection.commit()
    settings = load_settings(db=db_url, data_dir=tmp_path, environ={})
    migrate(settings.db_url)
    shapes = Shapes(settings)
    try:
        kiosk = shapes.enrol()
        blob = os.urandom(3000)
        created = shapes.create("fast", kiosk, blob)
        assert created.status == 201, created.body
        upload_id = created.json()["upload_id"]

        with admin.connect() as connection:  # a restart's effect: every connection of the hall gone
            dropped = connection.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
            connection.commit()
        assert dropped >= 1
        half = shapes.chunk("fast", kiosk, upload_id, 0, blob[:1000])
        assert (half.status, half.json()) == (200, {"offset": 1000, "complete": False})

        with admin.connect() as locker:  # the nonces locked: the nonce's statement cannot run
            locker.execute(text("LOCK TABLE nonces IN ACCESS EXCLUSIVE MODE"))
            busy = shapes.chunk("fast", kiosk, upload_id, 1000, blob[1000:2000])
            refused = shapes.create("fast", kiosk, os.urandom(10))
            locker.rollback()
        for answer in (busy, refused):
            assert (answer.status, answer.json()["error"]) == (503, "busy"), answer.body
            assert answer.headers["retry-after"]
        with admin.connect() as connection:  # nothing of the hall's left in a transaction
            open_ = connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")).scalar()
        assert open_ == 0

        rest = shapes.chunk("fast", kiosk, upload_id, 1000, blob[1000:])
        assert (rest.status, rest.json()) == (200, {"offset": 3000, "complete": True})
        assert (settings.attachments_dir / hashlib.sha256(blob).hexdigest()).read_bytes() == blob
        again = shapes.create("fast", kiosk, blob)
        assert (again.status, again.json()["complete"]) == (200, True)
    finally:
        shapes.close()
        admin.dispose()


# -- a create that carries the first bytes (docs/protocol.md 6.1) ------------------------------

FIRST_BYTES = {"content-type": "application/offset+octet-stream"}


def _first_make(kiosk: Kiosk, data: bytes, sha256: str, size: int | str, signer: Kiosk | None = None,
                at: float | None = None, extra: dict[str, str] | None = None):
    """``make(shape)`` for ``_pair``: a create with ``data`` as its first bytes, signed afresh."""
    headers = {**FIRST_BYTES, "upload-sha256": sha256, "upload-length": str(size), **(extra or {})}

    def make(_shape: str):
        return "POST", UPLOADS, (signer or kiosk).signed("POST", UPLOADS, data, headers, at=at), data
    return make


def _first_pair(shapes: Shapes, kiosk: Kiosk, blobs: tuple[bytes, bytes], length: int,
                sent: tuple[bytes, bytes] | None = None) -> tuple[Answer, Answer]:
    """Each shape creates its own blob with its first ``length`` bytes (of ``sent``'s when given:
    other bytes under the blob's hash); both answers compared."""
    answers, nonces = [], []
    for shape, blob, data in zip(("route", "fast"), blobs, sent or blobs, strict=True):
        _m, _p, headers, body = _first_make(kiosk, data[:length], hashlib.sha256(blob).hexdigest(),
                                            len(blob))(shape)
        answers.append(shapes.send(shape, "POST", UPLOADS, headers, body))
        nonces.append(headers["X-Nonce"])
    _same(shapes, kiosk, answers[0], answers[1], (nonces[0], nonces[1]))
    return answers[0], answers[1]


def test_a_create_with_its_first_bytes_answers_alike(shapes):
    kiosk = shapes.enrol()
    settings = shapes.settings
    # The whole box in the create: 201, complete, stored, no partial file left.
    whole = os.urandom(4096), os.urandom(4096)
    route, fast = _first_pair(shapes, kiosk, whole, 4096)
    assert route.status == 201 and route.json()["offset"] == 4096 and route.json()["complete"] is True
    assert route.headers["upload-offset"] == "4096" and route.headers["upload-length"] == "4096"
    for blob in whole:
        assert (settings.attachments_dir / hashlib.sha256(blob).hexdigest()).read_bytes() == blob
    assert list(settings.uploads_dir.iterdir()) == []
    # A repeat (the bytes sent again): 200, the same upload, complete; the JSON create agrees.
    again = _first_pair(shapes, kiosk, whole, 4096)
    assert again[0].status == 200 and again[0].json() == {**route.json(), "offset": 4096}
    assert [a.json()["upload_id"] for a in again] == [route.json()["upload_id"], fast.json()["upload_id"]]
    plain = _both_create(shapes, kiosk, whole)
    assert plain[0].json() == {"upload_id": route.json()["upload_id"], "offset": 4096, "complete": True}

    # The first 3000 of 5000 bytes: 201 at offset 3000, then the rest by PATCH as ever.
    blobs = os.urandom(5000), os.urandom(5000)
    route, fast = _first_pair(shapes, kiosk, blobs, 3000)
    assert (route.status, route.json()["offset"], route.json()["complete"]) == (201, 3000, False)
    ids = route.json()["upload_id"], fast.json()["upload_id"]
    for upload_id in ids:
        assert (settings.uploads_dir / upload_id).stat().st_size == 3000
    # A repeat with other first bytes: they are ignored, the offset stands (the kiosk resumes there).
    repeat = _first_pair(shapes, kiosk, blobs, 1000, sent=(os.urandom(5000), os.urandom(5000)))
    assert repeat[0].status == 200 and repeat[0].json()["offset"] == 3000
    plain = _both_create(shapes, kiosk, blobs)
    assert plain[0].json() == {"upload_id": ids[0], "offset": 3000}
    for shape, upload_id, blob in zip(("route", "fast"), ids, blobs, strict=True):
        done = shapes.chunk(shape, kiosk, upload_id, 3000, blob[3000:])
        assert (done.status, done.json()) == (200, {"offset": 5000, "complete": True}), shape
        assert (settings.attachments_dir / hashlib.sha256(blob).hexdigest()).read_bytes() == blob


def test_a_create_with_its_first_bytes_refuses_alike(shapes):
    kiosk = shapes.enrol()
    stranger = Kiosk(kiosk.device_id, Ed25519PrivateKey.generate())
    blob = os.urandom(3000)
    sha = hashlib.sha256(blob).hexdigest()
    cases = {
        "forged": (_first_make(kiosk, blob, sha, 3000, signer=stranger), 401, "bad_signature"),
        "expired": (_first_make(kiosk, blob, sha, 3000, at=time.time() - 600), 401, "stale_timestamp"),
        "no length": (_first_make(kiosk, blob, sha, ""), 422, "invalid_request"),
        "length not a number": (_first_make(kiosk, blob, sha, "²"), 422, "invalid_request"),
        "size 0": (_first_make(kiosk, blob, sha, 0), 422, "invalid_request"),
        "bad hash": (_first_make(kiosk, blob, "z" * 64, 3000), 422, "invalid_request"),
        "no hash": (_first_make(kiosk, blob, "", 3000), 422, "invalid_request"),
        "over the upload limit": (_first_make(kiosk, blob, sha, 10**9), 413, "too_large"),
        "past the size": (_first_make(kiosk, blob, sha, 2999), 413, "too_large"),
        "over the chunk limit": (_first_make(kiosk, os.urandom(64 * 1024 + 1), sha, 100_000), 413,
                                 "too_large"),
        "no bytes": (_first_make(kiosk, b"", sha, 3000), 422, "invalid_request"),
        "wrong hash": (_first_make(kiosk, os.urandom(3000), sha, 3000), 422, "hash_mismatch"),
    }
    for name, (make, status, code) in cases.items():
        answer = _pair(shapes, kiosk, make)
        assert (answer.status, answer.json()["error"]) == (status, code), (name, answer.body)
    # None of them left a row or a file: the right bytes now create it, at once.
    assert list(shapes.settings.uploads_dir.iterdir()) == []
    made = _first_pair(shapes, kiosk, (blob, os.urandom(3000)), 3000)
    assert made[0].status == 201 and made[0].json()["complete"] is True

    # Replayed (also from one shape to the other): refused, and nothing written for the replay.
    kiosk = shapes.enrol()  # (a quota of its own)
    for first, second in (("route", "route"), ("fast", "fast"), ("route", "fast"), ("fast", "route")):
        other = os.urandom(2000)
        make = _first_make(kiosk, other[:1000], hashlib.sha256(other).hexdigest(), 2000)
        _m, _p, headers, body = make(first)
        assert shapes.send(first, "POST", UPLOADS, headers, body).status == 201
        files = sorted(shapes.settings.uploads_dir.iterdir())
        replay = shapes.send(second, "POST", UPLOADS, headers, body)
        assert (replay.status, replay.json()) == (401, {"error": "replayed_nonce",
                                                        "detail": "nonce already seen"})
        assert sorted(shapes.settings.uploads_dir.iterdir()) == files
    # A refused request's nonce is used all the same.
    _m, _p, refused, body = _first_make(kiosk, blob, "z" * 64, 3000)("fast")
    assert shapes.send("fast", "POST", UPLOADS, refused, body).status == 422
    assert shapes.send("route", "POST", UPLOADS, refused, body).json()["error"] == "replayed_nonce"


def test_a_create_with_its_first_bytes_counts_against_the_quota_alike(shapes):
    kiosk = shapes.enrol()
    for _ in range(2):  # the quota is 4 unused uploads: two each
        pair = _first_pair(shapes, kiosk, (os.urandom(10), os.urandom(10)), 5)
        assert pair[0].status == pair[1].status == 201
    blob = os.urandom(9)
    over = _pair(shapes, kiosk, _first_make(kiosk, blob, hashlib.sha256(blob).hexdigest(), 9))
    assert over.status == 429 and over.json()["error"] == "upload_quota" and over.headers["retry-after"]
    assert len(list(shapes.settings.uploads_dir.iterdir())) == 4  # the refused one wrote nothing


def test_a_twin_created_during_the_disk_work_is_answered_and_the_file_forgotten(shapes, monkeypatch):
    """Another request creates the upload of that hash while the first bytes are being written:
    the row does not go in (ON CONFLICT / the unique index), the twin is answered (200, its
    offset), and the file no row names is deleted at once."""
    from hall.services import uploads

    kiosk = shapes.enrol()
    original = uploads.write_first
    twins: dict[str, str] = {}

    def write_first_with_a_twin(settings, upload, first):
        body = json.dumps({"sha256": first.sha256, "size": first.size}).encode()
        made = shapes.send("route", "POST", UPLOADS, kiosk.signed(
            "POST", UPLOADS, body, {"content-type": "application/json"}), body)
        assert made.status == 201, made.body
        twins[first.sha256] = made.json()["upload_id"]
        original(settings, upload, first)

    monkeypatch.setattr(uploads, "write_first", write_first_with_a_twin)
    blobs = os.urandom(5000), os.urandom(5000)
    route, fast = _first_pair(shapes, kiosk, blobs, 3000)
    assert route.status == 200 and route.json()["offset"] == 0 and route.json()["complete"] is False
    for answer, blob in ((route, blobs[0]), (fast, blobs[1])):
        assert answer.json()["upload_id"] == twins[hashlib.sha256(blob).hexdigest()]
    assert list(shapes.settings.uploads_dir.iterdir()) == []  # the twins have no bytes yet; ours went
