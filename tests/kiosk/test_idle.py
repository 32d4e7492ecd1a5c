"""The idle timeout as the villager meets it (kiosk.idle): warn, keep on a touch, wipe at zero."""

from __future__ import annotations

from kiosk.idle import IDLE_WARNING_PROMPT, IdleWatch
from kiosk.visit import VisitKeeper
from tests.support.clock import ManualClock


def watch(timeout: float = 120, warning: float = 20) -> tuple[IdleWatch, VisitKeeper, ManualClock, list]:
    clock = ManualClock()
    keeper = VisitKeeper(timeout, clock)
    events: list = []
    idle = IdleWatch(keeper, warning, lambda name, **payload: events.append((name, payload)))
    return idle, keeper, clock, events


def test_the_warning_counts_down_a_touch_keeps_the_visit_and_zero_wipes_it():
    idle, keeper, clock, events = watch()
    visit = keeper.start()
    visit.fields["phone"] = "13800138000"
    clock.advance(99)
    assert not idle.check() and events == [] and idle.seconds_left() == 21
    clock.advance(2)
    assert not idle.check()
    assert events == [("idle_warning", {"seconds_left": 19, "prompt_key": IDLE_WARNING_PROMPT})]
    idle.check()  # said once, not on every tick
    assert len(events) == 1

    visit.touch(clock())  # a tap anywhere
    assert not idle.check()
    assert events[-1] == ("idle_warning_cleared", {}) and idle.seconds_left() == 120
    assert keeper.current is visit and visit.fields == {"phone": "13800138000"}

    clock.advance(105)
    idle.check()
    assert events[-1][0] == "idle_warning"
    clock.advance(15)
    assert idle.check()
    assert events[-1] == ("session_expired", {})
    assert keeper.current is None and visit.wiped and visit.fields == {}
    assert idle.seconds_left() is None and not idle.check()


def test_a_finished_visit_closes_quietly_without_a_countdown():
    idle, keeper, clock, events = watch()
    keeper.start().finished = True  # the application was sealed, the receipt shows
    clock.advance(110)
    assert not idle.check() and events == []
    clock.advance(10)
    assert idle.check()
    assert events == [("visit_closed", {})]


def test_the_warning_is_at_most_half_a_short_timeout_and_goes_when_the_visit_ends():
    idle, keeper, clock, events = watch(timeout=6, warning=20)
    assert idle.warning_s == 3
    keeper.start()
    clock.advance(3.5)
    idle.check()
    assert events[-1][0] == "idle_warning"
    keeper.cancel()  # 回首页 pressed on the warning's screen
    idle.check()
    assert events[-1] == ("idle_warning_cleared", {})
