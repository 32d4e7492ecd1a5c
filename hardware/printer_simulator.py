"""A simulated ESC/POS receipt printer on a pseudo-terminal, for tests and the demo.

``PrinterSimulator`` opens a pty in raw mode; ``port`` is the slave's path, which the
real driver (python-escpos ``Serial`` through pyserial) opens like any serial printer.
The simulator keeps every byte the host sent (``received``, status queries removed) and
answers the real-time status requests ``DLE EOT 1 / 2 / 4`` with one byte each from its
state: ``paper`` (``ok`` | ``near_end`` | ``out``), ``cover_open``, ``online``; ``mute``
makes it answer nothing, as a printer without a return channel.

It scans the stream the way a printer does, skipping the payload of ``GS ( k`` (a QR's
data) by its declared length, so data bytes that happen to look like ``DLE EOT`` are not
answered. Other commands are kept as they came and not interpreted.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time

from hardware.pty_device import PtyDevice

log = logging.getLogger(__name__)

DLE, EOT, GS = 0x10, 0x04, 0x1D


class PrinterSimulator(PtyDevice):
    thread_name = "printer-simulator"

    def __init__(
        self, paper: str = "ok", cover_open: bool = False, online: bool = True, mute: bool = False
    ) -> None:
        self.paper = paper
        self.cover_open = cover_open
        self.online = online
        self.mute = mute
        self.queries: list[int] = []  # the n of every DLE EOT n asked
        self._received = bytearray()
        self._pending = bytearray()
        self._lock = threading.Lock()
        self._start_pty()

    @property
    def received(self) -> bytes:
        with self._lock:
            return bytes(self._received)

    def clear(self) -> None:
        with self._lock:
            self._received.clear()
            self.queries.clear()

    def wait_for(self, tail: bytes, timeout: float = 3.0) -> bytes:
        """Wait until the bytes received end with ``tail`` (e.g. the cut); returns them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self.received
            if data.endswith(tail):
                return data
            time.sleep(0.01)
        return self.received

    # -- serving --------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            chunk = self._read_chunk()
            if chunk is None:
                continue
            with self._lock:
                self._pending += chunk
                answers = self._consume()
            for answer in answers:
                self._write(answer)

    def _consume(self) -> list[bytes]:
        """Move complete commands from ``_pending`` to ``_received``; return status answers."""
        answers = []
        buf = self._pending
        i = 0
        while i < len(buf):
            byte = buf[i]
            if byte == DLE:
                if i + 2 >= len(buf):
                    break  # wait for the rest of a possible DLE EOT n
                if buf[i + 1] == EOT:
                    n = buf[i + 2]
                    self.queries.append(n)
                    if not self.mute:
                        answers.append(bytes([self._status_byte(n)]))
                    i += 3
                    continue
            if byte == GS and i + 1 < len(buf) and buf[i + 1] == ord("("):
                if i + 4 >= len(buf):
                    break
                length = buf[i + 3] + 256 * buf[i + 4]
                if i + 5 + length > len(buf):
                    break
                self._received += buf[i:i + 5 + length]
                i += 5 + length
                continue
            if byte == GS and i + 1 >= len(buf):
                break
            self._received.append(byte)
            i += 1
        del buf[:i]
        return answers

    def _status_byte(self, n: int) -> int:
        value = 0x12  # the fixed bits of every answer
        if n == 1 and not self.online:
            value |= 0x08
        elif n == 2:
            if self.cover_open:
                value |= 0x04
            if self.paper == "out":
                value |= 0x20
        elif n == 4:
            if self.paper in ("near_end", "out"):
                value |= 0x0C
            if self.paper == "out":
                value |= 0x60
        return value

    def _write(self, data: bytes) -> None:
        try:
            _, ready, _ = select.select([], [self._master], [], 0.5)
            if ready:
                os.write(self._master, data)
        except OSError:
            pass
