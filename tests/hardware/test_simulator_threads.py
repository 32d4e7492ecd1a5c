"""The simulators' serving threads (workers.BackgroundLoop): a bug in one exchange never ends them."""

import os
import socket
import struct
import time

from hardware.pty_device import PtyDevice
from hardware.vpcd_card import BlankCard, VpcdCard


class EchoDevice(PtyDevice):
    """Echoes what the driver writes; its first serve raises, as a simulator bug would."""

    thread_name = "echo-device"

    def __init__(self) -> None:
        self.serves = 0
        self._start_pty()

    def _serve(self) -> None:
        self.serves += 1
        if self.serves == 1:
            raise RuntimeError("simulator bug")
        while not self._stop.is_set():
            chunk = self._read_chunk()
            if chunk:
                os.write(self._master, chunk)


def _read_slave(fd: int, size: int, timeout_s: float = 5.0) -> bytes:
    deadline, got = time.monotonic() + timeout_s, b""
    os.set_blocking(fd, False)
    while len(got) < size and time.monotonic() < deadline:
        try:
            got += os.read(fd, size - len(got))
        except BlockingIOError:
            time.sleep(0.01)
    return got


def test_pty_device_serves_again_after_a_serve_that_raised():
    with EchoDevice() as device:
        fd = os.open(device.port, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(fd, b"ping")
            assert _read_slave(fd, 4) == b"ping"
            assert device._loop.running and device._loop.stats.crashes == 1
        finally:
            os.close(fd)
    assert not device._loop.alive


class AtrBug(BlankCard):
    """A card model whose ATR raises the first time it is asked for."""

    asked = 0

    @property
    def atr(self):  # type: ignore[override]
        AtrBug.asked += 1
        if AtrBug.asked == 1:
            raise ValueError("card model bug")
        return bytes.fromhex("3B00")


def _exchange(conn: socket.socket, payload: bytes) -> bytes:
    conn.sendall(struct.pack(">H", len(payload)) + payload)
    (size,) = struct.unpack(">H", conn.recv(2))
    return conn.recv(size)


def test_vpcd_card_answers_6f00_on_a_card_bug_and_keeps_serving():
    with socket.create_server(("127.0.0.1", 0)) as server:  # stands where vpcd listens
        port = server.getsockname()[1]
        card = VpcdCard(AtrBug(), port=port)
        card.insert()
        conn, _ = server.accept()
        conn.settimeout(5)
        with conn:
            assert _exchange(conn, b"\x04") == bytes.fromhex("6F00")
            assert card._loop.running, "the card's thread died on a card bug"
            assert _exchange(conn, b"\x04") == bytes.fromhex("3B00")
            assert _exchange(conn, bytes.fromhex("00A4040000")) == bytes.fromhex("6A82")
        card.remove()
    assert not card.inserted
