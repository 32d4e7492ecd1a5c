"""HTTP to the county hall (``docs/protocol.md``), signed, with answers mapped to the error tree.

``HallClient`` knows the wire (paths, headers, JSON shapes, status codes) and nothing of
the outbox. Every request is signed with ``offline_queue.signing`` over the exact body
bytes sent. ``requests`` errors become ``HallUnreachable``; answers become results or
the ``HallError`` subclasses the protocol's table names.

Uploads (``upload_blob``) go up in chunks whose size adapts to the link
(``ChunkSizer``: about ``target_s`` seconds of the measured rate, halved after a
failure, between ``min_bytes`` and ``max_bytes``). After a dropped connection, a stall
or an unreadable answer the client asks the hall for its offset (HEAD) and resumes from
it, a bounded number of times, so only the chunk in flight is ever sent again; a byte
the hall confirmed is never sent twice. A ``Throttle`` (token bucket) paces the bytes
as they are handed to the socket, for the configured bandwidth cap. ``TransferStats``
counts what was sent, confirmed and sent again.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import ipaddress
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from offline_queue import signing
from offline_queue.errors import (
    AnswerUnverified,
    AttachmentMissing,
    DeviceRevoked,
    EnrolmentFailed,
    HallAuthRefused,
    HallBusy,
    HallError,
    HallGarbage,
    HallRejected,
    HallUnreachable,
    InsecureHallUrl,
    OffsetMismatch,
    UploadLost,
)

if TYPE_CHECKING:  # requests is imported where a request is made: a kiosk starts ~0.2 s sooner without it
    import requests

log = logging.getLogger(__name__)


class ClientIdentity(Protocol):
    """What the client needs of the kiosk's identity (``offline_queue.identity.DeviceIdentity``).

    A protocol, not an import: ``identity`` uses this module to enrol, so this module
    must not know ``identity`` (the two used to import each other).
    """

    @property
    def device_id(self) -> str: ...

    @property
    def hall_url(self) -> str: ...

    @property
    def private_key(self) -> Ed25519PrivateKey: ...

    @property
    def hall_sign_public_key(self) -> bytes: ...


API = "/api/v1"
_AUTH_CODES = {"bad_signature", "stale_timestamp", "replayed_nonce", "unknown_device"}
_SHA_HEX = re.compile(r"[0-9a-f]{64}")
_MAX_STATUS_PAGES = 50
_MAX_RESUMES = 8  # per blob and call: immediate resumes after a drop before giving up to the backoff
_MAX_INLINE_RETRY_AFTER_S = 5.0
FIRST_BYTES_TYPE = "application/offset+octet-stream"
# What a hall that does not take a create with its first bytes answers it: an unknown media type
# (415), or the JSON create's refusal of a body that is not JSON (400/422; too large: 413).
_FORM_REFUSED = frozenset({400, 413, 415, 422})
# Retry-After is honoured up to this: a 429/503 may come unsigned (from a proxy, or forged),
# and a forger must not silence a kiosk for days with one answer
MAX_RETRY_AFTER_S = 15 * 60.0
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


@dataclass(frozen=True)
class UploadState:
    upload_id: str
    offset: int
    complete: bool


class Throttle:
    """A token bucket: at most ``rate_bps`` bytes a second on average, bursts of ``burst`` bytes."""

    def __init__(self, rate_bps: float, burst: int = 16 * 1024,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.rate_bps = float(rate_bps)
        self.burst = max(1, int(burst))
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._last = clock()
        self._lock = threading.Lock()

    @classmethod
    def from_kbps(cls, kbps: float) -> Throttle | None:
        """``None`` for 0 (no cap); else a bucket for ``kbps`` kilobits a second."""
        return cls(kbps * 1000 / 8) if kbps and kbps > 0 else None

    def take(self, n: int) -> None:
        """Wait until ``n`` bytes may go."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate_bps)
            self._last = now
            self._tokens -= n
            wait = -self._tokens / self.rate_bps if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(min(wait, 60.0))


