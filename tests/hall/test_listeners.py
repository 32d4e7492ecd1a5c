"""The hall listens on several sockets of one port (hall/api/connection_guard.py): the event
loop accepts one connection per listening socket per turn, and a burst of 500 connections
waited up to 20 s in the accept queue of one (issue 9, "Load")."""

from __future__ import annotations

import select
import socket

import pytest

from hall.api.connection_guard import listening_sockets


def test_connections_spread_over_the_sockets_of_one_port_and_a_taken_port_is_refused():
    sockets = listening_sockets("127.0.0.1", 0, 4, 64)
    clients: list[socket.socket] = []
    try:
        port = sockets[0].getsockname()[1]
        assert {sock.getsockname()[1] for sock in sockets} == {port}
        clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(64)]
        ready, _, _ = select.select(sockets, [], [], 5)
        assert len(ready) >= 2  # the kernel spread them: more than one queue to accept from
        # A second hall on the same port must fail, not silently take a share of the connections.
        for count in (1, 4):
            with pytest.raises(OSError):
                listening_sockets("127.0.0.1", port, count, 64)
    finally:
        for sock in clients + sockets:
            sock.close()
