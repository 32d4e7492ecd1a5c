"""The upload's two requests answered as raw ASGI, before FastAPI (issue 11, "Speed").

``POST /api/v1/uploads`` (create, with sha256 and size) and ``PATCH /api/v1/uploads/{id}``
(a chunk) are one request in ten of the fleet's mix (a kiosk submitting), and through FastAPI
they cost far more than a heartbeat: the routing and dependencies, five ASGI middlewares, and
on the thread pool a session that checked a connection out of the pool (a pre-ping each) four
or five times a request — the device read and its commit, the nonce book's own transaction,
the work's reads and writes, each in a transaction of its own, the ORM loading each row.

Here the event loop reads the body (the process's one ``BodyReader``, the route's limit),
takes a kiosk's place in admission (the same gate and budgets as every signed request) and
makes ONE thread-pool trip, where the request holds ONE pooled connection and plain Core
statements built once:

* create: one transaction — the device read, the signature, the nonce (with ``last_seen``),
  the existing upload of that hash, the quota, the new row — committed durably as before;
* create with its first bytes (``application/offset+octet-stream``, docs/protocol.md 6.1): as the
  create, the bytes made durable (and a whole box stored) before the row is inserted at its
  offset — on SQLite the check's transaction ends before the disk work, the insert has its own;
* chunk: one transaction for the device, the signature, the nonce and the upload's row, then
  the disk work with no transaction open (the chunk written and fsynced; the last one
  hash-checked and stored), then the compare and set of the offset in its own short durable
  transaction, as ``uploads.append_chunk`` (the same code).

Same checks in the same order, same statuses, bodies and headers as the FastAPI routes
(hall/api/routes/uploads.py: they stay for the OpenAPI schema and serve when the app runs
without this layer); a request refused after its signature verified keeps its nonce used, as
the nonce book's separate transaction kept it. The answer is signed as ``AnswerSigning``
signs (``X-Hall-Signature``). ``serve_app`` puts this behind the front door.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool

from hall.api.admission import admission_wait, missing_signature_header, request_kind
from hall.api.answer_signing import signature_header
from hall.api.body_limit import (
    BodyReader,
    BodyRefused,
    ClientLeft,
    Receive,
    Scope,
    Send,
    scope_limit,
    send_answer,
    send_error,
    signed_path_and_query,
)
from hall.api.errors import encode_json, error_body
from hall.api.routes.uploads import created_answer, first_bytes_answer, offset_headers
from hall.api.schemas import UploadIn, parse_json, validate
from hall.api.upload_pg import PgUploads
from hall.db import lazy_commit, sqlite_begin
from hall.errors import Conflict, HallError
from hall.models import Device, Upload
from hall.services import uploads
from hall.services.nonce_book import record_one
from hall.services.signatures import authenticate_on
from offline_queue.signing import (
    HEADER_DEVICE,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    AnswerSigner,
)

log = logging.getLogger("hall.api")
UPLOADS_PATH = "/api/v1/uploads"
_CHUNK_PREFIX = UPLOADS_PATH + "/"
_WANTED = {name.lower().encode("latin-1"): name
           for name in (HEADER_DEVICE, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE,
                        "content-type", "upload-offset", uploads.HEADER_UPLOAD_LENGTH,
                        uploads.HEADER_UPLOAD_SHA256)}
_DEVICE_KEY, _NONCE_KEY = HEADER_DEVICE.lower().encode("latin-1"), HEADER_NONCE.lower().encode("latin-1")
_BUSY = (OperationalError, PoolTimeout, DisconnectionError)  # as hall/api/errors.py: 503, not 500

Answer = tuple[int, dict, list[tuple[bytes, bytes]]]  # status, JSON document, extra headers


def upload_request(scope: Scope) -> str | None:
    """"create", "chunk" (the paths FastAPI's routes match: one segment after the prefix), or None."""
    path: str = scope["path"]
    if scope["method"] == "POST" and path == UPLOADS_PATH:
        return "create"
    if (scope["method"] == "PATCH" and path.startswith(_CHUNK_PREFIX) and len(path) > len(_CHUNK_PREFIX)
            and "/" not in path[len(_CHUNK_PREFIX):]):
        return "chunk"
    return None


class UploadFastPath:
    """``UploadFastPath(app)`` around the application (or the heartbeat's fast path around it)."""

    def __init__(self, app) -> None:
        self.app = app
        state = app.state
        self.settings = state.settings
        self.clock = state.clock
        self.engine = state.engine
        self.gate = state.gate
        self.known = state.known_devices
        self.body_reader: BodyReader = state.body_reader
        self._sign_key = AnswerSigner(state.keys.sign_private)  # libsodium's (same signatures)
        # PostgreSQL: the driver's statements, few round trips (hall/api/upload_pg.py); SQLite: Core.
        self._pg = (PgUploads(self.engine, self.settings, self.clock)
                    if self.engine.dialect.name == "postgresql" else None)
        self._busy: tuple[type[BaseException], ...] = _BUSY + (self._pg.busy if self._pg is not None else ())
        self.answered = 0  # requests answered here (for tests and logs)

    def __getattr__(self, name: str) -> object:
        return getattr(self.app, name)  # ``app.state``, the heartbeat's ``writer`` and friends

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = upload_request(scope) if scope["type"] == "http" else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        # As the application's layers, in their order: the body limit, admission, the route.
        settings = self.settings
        reader = self.body_reader
        try:
            body = await reader.take(scope, receive, scope_limit(settings, scope))
        except BodyRefused as refused:
            await send_answer(send, refused.answer(settings.retry_after_s))
            return
        except ClientLeft:
            return
        try:
            await self._admitted(kind, scope, send, body)
        finally:
            reader.release(len(body))

    async def _admitted(self, kind: str, scope: Scope, send: Send, body: bytes) -> None:
        missing = missing_signature_header(scope)
        if missing is not None:
            await send_error(send, 401, "bad_signature", f"missing header {missing}")
            return
        budget = request_kind(scope, self.known) or "kiosk"
        if not await self.gate.enter(budget, admission_wait(self.settings, budget, scope)):
            await send_error(send, 503, "busy", "the hall is busy; try again later",
                             retry_after=self.settings.retry_after_s)
            return
        try:
            await self._answer(kind, scope, send, body)
        finally:
            self.gate.leave(budget)

    async def _answer(self, kind: str, scope: Scope, send: Send, body: bytes) -> None:
        self.answered += 1
        headers: dict[str, str] = {}
        device_id = nonce = ""  # for the answer's signature: the last of each, as AnswerSigning reads
        for name, value in scope["headers"]:
            known = _WANTED.get(name)
            if known is not None and known not in headers:  # the first, as Starlette's headers.get
                headers[known] = value.decode("latin-1")
            if name == _DEVICE_KEY:
                device_id = value.decode("latin-1")
            elif name == _NONCE_KEY:
                nonce = value.decode("latin-1")
        path, query = signed_path_and_query(scope)  # (a kiosk sends no query here; signed all the same)
        retry = None
        try:
            if kind == "create" and uploads.carries_first_bytes(headers.get("content-type", "")):
                status, document, extra = await run_in_threadpool(self._create_first, headers, path, query,
                                                                  body)
            elif kind == "create":
                status, document, extra = await run_in_threadpool(self._create, headers, path, query, body)
            else:
                upload_id = scope["path"][len(_CHUNK_PREFIX):]
                status, document, extra = await run_in_threadpool(self._chunk, headers, path, query,
                                                                  upload_id, body)
            content = encode_json(document).encode()
        except HallError as exc:
            log.info("%s %s -> %s %s", scope["method"], scope["path"], exc.status, exc.code)
            status, content, extra = exc.status, error_body(exc.code, exc.detail), []
            if status == 429 or status > 500:
                retry = getattr(exc, "retry_after", None) or self.settings.retry_after_s
        except self._busy as exc:
            # The type only: a driver's message can quote the statement's parameters.
            log.warning("database busy (%s) on %s %s", type(exc).__name__, scope["method"], scope["path"])
            status, content, extra = 503, error_body("busy", "the hall is busy; try again later"), []
            retry = self.settings.retry_after_s
        except Exception as exc:
            log.error("unexpected %s on %s %s", type(exc).__name__, scope["method"], scope["path"])
            status, content, extra = 500, error_body("internal_error", "the hall failed; try again later"), []
        answer_headers = [(b"content-length", b"%d" % len(content)), (b"content-type", b"application/json"),
                          *extra]
        if retry is not None:
            answer_headers.append((b"retry-after", str(retry).encode()))
        if device_id and nonce:  # as AnswerSigning: a signed request gets a signed answer
            answer_headers.append(signature_header(self._sign_key, device_id, nonce, status, content))
        await send_answer(send, (status, answer_headers, content))

    # -- on the thread pool: one trip a request, one pooled connection --------------------------

    def _authenticate(self, connection: Connection, headers: dict[str, str], method: str, path: str,
                      query: list[tuple[str, str]], body: bytes) -> Device:
        try:
            return authenticate_on(connection, headers, method, path, query, body, record_one,
                                   clock=self.clock, max_skew_s=self.settings.max_skew_s)
        except BaseException:
            connection.rollback()  # nothing written: a forged or replayed request leaves no trace
            raise

    def _create(self, headers: dict[str, str], path: str, query: list[tuple[str, str]],
                body: bytes) -> Answer:
        if self._pg is not None:
            data, refused = None, None
            try:  # read first (the statement that checks the signature reads the upload too) ...
                data = validate(UploadIn, parse_json(body))
            except HallError as exc:
                refused = exc  # ... answered only once the signature verified, as below
            upload, created = self._pg.create(headers, path, query, body, data, refused)
        else:
            upload, created = self._create_core(headers, path, query, body)
        return (201 if created else 200), created_answer(upload), []

    def _create_core(self, headers: dict[str, str], path: str, query: list[tuple[str, str]],
                     body: bytes) -> tuple[uploads.UploadRow, bool]:
        settings = self.settings
        with self.engine.connect() as connection, sqlite_begin("IMMEDIATE"):
            device = self._authenticate(connection, headers, "POST", path, query, body)
            try:
                data = validate(UploadIn, parse_json(body))
                upload, created = uploads.create_on(connection, settings, device, data.sha256, data.size,
                                                    clock=self.clock)
            except HallError:
                connection.commit()  # the nonce stays used
                raise
            connection.commit()
        return upload, created

    def _create_first(self, headers: dict[str, str], path: str, query: list[tuple[str, str]],
                      body: bytes) -> Answer:
        """A create that carries the upload's first bytes (docs/protocol.md 6.1)."""
        if self._pg is not None:
            first, refused = None, None
            try:  # checked first (the read needs the hash), answered once the signature verified
                first = self._first_bytes(headers, body)
            except HallError as exc:
                refused = exc
            upload, created = self._pg.create_first(headers, path, query, body, first, refused)
        else:
            upload, created = self._create_first_core(headers, path, query, body)
        return (201 if created else 200), first_bytes_answer(upload), _offset_headers(upload)

    def _first_bytes(self, headers: dict[str, str], body: bytes) -> uploads.FirstBytes:
        return uploads.first_bytes(self.settings, headers.get(uploads.HEADER_UPLOAD_SHA256, ""),
                                   headers.get(uploads.HEADER_UPLOAD_LENGTH, ""), body)

    def _create_first_core(self, headers: dict[str, str], path: str, query: list[tuple[str, str]],
                           body: bytes) -> tuple[uploads.UploadRow, bool]:
        """SQLite's: the check's transaction (the nonce, the upload of that hash, the quota) ends
        before the disk work, as the chunk's (lazy: it acknowledges nothing); then the row with
        its offset in a durable one."""
        settings = self.settings
        with self.engine.connect() as connection:
            with sqlite_begin("IMMEDIATE"), lazy_commit():
                device = self._authenticate(connection, headers, "POST", path, query, body)
                try:
                    first = self._first_bytes(headers, body)
                    existing = uploads.first_read_on(connection, settings, device, first)
                except HallError:
                    connection.commit()  # the nonce stays used
                    raise
                connection.commit()
            if existing is not None:
                return existing, False
            upload = uploads.new_upload_row(device.id, first.sha256, first.size, self.clock)
            uploads.write_first(settings, upload, first)
            with sqlite_begin("IMMEDIATE"):
                row = uploads.insert_on(connection, upload)
                connection.commit()
        if row is not upload:
            uploads.forget_first(settings, upload)
        if row is None:  # deleted again at once: as create_on, an error rather than a guess
            raise Conflict("the upload changed meanwhile; try again", code="offset_mismatch")
        return row, row is upload

    def _chunk(self, headers: dict[str, str], path: str, query: list[tuple[str, str]], upload_id: str,
               body: bytes) -> Answer:
        if self._pg is not None:
            upload = self._pg.chunk(headers, path, query, upload_id, body)
            return 200, {"offset": upload.offset, "complete": upload.complete}, _offset_headers(upload)
        settings = self.settings
        with self.engine.connect() as connection:
            # The check's transaction ends before the disk work: its trips (an fsync; with object
            # storage, the network) must hold neither SQLite's one write lock nor, on PostgreSQL,
            # the device's row that the nonce's ``last_seen`` touches (a heartbeat batch of that
            # kiosk would wait on it). Lazy on SQLite, as the nonce book's (it acknowledges
            # nothing); durable on PostgreSQL, where the other setting is a SET each way (two
            # round trips) and the commit's wait for the WAL is wall time, not CPU.
            lazy = lazy_commit() if connection.dialect.name == "sqlite" else nullcontext()
            with sqlite_begin("IMMEDIATE"), lazy:
                device = self._authenticate(connection, headers, "PATCH", path, query, body)
                try:
                    offset = uploads.chunk_offset(settings, headers.get("content-type", ""),
                                                  headers.get("upload-offset", ""), len(body))
                    upload = uploads.read_on(connection, device, upload_id)
                except HallError:
                    connection.commit()  # the nonce stays used
                    raise
                connection.commit()
            upload = uploads.chunk_on(connection, settings, upload, offset, body, clock=self.clock)
        return 200, {"offset": upload.offset, "complete": upload.complete}, _offset_headers(upload)


def _offset_headers(upload: Upload | uploads.UploadRow) -> list[tuple[bytes, bytes]]:
    """The route's ``offset_headers``, as ASGI header pairs."""
    return [(name.lower().encode(), value.encode()) for name, value in offset_headers(upload).items()]