class _PacedBody:
    """A request body read by ``http.client`` in blocks, each paced by the throttle and counted."""

    def __init__(self, data: bytes, throttle: Throttle | None, counter: Callable[[int], None]) -> None:
        self._view = memoryview(data)
        self._pos = 0
        self._throttle = throttle
        self._counter = counter

    def __len__(self) -> int:
        return len(self._view)

    def read(self, n: int = -1) -> bytes:
        n = len(self._view) - self._pos if n is None or n < 0 else min(n, 8192)
        block = bytes(self._view[self._pos : self._pos + n])
        if block and self._throttle is not None:
            self._throttle.take(len(block))
        self._pos += len(block)
        self._counter(len(block))
        return block


class ChunkSizer:
    """Chunk sizes that follow the link: about ``target_s`` seconds at the measured rate.

    A failure halves the size (and the next ones recover by a quarter per success), so a
    link that drops often gets small chunks and loses little; a steady one gets large
    chunks and few round trips.
    """

    def __init__(self, min_bytes: int = 16 * 1024, max_bytes: int = 4 * 1024 * 1024,
                 start_bytes: int = 64 * 1024, target_s: float = 0.5) -> None:
        if not 0 < min_bytes <= max_bytes:
            raise ValueError("chunk sizes must satisfy 0 < min <= max")
        self.min_bytes, self.max_bytes, self.target_s = int(min_bytes), int(max_bytes), target_s
        self._size = float(min(max(start_bytes, min_bytes), max_bytes))
        self._rate: float | None = None  # bytes a second, EWMA over successful chunks
        self._penalty = 1.0

    def size(self) -> int:
        return int(min(self.max_bytes, max(self.min_bytes, self._size)))

    def on_success(self, nbytes: int, elapsed_s: float) -> None:
        if nbytes <= 0:
            return
        rate = nbytes / max(elapsed_s, 1e-3)
        self._rate = rate if self._rate is None else 0.7 * self._rate + 0.3 * rate
        self._penalty = min(1.0, self._penalty * 1.25)
        wanted = self._rate * self.target_s * self._penalty
        self._size = min(wanted, self._size * 2)  # grow at most twofold a step

    def on_failure(self) -> None:
        self._penalty = max(1 / 64, self._penalty / 2)
        self._size = self._size / 2


@dataclass
class TransferStats:
    """Bytes of upload bodies: handed to the socket, confirmed by the hall, and sent again.

    ``resent_bytes`` counts bytes sent a second time because the chunk carrying them was
    lost in flight; ``confirmed_resent_bytes`` counts bytes sent again although the hall
    had confirmed them (must stay 0; only a hash mismatch restarting an upload would).
    """

    sent_bytes: int = 0
    confirmed_bytes: int = 0
    resent_bytes: int = 0
    confirmed_resent_bytes: int = 0
    chunks: int = 0
    failed_chunks: int = 0
    resumes: int = 0
    largest_chunk: int = 0
    _high_water: dict[str, int] = field(default_factory=dict, repr=False)
    _confirmed: dict[str, int] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def note_sending(self, sha256: str, offset: int, length: int) -> None:
        """A chunk of ``length`` bytes at ``offset`` of blob ``sha256`` goes to the socket."""
        self.largest_chunk = max(self.largest_chunk, length)
        high = self._high_water.get(sha256, 0)
        if offset < high:
            self.resent_bytes += min(high, offset + length) - offset
        confirmed = self._confirmed.get(sha256, 0)
        if offset < confirmed:
            self.confirmed_resent_bytes += min(confirmed, offset + length) - offset
        self._high_water[sha256] = max(high, offset + length)

    def note_confirmed(self, sha256: str, offset: int, size: int) -> None:
        """The hall holds the first ``offset`` of the ``size`` bytes of blob ``sha256``."""
        before = self._confirmed.get(sha256, 0)
        if offset > before:
            self.confirmed_bytes += offset - before
            self._confirmed[sha256] = offset
        if offset >= size:  # done: forget the blob (a repeat create answers "complete" at once)
            self._confirmed.pop(sha256, None)
            self._high_water.pop(sha256, None)

    def forget_confirmed(self, sha256: str) -> None:
        """The hall lost the upload: what it had confirmed of ``sha256`` is gone with it."""
        self._confirmed.pop(sha256, None)

    def refused(self, sha256: str) -> None:
        """The hall refused the request that carried the first bytes of ``sha256`` whole (took
        none of them): sending them again is no resend."""
        self._high_water.pop(sha256, None)

    def began(self, sha256: str) -> bool:
        """Whether bytes of ``sha256`` went to the socket already (an upload under way)."""
        return sha256 in self._high_water


