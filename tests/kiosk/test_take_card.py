"""The take-your-card reminder (kiosk.take_card), on its real BackgroundLoop."""

from __future__ import annotations

import threading

from kiosk.take_card import TAKE_CARD_PROMPT, TakeCardReminder
from kiosk.visit import VisitKeeper


class Reader:
    def __init__(self, present=True):
        self.present = present

    def card_present(self):
        if isinstance(self.present, BaseException):
            raise self.present
        return self.present


class Events:
    def __init__(self):
        self.got: list = []
        self.done = threading.Event()

    def __call__(self, name, **payload):
        self.got.append((name, payload))
        if name == "take_card_done":
            self.done.set()


def wait_for(predicate, timeout=5.0):
    event = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return True
        event.wait(0.02)
    return False


def test_reminds_while_the_card_lies_there_and_goes_when_it_is_taken():
    reader, events, keeper = Reader(), Events(), VisitKeeper(120)
    reminder = TakeCardReminder(reader, keeper, events, timeout_s=30)
    reminder.start()
    try:
        assert wait_for(lambda: events.got == [("take_card_reminder", {"prompt_key": TAKE_CARD_PROMPT})])
        assert reminder.running  # still watching the card
        reader.present = False
        assert events.done.wait(5)
        assert events.got[-1] == ("take_card_done", {"reason": "taken"})
        assert wait_for(lambda: not reminder.running)
    finally:
        reminder.close()


def test_a_card_already_taken_gets_no_reminder_and_a_mute_reader_one_that_times_out():
    events, keeper = Events(), VisitKeeper(120)
    taken = TakeCardReminder(Reader(present=False), keeper, events, timeout_s=30)
    taken.start()
    assert wait_for(lambda: not taken.running) and events.got == []

    mute = TakeCardReminder(Reader(present=OSError("no answer")), keeper, events, timeout_s=0.3)
    mute.start()
    try:
        assert events.done.wait(5)
        assert [name for name, _ in events.got] == ["take_card_reminder", "take_card_done"]
        assert events.got[-1][1] == {"reason": "timeout"}
        # the loop ends itself just after it said "done": not after this test (its log line
        # once landed in a stream pytest had already closed)
        assert wait_for(lambda: not mute.running)
    finally:
        mute.close()
        taken.close()


def test_the_next_visit_ends_the_reminder():
    events, keeper = Events(), VisitKeeper(120)
    reminder = TakeCardReminder(Reader(), keeper, events, timeout_s=30)
    reminder.start()
    try:
        assert wait_for(lambda: len(events.got) == 1)
        keeper.start()  # the next villager pressed 我要办事
        assert events.done.wait(5)
        assert events.got[-1] == ("take_card_done", {"reason": "next_visit"})
    finally:
        reminder.close()
