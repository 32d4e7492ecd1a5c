"""BackgroundLoop: a pass that raises never ends the thread; stop, wake and STOP do."""

import threading
import time

import pytest

from workers import BackgroundLoop


def wait_for(predicate, timeout_s=5.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def test_runs_passes_until_stopped():
    calls = []
    loop = BackgroundLoop("t-basic", lambda: calls.append(1), interval_s=0.01)
    loop.start()
    assert wait_for(lambda: len(calls) >= 5)
    assert loop.running
    assert loop.stop()
    assert not loop.running and not loop.alive


def test_a_crashing_pass_is_logged_and_the_loop_goes_on(caplog):
    count = {"n": 0}

    def one_pass():
        count["n"] += 1
        if count["n"] % 2:
            raise ValueError("boom")

    crashes = []
    loop = BackgroundLoop("t-crash", one_pass, interval_s=0.001, on_crash=crashes.append)
    loop.start()
    assert wait_for(lambda: count["n"] >= 10)
    assert loop.running, "the thread must still be alive after passes that raised"
    assert loop.stats.crashes >= 4 and loop.stats.last_crash == "ValueError"
    assert all(isinstance(c, ValueError) for c in crashes)
    loop.stop()
    assert "the loop goes on" in caplog.text


def test_on_crash_that_raises_does_not_kill_the_loop():
    def bad_listener(exc):
        raise RuntimeError("listener bug")

    loop = BackgroundLoop("t-listener", lambda: 1 / 0, interval_s=0.001, on_crash=bad_listener)
    loop.start()
    assert wait_for(lambda: loop.stats.crashes >= 3)
    assert loop.running
    loop.stop()


def test_wake_runs_the_next_pass_at_once():
    calls = []
    loop = BackgroundLoop("t-wake", lambda: calls.append(time.monotonic()), interval_s=60)
    loop.start()
    assert wait_for(lambda: len(calls) == 1)
    loop.wake()
    assert wait_for(lambda: len(calls) == 2, timeout_s=2)
    assert loop.running
    loop.stop()


def test_pass_returning_delay_and_stop():
    results = iter([0, 0, BackgroundLoop.STOP])
    exited = threading.Event()
    loop = BackgroundLoop("t-stop", lambda: next(results), interval_s=60, on_exit=exited.set)
    loop.start()
    assert exited.wait(2)
    assert not loop.alive
    assert loop.stats.passes == 3


def test_stop_interrupts_a_long_interval_and_a_sleeping_pass():
    started = threading.Event()

    def one_pass():
        started.set()
        loop.sleep(60)

    loop = BackgroundLoop("t-sleep", one_pass, interval_s=60)
    loop.start()
    assert started.wait(2)
    t0 = time.monotonic()
    assert loop.stop(timeout_s=2)
    assert time.monotonic() - t0 < 1.0


def test_restart_after_stop():
    calls = []
    loop = BackgroundLoop("t-restart", lambda: calls.append(1), interval_s=0.01)
    loop.start()
    loop.stop()
    n = len(calls)
    loop.start()
    assert wait_for(lambda: len(calls) > n)
    assert loop.running
    loop.stop()


@pytest.mark.parametrize("bad", [KeyError, TypeError, AttributeError])
def test_any_exception_type_is_survived(bad):
    def one_pass():
        raise bad("x")

    loop = BackgroundLoop("t-types", one_pass, interval_s=0.001)
    loop.start()
    assert wait_for(lambda: loop.stats.crashes >= 2)
    assert loop.running
    loop.stop()