@dataclass(frozen=True)
class SubmitResult:
    id: str
    official_number: str  # "" until a clerk accepts it: a hall answers the receipt number on submit
    provisional_number: str
    status: str


@dataclass(frozen=True, repr=False)
class ResultFile:
    """A completed application's result from the hall (a decision letter, a certificate image)."""

    media_type: str
    data: bytes
    count: int  # how many results the application has
    pages: int = 0  # page images the hall keeps of this result (0: a hall that renders none)
    page: int | None = None  # which page this is; None: the result as the clerk attached it

    def __repr__(self) -> str:
        return f"ResultFile({self.media_type}, {len(self.data)} bytes, page {self.page} of {self.pages})"


RESULT_MEDIA_TYPES = ("application/pdf", "image/png", "image/jpeg")
MAX_RESULT_BYTES = 3 * 1024 * 1024
MAX_RESULT_PAGES = 100


@dataclass(frozen=True)
class StatusChange:
    id: str
    status: str
    official_number: str
    reason: str
    changed_at: str
    materials: tuple[str, ...] = ()  # a correction's material ids (catalog ids, checked)
    results: int = 0  # a completion's results kept on the hall for the villager


_MATERIAL_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_MATERIALS = 32


def _material_ids(value: Any) -> tuple[str, ...]:
    """A correction's material ids: catalog-id shaped strings only, a few at most (else none)."""
    if not isinstance(value, list):
        return ()
    ids = [m for m in value if isinstance(m, str) and _MATERIAL_ID.fullmatch(m)]
    return tuple(dict.fromkeys(ids))[:MAX_MATERIALS]


def _small_count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100 else 0


def _send(session: requests.Session, method: str, url: str, **kwargs: Any) -> requests.Response:
    import requests

    try:
        return session.request(method, url, **kwargs)
    except requests.Timeout as exc:
        raise HallUnreachable(f"{method} timed out") from exc
    except requests.RequestException as exc:
        raise HallUnreachable(f"{method} failed: {type(exc).__name__}") from exc


