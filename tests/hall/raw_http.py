"""Raw sockets for abuse tests: half-sent heads, slow and endless chunked bodies, RSS.

HTTP clients refuse to misbehave, so these speak HTTP/1.1 by hand on loopback.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn


@dataclass
class RawAnswer:
    status: int | None  # None: the hall closed without answering
    head: str
    body: bytes


@contextmanager
def served_in_thread(config: uvicorn.Config) -> Iterator[int]:
    """``config``'s app served by uvicorn on a thread of this process; yields its free port."""
    from hall.api.connection_guard import listening_sockets

    server = uvicorn.Server(config)
    sockets = listening_sockets("127.0.0.1", 0, 1, 128)
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(30)
        for sock in sockets:
            sock.close()


def connect(port: int, timeout_s: float = 10.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_answer(sock: socket.socket, timeout_s: float = 10.0) -> RawAnswer:
    """Whatever the hall sends until it closes or has sent a whole head + Content-Length body."""
    sock.settimeout(timeout_s)
    data = b""
    try:
        while True:
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                               if line.lower().startswith(b"content-length:")), None)
                if length is not None and len(body) >= length:
                    break
    except ConnectionResetError:
        pass
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else None
    return RawAnswer(status, head.decode("latin-1"), body)


def is_closed_by_peer(sock: socket.socket, timeout_s: float) -> bool:
    """True when the hall closes this socket within ``timeout_s`` (an answer before is fine)."""
    sock.settimeout(timeout_s)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def stream_chunked(port: int, method: str, path: str, total_bytes: int, headers: dict[str, str] | None = None,
                   piece_bytes: int = 64 * 1024) -> tuple[RawAnswer, int]:
    """Send a chunked body of up to ``total_bytes`` and stop as soon as the hall answers:
    (the answer, how many body bytes were sent by then)."""
    sock = connect(port)
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Transfer-Encoding: chunked",
             *(f"{name}: {value}" for name, value in (headers or {}).items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    piece = b"x" * piece_bytes
    frame = b"%x\r\n" % len(piece) + piece + b"\r\n"
    sent = 0
    try:
        while sent < total_bytes:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            sock.sendall(frame)
            sent += len(piece)
        else:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        return read_answer(sock), sent
    finally:
        sock.close()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def request(port: int, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b"",
            timeout_s: float = 10.0) -> RawAnswer:
    """One request with headers exactly as given (bytes), answered or not."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close",
             b"Content-Length: %d" % len(body), *(name + b": " + value for name, value in headers)]
    sock = connect(port, timeout_s)
    try:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        return read_answer(sock, timeout_s)
    finally:
        sock.close()
