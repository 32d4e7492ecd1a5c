"""A fault-injecting HTTP/1.1 proxy on 127.0.0.1, between the kiosk and a real hall.

It understands just enough HTTP (request and response heads, ``Content-Length`` bodies,
HEAD answers without a body) to pick a fault per request, and streams bodies through a
token bucket so a capped link is slow in the middle of a chunk, as a mobile link is.

Faults (``Faults``; change ``proxy.faults`` at any time, it is read per request):

* ``latency_s``       one-way delay added before each request is forwarded;
* ``bandwidth_bps``   cap on bytes/s in each direction (token bucket, ``burst`` bytes);
* ``reset_every``     reset the connection (RST) once this many request bytes went up
                      since the last reset: mid-stream, in the middle of a chunk;
* ``p_reset``         reset instead of forwarding a request (it never reaches the hall);
* ``p_truncate``      forward, then send back only half the hall's answer and close;
* ``p_drop_answer``   forward, then close without any answer (the hall did the work);
* ``p_garbage``       forward, then answer ``200`` with a body that is not JSON;
* ``p_stall``         forward, then hold the answer ``stall_s`` seconds before closing;
* ``p_503``/``p_429`` answer that status without forwarding (429 with ``Retry-After``).

``on_request(method, path)`` may return a callable that runs right after the request is
forwarded (a test kills the hall there: "hall restart mid-submit"). Counters in
``proxy.stats``. Every socket has a timeout and every loop ends with the connection.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

_IO_TIMEOUT_S = 30.0
_PIECE = 8192


@dataclass
class Faults:
    latency_s: float = 0.0
    bandwidth_bps: float = 0.0
    burst: int = 16 * 1024
    reset_every: int = 0
    p_reset: float = 0.0
    p_truncate: float = 0.0
    p_drop_answer: float = 0.0
    p_garbage: float = 0.0
    p_stall: float = 0.0
    stall_s: float = 2.0
    p_503: float = 0.0
    p_429: float = 0.0
    retry_after_s: int = 1
    only_paths: tuple[str, ...] = ()  # random faults only on paths starting with one of these


@dataclass
class ProxyStats:
    connections: int = 0
    requests: int = 0
    resets: int = 0
    truncated: int = 0
    dropped: int = 0
    garbage: int = 0
    stalls: int = 0
    injected_5xx: int = 0
    injected_429: int = 0
    up_bytes: int = 0
    down_bytes: int = 0
    by_path: dict[str, int] = field(default_factory=dict)


class _Bucket:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens = 0.0
        self._last = time.monotonic()

    def take(self, n: int, rate: float, burst: int) -> None:
        if rate <= 0:
            return
        with self._lock:
            now = time.monotonic()
            self._tokens = min(float(burst), self._tokens + (now - self._last) * rate) - n
            self._last = now
            wait = -self._tokens / rate if self._tokens < 0 else 0.0
        if wait > 0:
            time.sleep(min(wait, 10.0))


class _Reset(Exception):
    pass


def _rst(sock: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a dropped mobile link looks to the peer."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def _read_head(sock: socket.socket, buf: bytearray) -> bytes | None:
    """Bytes up to and including the blank line; None on a clean close before any byte."""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            if buf:
                raise _Reset("closed mid-head")
            return None
        buf.extend(data)
        if len(buf) > 1 << 20:
            raise _Reset("head too long")
    end = buf.index(b"\r\n\r\n") + 4
    head = bytes(buf[:end])
    del buf[:end]
    return head


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


class FaultProxy:
    """``with FaultProxy(hall_port) as proxy: proxy.url`` … ``proxy.faults = Faults(...)``."""

    def __init__(self, upstream_port: int, faults: Faults | None = None, seed: int = 7,
                 upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.faults = faults or Faults()
        self.stats = ProxyStats()
        self.on_request: Callable[[str, str], Callable[[], None] | None] | None = None
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self._up_bucket = _Bucket()
        self._down_bucket = _Bucket()
        self._since_reset = 0
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._open: set[socket.socket] = set()

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        thread = threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            for sock in list(self._open):
                _rst(sock)
            self._open.clear()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def reset_all(self) -> None:
        """Drop every open connection now (the link went down)."""
        with self._lock:
            for sock in list(self._open):
                _rst(sock)
            self._open.clear()

    # -- plumbing -------------------------------------------------------------------

    def _chance(self, p: float) -> bool:
        if p <= 0:
            return False
        with self._rng_lock:
            return self._rng.random() < p

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(_IO_TIMEOUT_S)
            with self._lock:
                self._open.add(client)
                self.stats.connections += 1
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            upstream = socket.create_connection(self.upstream, timeout=_IO_TIMEOUT_S)
            with self._lock:
                self._open.add(upstream)
            buf = bytearray()
            up_buf = bytearray()
            for _request in range(10_000):  # bounded: one connection, many keep-alive requests
                if self._stop.is_set() or not self._one_request(client, upstream, buf, up_buf):
                    break
        except (_Reset, OSError):
            pass
        finally:
            with self._lock:
                self._open.discard(client)
                if upstream is not None:
                    self._open.discard(upstream)
            _rst(client)
            if upstream is not None:
                _rst(upstream)

    def _one_request(self, client: socket.socket, upstream: socket.socket, buf: bytearray,
                     up_buf: bytearray) -> bool:
        head = _read_head(client, buf)
        if head is None:
            return False
        f = self.faults
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        method, path = (request_line.split(" ") + ["", ""])[:2]
        path = path.split("?", 1)[0]
        length = _content_length(head)
        with self._lock:
            self.stats.requests += 1
            self.stats.by_path[f"{method} {path}"] = self.stats.by_path.get(f"{method} {path}", 0) + 1
        eligible = not f.only_paths or any(path.startswith(p) for p in f.only_paths)
        if eligible and self._chance(f.p_reset):
            self._count("resets")
            raise _Reset("injected reset before forwarding")
        for status, prob, counter in ((503, f.p_503, "injected_5xx"), (429, f.p_429, "injected_429")):
            if eligible and self._chance(prob):
                self._drain_body(client, buf, length)
                self._count(counter)
                extra = f"Retry-After: {f.retry_after_s}\r\n" if status == 429 else ""
                body = b'{"error":"injected","detail":"fault proxy"}'
                client.sendall(
                    f"HTTP/1.1 {status} Injected\r\nContent-Type: application/json\r\n{extra}"
                    f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                return True
        if f.latency_s:
            time.sleep(f.latency_s)
        # the request: head, then the body streamed through the bucket and the reset counter
        self._send_up(upstream, head)
        remaining = length
        while remaining > 0:
            if not buf:
                data = client.recv(min(65536, remaining))
                if not data:
                    raise _Reset("client closed mid-body")
                buf.extend(data)
            piece = bytes(buf[: min(_PIECE, remaining, len(buf))])
            del buf[: len(piece)]
            self._send_up(upstream, piece)
            remaining -= len(piece)
        after = self.on_request(method, path) if self.on_request is not None else None
        if after is not None:
            after()
        # the answer
        answer_head = _read_head(upstream, up_buf)
        if answer_head is None:
            raise _Reset("hall closed without answering")
        body_len = 0 if method == "HEAD" else _content_length(answer_head)
        body = bytearray()
        while len(up_buf) < body_len:
            data = upstream.recv(65536)
            if not data:
                raise _Reset("hall closed mid-answer")
            up_buf.extend(data)
        body = bytes(up_buf[:body_len])
        del up_buf[:body_len]
        answer = answer_head + body
        if f.latency_s:
            time.sleep(f.latency_s)
        if eligible and self._chance(f.p_drop_answer):
            self._count("dropped")
            raise _Reset("answer dropped")
        if eligible and self._chance(f.p_stall):
            self._count("stalls")
            time.sleep(f.stall_s)
            raise _Reset("stalled")
        if eligible and self._chance(f.p_truncate):
            self._count("truncated")
            self._send_down(client, answer[: max(1, len(answer) // 2)])
            raise _Reset("truncated")
        if eligible and self._chance(f.p_garbage):
            self._count("garbage")
            junk = b'{"offset": 12, "complete": tru<html>oops'
            self._send_down(client, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            + f"Content-Length: {len(junk)}\r\n\r\n".encode() + junk)
            return True
        self._send_down(client, answer)
        return True

    def _drain_body(self, client: socket.socket, buf: bytearray, length: int) -> None:
        remaining = length
        take = min(len(buf), remaining)
        del buf[:take]
        remaining -= take
        while remaining > 0:
            data = client.recv(min(65536, remaining))
            if not data:
                raise _Reset("client closed")
            remaining -= len(data)

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self.stats, name, getattr(self.stats, name) + 1)

    def _send_up(self, upstream: socket.socket, data: bytes) -> None:
        f = self.faults
        view = memoryview(data)
        while view:
            piece = view[:_PIECE]
            if f.reset_every:
                with self._lock:
                    room = f.reset_every - self._since_reset
                if room <= len(piece):
                    if room > 0:
                        self._up_bucket.take(room, f.bandwidth_bps, f.burst)
                        upstream.sendall(piece[:room])
                    with self._lock:
                        self._since_reset = 0
                        self.stats.up_bytes += max(0, room)
                        self.stats.resets += 1
                    raise _Reset("reset mid-stream")
            self._up_bucket.take(len(piece), f.bandwidth_bps, f.burst)
            upstream.sendall(piece)
            with self._lock:
                self._since_reset += len(piece)
                self.stats.up_bytes += len(piece)
            view = view[len(piece):]

    def _send_down(self, client: socket.socket, data: bytes) -> None:
        f = self.faults
        view = memoryview(data)
        while view:
            piece = view[:_PIECE]
            self._down_bucket.take(len(piece), f.bandwidth_bps, f.burst)
            client.sendall(piece)
            with self._lock:
                self.stats.down_bytes += len(piece)
            view = view[len(piece):]