def _json(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError as exc:
        raise HallGarbage(f"{resp.status_code} answer is not JSON") from exc


def _retry_after(resp: requests.Response, now: float | None = None) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP date), capped at ``MAX_RETRY_AFTER_S``."""
    value = resp.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(MAX_RETRY_AFTER_S, max(0.0, seconds))


def require_safe_url(hall_url: str) -> None:
    """Refuse a hall address other than ``https://``, or ``http://`` to this machine (loopback).

    Plain http elsewhere lets anyone on the path read and change the exchange; the answer
    signatures catch changes, but not reading, and not an enrolment answer swapped whole.
    """
    parts = urlsplit(hall_url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and host and _is_loopback(host):
        return
    raise InsecureHallUrl(f"the hall address must be https:// (http:// only to loopback), not {parts.scheme}://"
                          f"{host or '?'}")


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def error_for_response(resp: requests.Response, upload: bool) -> HallError:
    """The error a non-2xx answer means (protocol.md, "Errors")."""
    status = resp.status_code
    code, detail = f"http_{status}", ""
    try:
        body = resp.json()
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            code = body["error"]
            detail = str(body.get("detail") or "")[:500]
    except ValueError:
        pass
    if status == 429 or status >= 500:
        return HallBusy(f"hall answered {status} {code}", _retry_after(resp), status)
    if status == 401:
        return HallAuthRefused(
            f"hall refused the signature: {code}", code if code in _AUTH_CODES else "auth_refused"
        )
    if status == 403 and code in ("device_revoked", "http_403"):
        return DeviceRevoked("the hall revoked this kiosk")
    if status == 404 and upload:
        return UploadLost("the hall no longer knows this upload")
    if status == 409 and code == "offset_mismatch":
        return OffsetMismatch("upload offset differs from the hall's")
    if status == 409 and code == "missing_attachment":
        if not _SHA_HEX.fullmatch(detail.strip()):
            return HallGarbage("missing_attachment without a sha256")
        return AttachmentMissing("the hall lacks an attachment", detail.strip())
    if 400 <= status < 500:
        return HallRejected(code, detail, status)
    return HallGarbage(f"unexpected status {status}")


def request_enrolment(
    hall_url: str, body: Mapping[str, Any], timeout_s: float = 10, session: requests.Session | None = None,
    pinned_sign_key: bytes | None = None,
) -> dict[str, Any]:
    """POST /api/v1/enrolment (unsigned); the hall's 201 answer as a dict.

    The answer must carry ``X-Hall-Signature`` by the Ed25519 key it names (or by
    ``pinned_sign_key`` when the operator gave one), over device id "" and the SHA-256 of
    this request's body: an answer made for another enrolment does not verify.
    """
    import requests

    require_safe_url(hall_url)
    session = session or requests.Session()
    raw = json.dumps(body).encode("utf-8")
    resp = _send(
        session,
        "POST",
        hall_url.rstrip("/") + API + "/enrolment",
        data=raw,
        headers={"Content-Type": "application/json"},
        timeout=timeout_s,
    )
    if resp.status_code not in (200, 201):
        err = error_for_response(resp, upload=False)
        if isinstance(err, HallRejected):
            raise EnrolmentFailed(f"the hall refused the enrolment: {err.code}", err.code)
        raise err
    answer = _json(resp)
    if not isinstance(answer, dict):
        raise EnrolmentFailed("the hall's enrolment answer is malformed", "bad_answer")
    try:
        named_key = base64.b64decode(str(answer.get("hall_sign_public_key", "")), validate=True)
        key = Ed25519PublicKey.from_public_bytes(pinned_sign_key or named_key)
    except ValueError as exc:
        raise EnrolmentFailed("the hall's enrolment answer is malformed", "bad_answer") from exc
    if pinned_sign_key is not None and named_key != pinned_sign_key:
        raise EnrolmentFailed("the hall's key is not the one given for this county", "answer_unverified")
    if not signing.verify_answer(key, resp.headers.get(signing.HEADER_HALL_SIGNATURE), "",
                                 hashlib.sha256(raw).hexdigest(), resp.status_code, resp.content):
        log.warning("enrolment answer failed verification; nothing saved")
        raise EnrolmentFailed("the hall's enrolment answer is not signed by its key", "answer_unverified")
    return answer


class HallClient:
    """Signed requests to the hall this kiosk is enrolled with."""

    def __init__(
        self,
        identity: ClientIdentity,
        timeout_s: float = 10,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
        *,
        throttle: Throttle | None = None,
        chunk_sizer: ChunkSizer | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import requests

        require_safe_url(identity.hall_url)
        self.identity = identity
        self._hall_key = Ed25519PublicKey.from_public_bytes(identity.hall_sign_public_key)
        self.timeout_s = timeout_s
        self._clock = clock
        self._session = session or requests.Session()
        self.throttle = throttle
        self.chunk_sizer = chunk_sizer or ChunkSizer()
        self.stats = TransferStats()
        self._sleep = sleep
        # The create carries the first chunk (docs/protocol.md 6.1) until the hall shows it does
        # not take that form (an older hall): then the JSON create, for this transport's life.
        self.first_bytes_in_create = True
        parts = urlsplit(identity.hall_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._prefix = parts.path.rstrip("/")

    # -- plumbing ---------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        query: list[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        upload: bool = False,
        paced: bool = False,
    ) -> requests.Response:
        """Send one signed request; a 401 is tried once more with a fresh nonce.

        ``paced``: the body goes through the throttle and is counted in ``stats.sent_bytes``.
        """
        full_path = self._prefix + API + path
        query = query or []
        for attempt in (1, 2):
            signed = signing.sign_headers(
                self.identity.private_key,
                self.identity.device_id,
                method,
                full_path,
                query,
                body,
                self._clock(),
            )
            all_headers = {**(headers or {}), **signed}
            if body and "Content-Type" not in all_headers:
                all_headers["Content-Type"] = "application/json"
            resp = _send(
                self._session,
                method,
                self._origin + full_path,
                params=query or None,
                data=(_PacedBody(body, self.throttle, self._count_sent) if paced else body) if body else None,
                headers=all_headers,
                timeout=self.timeout_s,
            )
            self._verify(resp, signed[signing.HEADER_NONCE], method, path)
            if 200 <= resp.status_code < 300:
                return resp
            err = error_for_response(resp, upload)
            if isinstance(err, HallAuthRefused) and attempt == 1:
                log.warning("hall refused a signature (%s); trying once more", err.code)
                continue
            raise err
        raise AssertionError("unreachable")

    def _verify(self, resp: requests.Response, nonce: str, method: str, path: str) -> None:
        """Apply nothing from an answer the pinned hall key did not sign for this very request.

        The exception: an unsigned 429/503 is still a "busy" (a proxy in front of the hall
        may shed load): the kiosk only waits, for at most ``MAX_RETRY_AFTER_S``.
        """
        if signing.verify_answer(self._hall_key, resp.headers.get(signing.HEADER_HALL_SIGNATURE),
                                 self.identity.device_id, nonce, resp.status_code, resp.content):
            return
        if resp.status_code in (429, 503):
            raise HallBusy(f"hall answered {resp.status_code} (unsigned)", _retry_after(resp, self._clock()),
                           resp.status_code)
        # the status code is all that is logged: the body may be a forger's text
        log.warning("hall answer to %s %s failed verification (status %d); nothing applied",
                    method, path.split("/")[1] if "/" in path else path, resp.status_code)
        raise AnswerUnverified(f"answer to {method} not signed by the hall's key")

    def _count_sent(self, n: int) -> None:
        self.stats.sent_bytes += n

    def _post_json(self, path: str, payload: Any, headers: Mapping[str, str] | None = None) -> Any:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return _json(self._request("POST", path, body=body, headers=headers))

    # -- uploads ----------------------------------------------------------------------

    def create_upload(self, sha256: str, size: int) -> UploadState:
        answer = self._post_json("/uploads", {"sha256": sha256, "size": size})
        return parse_upload_state(answer, size, need_id=True)

    def create_upload_with(self, sha256: str, size: int, first: bytes) -> UploadState:
        """The create that carries the box's first bytes (tus "creation with upload"): one request
        where a small box took two. The create's fields go in headers, the bytes are the body."""
        resp = self._request(
            "POST",
            "/uploads",
            body=first,
            headers={"Content-Type": FIRST_BYTES_TYPE, "Upload-Length": str(size), "Upload-Sha256": sha256},
            paced=True,
        )
        return parse_upload_state(_json(resp), size, need_id=True)

    def upload_offset(self, upload_id: str) -> int:
        resp = self._request("HEAD", f"/uploads/{upload_id}", upload=True)
        try:
            offset = int(resp.headers["Upload-Offset"])
        except (KeyError, ValueError) as exc:
            raise HallGarbage("HEAD answer without a usable Upload-Offset") from exc
        if offset < 0:
            raise HallGarbage("negative Upload-Offset")
        return offset

    def upload_chunk(self, upload_id: str, offset: int, chunk: bytes) -> UploadState:
        resp = self._request(
            "PATCH",
            f"/uploads/{upload_id}",
            body=chunk,
            headers={"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
            upload=True,
            paced=True,
        )
        answer = _json(resp)
        if not isinstance(answer, dict):
            raise HallGarbage("PATCH answer is not an object")
        return parse_upload_state({"upload_id": upload_id, **answer}, None, need_id=False)

    def upload_blob(
        self, sha256: str, data: bytes, chunk_size: int | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Upload ``data`` until the hall says it is complete, resuming where the hall is.

        ``chunk_size`` fixes the chunk size (else the adaptive ``chunk_sizer``);
        ``on_progress(confirmed, size)`` is called after each chunk the hall confirmed.
        A drop, a stall or an unreadable answer mid-upload is resumed from the hall's
        offset up to ``_MAX_RESUMES`` times; then the error goes up to the sync engine.
        """
        size = len(data)
        stats = self.stats
        for _restart in range(3):
            state, resumes = self._open_upload(sha256, data, chunk_size)
            if state.complete:
                self._confirm(sha256, size, size, on_progress)
                return
            offset, stalls = state.offset, 0
            self._confirm(sha256, offset, size, on_progress)
            try:
                while True:
                    if offset > size:
                        raise HallGarbage("the hall's offset is past the end")
                    if offset == size:
                        # every byte is there but the hall has not said complete: ask again
                        stalls += 1
                        if stalls > 2:
                            raise HallGarbage("upload has all bytes but is not complete")
                        state = self.create_upload(sha256, size)
                        if state.complete:
                            self._confirm(sha256, size, size, on_progress)
                            return
                        offset = state.offset
                        continue
                    length = chunk_size or self.chunk_sizer.size()
                    chunk = data[offset : offset + length]
                    self.stats.note_sending(sha256, offset, len(chunk))
                    started = time.monotonic()
                    try:
                        state = self.upload_chunk(state.upload_id, offset, chunk)
                    except OffsetMismatch:
                        stalls += 1
                        if stalls > 5:
                            raise
                        offset = self.upload_offset(state.upload_id)
                        self._confirm(sha256, offset, size, on_progress)
                        continue
                    except (HallUnreachable, HallGarbage, HallBusy) as exc:
                        stats.failed_chunks += 1
                        self.chunk_sizer.on_failure()
                        resumes += 1
                        retry_after = getattr(exc, "retry_after", None) or 0.0
                        if resumes > _MAX_RESUMES or retry_after > _MAX_INLINE_RETRY_AFTER_S:
                            raise
                        stats.resumes += 1
                        self._sleep(max(retry_after, min(1.0, 0.05 * 2**resumes)))
                        offset = self._resume_offset(state.upload_id, exc)
                        self._confirm(sha256, offset, size, on_progress)
                        continue
                    stats.chunks += 1
                    self.chunk_sizer.on_success(len(chunk), time.monotonic() - started)
                    if state.complete:
                        self._confirm(sha256, size, size, on_progress)
                        return
                    if state.offset <= offset:
                        raise HallGarbage("the hall's offset did not move forward")
                    offset = state.offset
                    self._confirm(sha256, offset, size, on_progress)
            except UploadLost:
                log.info("upload %s… vanished on the hall; starting again", sha256[:12])
                self.stats.forget_confirmed(sha256)
                continue
        raise UploadLost("the upload kept vanishing on the hall")

    def _open_upload(self, sha256: str, data: bytes, chunk_size: int | None) -> tuple[UploadState, int]:
        """The upload's first request and the resumes it used: the create with the first chunk
        when the hall takes that form and no byte of this box went up before (what the hall may
        hold is then asked, not sent again); else the JSON create. A dropped or busy first
        request is a failed chunk: the JSON create then asks where the hall is."""
        size = len(data)
        if not self.first_bytes_in_create or self.stats.began(sha256):
            return self.create_upload(sha256, size), 0
        first = data[: chunk_size or self.chunk_sizer.size()]
        self.stats.note_sending(sha256, 0, len(first))
        started = time.monotonic()
        try:
            state = self.create_upload_with(sha256, size, first)
        except HallRejected as exc:
            if exc.status not in _FORM_REFUSED or exc.code == "hash_mismatch":
                raise
            self.stats.refused(sha256)
            state = self.create_upload(sha256, size)  # refused too: the upload's fault, raised
            self.first_bytes_in_create = False
            log.info("the hall does not take an upload's first bytes in its create (%d %s): "
                     "sending them apart", exc.status, exc.code)
            return state, 0
        except (HallUnreachable, HallGarbage, HallBusy) as exc:
            self.stats.failed_chunks += 1
            self.chunk_sizer.on_failure()
            retry_after = getattr(exc, "retry_after", None) or 0.0
            if retry_after > _MAX_INLINE_RETRY_AFTER_S:
                raise
            self.stats.resumes += 1
            self._sleep(max(retry_after, 0.1))
            try:
                return self.create_upload(sha256, size), 1
            except HallError as again:
                raise again from exc
        self.stats.chunks += 1
        self.chunk_sizer.on_success(len(first), time.monotonic() - started)
        return state, 0

    def _resume_offset(self, upload_id: str, cause: Exception) -> int:
        """The hall's offset after a failed chunk (one HEAD; its failure ends the call)."""
        try:
            return self.upload_offset(upload_id)
        except HallError as exc:
            raise exc from cause

    def _confirm(self, sha256: str, offset: int, size: int,
                 on_progress: Callable[[int, int], None] | None) -> None:
        self.stats.note_confirmed(sha256, offset, size)
        if on_progress is not None:
            on_progress(offset, size)

    # -- applications and status ---------------------------------------------------------

    def submit_application(self, payload: Mapping[str, Any], idempotency_key: str) -> SubmitResult:
        answer = self._post_json("/applications", dict(payload), headers={"Idempotency-Key": idempotency_key})
        if not isinstance(answer, dict):
            raise HallGarbage("application answer is not an object")
        try:
            result = SubmitResult(
                id=_str(answer, "id"),
                official_number=official_number(answer.get("official_number")),
                provisional_number=str(answer.get("provisional_number") or ""),
                status=_str(answer, "status"),
            )
        except (KeyError, TypeError) as exc:
            raise HallGarbage("application answer lacks id or status") from exc
        # The hall confirms the receipt number it was sent (protocol 7). A first answer stored
        # by a hall of before that may carry an official number instead, and no receipt number.
        if result.id != payload.get("id") or not (
                result.provisional_number == payload.get("provisional_number") or result.official_number):
            raise HallGarbage("application answer is for another id or another receipt number")
        return result

    def submit_supplement(self, application_id: str, payload: Mapping[str, Any],
                          idempotency_key: str) -> SubmitResult:
        """``POST /applications/{id}/supplements`` (protocol 11.1); a repeat answers the first result."""
        answer = self._post_json(f"/applications/{application_id}/supplements", dict(payload),
                                 headers={"Idempotency-Key": idempotency_key})
        if not isinstance(answer, dict):
            raise HallGarbage("supplement answer is not an object")
        try:
            result = SubmitResult(id=_str(answer, "id"), provisional_number="", status=_str(answer, "status"),
                                  official_number=official_number(answer.get("official_number")))
        except (KeyError, TypeError) as exc:
            raise HallGarbage("supplement answer lacks id or status") from exc
        if result.id != payload.get("id") or answer.get("application_id") != application_id:
            raise HallGarbage("supplement answer is for another supplement or application")
        return result

    def submit_rating(self, payload: Mapping[str, Any]) -> None:
        """``POST /ratings``: a 2xx verified answer for this rating's id, or an error."""
        answer = self._post_json("/ratings", dict(payload))
        if not isinstance(answer, dict) or answer.get("id") != payload.get("id"):
            raise HallGarbage("rating answer is for another id")

    def fetch_result(self, application_id: str, index: int, applicant_proof: str,
                     page: int | None = None) -> ResultFile:
        """``POST /applications/{id}/results/{index}`` (protocol 11.3): a verified, signed answer.

        With ``page``: that page as an image (a PDF's pages are rendered on the hall). A hall
        that renders no pages answers the file itself (``ResultFile.page`` None)."""
        body: dict[str, Any] = {"applicant_proof": applicant_proof}
        if page is not None:
            body["page"] = int(page)
        answer = self._post_json(f"/applications/{application_id}/results/{int(index)}", body)
        try:
            media_type, count = _str(answer, "media_type"), answer["count"]
            data = base64.b64decode(_str(answer, "data"), validate=True)
            if answer.get("application_id") != application_id or answer.get("index") != index:
                raise ValueError("an answer for another result")
            if media_type not in RESULT_MEDIA_TYPES or not 0 < len(data) <= MAX_RESULT_BYTES:
                raise ValueError("not a result the kiosk shows")
            if not _is_count(count) or not 0 <= index < count <= 100:
                raise ValueError("a bad count")
            pages, answered = answer.get("pages", 0), answer.get("page")
            if not _is_count(pages) or pages > MAX_RESULT_PAGES:
                raise ValueError("a bad page count")
            if answered is not None and (answered != page or not _is_count(answered) or answered >= pages
                                         or media_type == "application/pdf"):
                raise ValueError("an answer for another page")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise HallGarbage("result answer has the wrong shape") from exc
        return ResultFile(media_type=media_type, data=data, count=count, pages=pages, page=answered)

    def status_changes(self, since: str | None) -> tuple[list[StatusChange], str]:
        query = [("since", since)] if since else []
        answer = _json(self._request("GET", "/status-changes", query=query))
        try:
            cursor = answer["cursor"]
            items = answer["changes"]
            if not isinstance(items, list) or not isinstance(cursor, str | int) or isinstance(cursor, bool):
                raise TypeError("changes must be a list and cursor a string")
            changes = [
                StatusChange(
                    id=_str(item, "id"),
                    status=_str(item, "status"),
                    official_number=official_number(item.get("official_number")),
                    reason=str(item.get("reason") or ""),
                    changed_at=str(item.get("changed_at") or ""),
                    materials=_material_ids(item.get("materials")),
                    results=_small_count(item.get("results")),
                )
                for item in items
            ]
        except (KeyError, TypeError, AttributeError) as exc:
            raise HallGarbage("status-changes answer has the wrong shape") from exc
        return changes, str(cursor)

    def all_status_changes(self, since: str | None) -> tuple[list[StatusChange], str | None]:
        """Follow the cursor until the hall has nothing newer (bounded number of pages)."""
        collected: list[StatusChange] = []
        cursor = since
        for _page in range(_MAX_STATUS_PAGES):
            changes, new_cursor = self.status_changes(cursor)
            collected.extend(changes)
            if not changes or new_cursor == cursor:
                return collected, new_cursor
            cursor = new_cursor
        return collected, cursor

    # -- e-certificates (kiosk.certificates parses and checks the answer) -------------------

    def lookup_certificates(self, id_number: str, types: list[str]) -> Any:
        """POST /certificates/lookup (protocol 16): the verified answer's JSON, not yet trusted."""
        return self._post_json("/certificates/lookup", {"id_number": id_number, "types": list(types)})

    # -- fleet (kiosk.agent) --------------------------------------------------------------

    def heartbeat(self, report: Mapping[str, Any]) -> dict[str, Any]:
        """POST /heartbeat; the hall's answer (interval, signed commands) for the agent to check."""
        answer = self._post_json("/heartbeat", report)
        if not isinstance(answer, dict):
            raise HallGarbage("heartbeat answer is not an object")
        return answer

    def ack_command(self, command_id: str, status: str, reason: str, result: Mapping[str, Any]) -> None:
        """POST /commands/{id}/ack with what became of one command."""
        self._post_json(f"/commands/{quote(command_id, safe='')}/ack",
                        {"status": status, "reason": reason, "result": dict(result)})

    def rotate_key(self, rotation: Mapping[str, Any]) -> None:
        """POST /keys/rotate ({document, old_signature, new_signature}), signed with the current key."""
        self._post_json("/keys/rotate", dict(rotation))

    def release_range(self, version: str, name: str, start: int, end: int) -> bytes:
        """GET /releases/{version}/{name} with ``Range: bytes=start-end`` (the hall may send less)."""
        resp = self._request("GET", f"/releases/{quote(version, safe='')}/{quote(name, safe='')}",
                             headers={"Range": f"bytes={start}-{end}"})
        content_range = resp.headers.get("Content-Range", "")
        if resp.status_code != 206 or not content_range.startswith(f"bytes {start}-"):
            raise HallGarbage("release answer is not the range asked for")
        return resp.content

    def upload_diagnostics(self, box: bytes, command_id: str) -> dict[str, Any]:
        """POST /diagnostics: one sealed box (the hall caps its size)."""
        resp = self._request("POST", "/diagnostics", body=box, query=[("command_id", command_id)],
                             headers={"Content-Type": "application/octet-stream"})
        answer = _json(resp)
        if not isinstance(answer, dict):
            raise HallGarbage("diagnostics answer is not an object")
        return answer


_OFFICIAL_NUMBER = re.compile(r"[0-9]{6}-[0-9]{8}-[0-9]{4}-[0-9]{4}-[0-9]{4}")


def official_number(value: Any) -> str:
    """The hall's official number (办件编号), or "" when none is given yet (null or absent,
    before a clerk accepts the application) or it is not shaped like one: it is shown to the
    villager and printed, so nothing else from the network gets there."""
    return value if isinstance(value, str) and _OFFICIAL_NUMBER.fullmatch(value) else ""


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _str(obj: Any, key: str) -> str:
    value = obj[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} is not a string")
    return value


def parse_upload_state(answer: Any, size: int | None, need_id: bool) -> UploadState:
    """An upload's id and offset from the hall's answer; anything malformed is ``HallGarbage``."""
    if not isinstance(answer, dict):
        raise HallGarbage("upload answer is not an object")
    upload_id, offset = answer.get("upload_id"), answer.get("offset")
    if need_id and not (isinstance(upload_id, str | int) and str(upload_id)):
        raise HallGarbage("upload answer has no upload_id")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise HallGarbage("upload answer has no usable offset")
    if size is not None and offset > size:
        raise HallGarbage("upload offset is past the end")
    return UploadState(str(upload_id), offset, bool(answer.get("complete", False)))
