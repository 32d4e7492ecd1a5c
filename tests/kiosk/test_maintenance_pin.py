"""The technician's PIN: only a salted hash is kept; a lockout after wrong tries."""

from __future__ import annotations

import pytest

from kiosk.errors import ConfigError
from kiosk.maintenance_pin import PinGuard, hash_pin, pin_matches
from kiosk.settings import load_settings
from tests.support.clock import ManualClock


def test_hash_is_salted_and_checks():
    one, two = hash_pin("2468", iterations=1000), hash_pin("2468", iterations=1000)
    assert one != two and "2468" not in one
    assert pin_matches("2468", one) and not pin_matches("2469", one)
    assert not pin_matches("2468", "") and not pin_matches("2468", "md5$1$00$00")


def test_lockout_after_repeated_wrong_pins_then_tries_again():
    clock = ManualClock()
    guard = PinGuard(hash_pin("2468", iterations=1000), max_tries=3, lockout_s=300, clock=clock)
    assert [guard.check("0000").tries_left for _ in range(2)] == [2, 1]
    locked = guard.check("0000")
    assert not locked.ok and locked.locked_for_s == 300
    assert guard.check("2468").locked_for_s > 0  # even the right PIN, while locked out
    clock.advance(301)
    assert guard.check("2468").ok
    assert guard.check("1").tries_left == 2  # a success starts the count over


def test_no_pin_set_keeps_maintenance_shut():
    verdict = PinGuard("", 5, 300).check("")
    assert not verdict.ok and verdict.no_pin


def test_settings_take_only_a_hash():
    settings = load_settings(environ={})
    assert settings.maintenance.pin_hash == "" and settings.maintenance.max_tries == 5
    assert settings.with_overrides({"maintenance.pin_hash": hash_pin("1")}).maintenance.pin_hash
    with pytest.raises(ConfigError):
        settings.with_overrides({"maintenance.pin_hash": "2468"})  # a PIN in the clear is refused


def test_a_restart_keeps_the_count_and_the_lockout(tmp_path):
    """Pulling the plug must not give a new round of tries."""
    clock, state = ManualClock(), tmp_path / "maintenance-pin.json"
    stored = hash_pin("2468", iterations=1000)
    first = PinGuard(stored, max_tries=3, lockout_s=300, clock=clock, state_path=state)
    assert first.check("0000").tries_left == 2
    assert PinGuard(stored, 3, 300, clock=clock, state_path=state).check("0000").tries_left == 1
    assert PinGuard(stored, 3, 300, clock=clock, state_path=state).check("0000").locked_for_s == 300
    clock.advance(100)
    again = PinGuard(stored, 3, 300, clock=clock, state_path=state)
    assert again.check("2468").locked_for_s == pytest.approx(200)  # even the right PIN
    assert "2468" not in state.read_text() and stored not in state.read_text()
    clock.advance(201)
    assert PinGuard(stored, 3, 300, clock=clock, state_path=state).check("2468").ok


def test_a_damaged_or_far_future_lockout_file_locks_for_one_lockout_only(tmp_path):
    clock, state = ManualClock(), tmp_path / "maintenance-pin.json"
    stored = hash_pin("2468", iterations=1000)
    state.write_text("{not json")
    assert PinGuard(stored, 3, 300, clock=clock, state_path=state).check("2468").locked_for_s == 300
    state.write_text('{"failures": 0, "locked_until": 1e12}')  # a clock that was set far ahead
    assert PinGuard(stored, 3, 300, clock=clock, state_path=state).check("2468").locked_for_s == 300
