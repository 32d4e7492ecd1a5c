"""The systemd notifier: datagrams on NOTIFY_SOCKET, the ping interval, quiet without systemd."""

from __future__ import annotations

import os
import socket

from kiosk.watchdog import SystemdNotifier


def test_without_systemd_nothing_is_sent_and_nothing_is_pinged():
    notifier = SystemdNotifier(environ={})
    assert not notifier.enabled and notifier.ping_interval is None
    assert notifier.ready() is False and notifier.ping() is False


def test_messages_reach_the_socket_and_the_interval_is_half_the_watchdog(tmp_path):
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(5)
        notifier = SystemdNotifier(environ={"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "30000000"})
        assert notifier.ping_interval == 15.0
        assert notifier.ready() and notifier.ping()
        assert sock.recv(100) == b"READY=1\nSTATUS=home screen shown"
        assert sock.recv(100) == b"WATCHDOG=1"
        notifier.close()


def test_abstract_socket_and_a_watchdog_meant_for_another_process():
    name = f"kiosk-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        notifier = SystemdNotifier(environ={"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "1000000",
                                            "WATCHDOG_PID": "1"})
        assert notifier.ping_interval is None  # the watchdog watches pid 1, not us
        assert notifier.stopping()
        assert sock.recv(100) == b"STOPPING=1"


def test_a_failed_send_is_logged_once_and_never_raised(tmp_path, caplog):
    gone = str(tmp_path / "gone.sock")
    notifier = SystemdNotifier(environ={"NOTIFY_SOCKET": gone, "WATCHDOG_USEC": "2000000"})
    assert notifier.ping() is False and notifier.ping() is False
    assert len([r for r in caplog.records if "could not notify systemd" in r.getMessage()]) == 1
