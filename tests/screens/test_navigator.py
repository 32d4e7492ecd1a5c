"""The navigator follows the step table: forward where the step says, back, home, no way back.

No window: the navigator is given a stand-in screen manager and stand-in screens (the
real ones are driven by touch in test_gui.py); the steps are the real controllers.
"""

from __future__ import annotations

import pytest

from kiosk.steps.table import MOVES, MoveRefused
from tests.screens.test_service import Clock, FakeReader, make_service

pytest.importorskip("kivy")

from screens.navigator import Navigator  # noqa: E402

SCREENS_HERE = {name: (__name__, "StandInScreen") for name in MOVES}


class StandInScreen:
    def __init__(self, name, step, nav, lang):
        self.name, self.step, self.nav, self.lang = name, step, nav, lang
        self.left = self.forgotten = 0

    def prepare(self, **params):
        self.params = params

    def refresh(self):
        pass

    def leave(self):
        self.left += 1

    def forget(self):
        self.forgotten += 1


class StandInManager:
    def __init__(self):
        self.screens, self.current = [], ""

    def has_screen(self, name):
        return any(s.name == name for s in self.screens)

    def get_screen(self, name):
        return next(s for s in self.screens if s.name == name)

    def add_widget(self, screen):
        self.screens.append(screen)

    @property
    def current_screen(self):
        return self.get_screen(self.current) if self.current else None


@pytest.fixture
def nav(tmp_path):
    service = make_service(tmp_path, Clock(), reader=FakeReader())  # no card: identify waits
    navigator = Navigator(service, manager=StandInManager(), table=SCREENS_HERE)
    navigator.start()
    yield navigator
    service.close()


def test_forward_goes_where_the_step_says_and_back_skips_identify(nav):
    assert nav.current == "home"
    assert nav.steps.home.start_application()
    nav.forward()
    assert nav.current == "identify" and nav.steps.identify.waiting_for_card  # entered: the card wait runs
    nav.steps.identify.enter_id_number("11010519491231002X")
    nav.forward()
    assert nav.current == "catalog" and not nav.steps.identify.waiting_for_card  # left: stopped
    nav.steps.catalog.choose("GD-SAMPLE-001")
    nav.forward()
    assert nav.current == "guide" and nav.history == ["home", "catalog"]
    nav.back()
    nav.back()  # identify is not returned to: back from the catalog goes home and wipes the visit
    assert nav.current == "home" and nav.service.visit is None and nav.history == []


def test_a_status_lookup_goes_from_identify_to_status_and_done_finishes(nav):
    nav.steps.home.start_status_lookup()
    nav.forward()
    nav.steps.identify.enter_id_number("11010519491231002X")
    nav.forward()
    assert nav.current == "status"
    with pytest.raises(MoveRefused):
        nav.forward()  # status has no forward move
    nav.finish()
    assert nav.current == "home" and nav.service.visit is None
    assert all(s.forgotten == 1 for s in nav.manager.screens)  # every screen dropped what it showed


def test_a_dropped_screen_taken_apart_is_freed_though_one_of_its_widgets_is_still_held():
    import gc
    import weakref

    from kivy.clock import Clock as KivyClock
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.widget import Widget

    from screens.navigator import take_apart

    screen = BoxLayout()
    rows = [BoxLayout() for _ in range(3)]
    for index in range(3):
        screen.add_widget(rows[index])
        for _ in range(2):
            rows[index].add_widget(Widget())
    held = rows[1].children[0]  # as a callback still scheduled, or a touch kept a while, would hold it
    alive = [weakref.ref(w) for w in [screen, *rows, *rows[0].children]]
    del rows
    assert take_apart(screen) == 9
    assert held.parent is None and not screen.children
    del screen
    KivyClock.tick()  # the layouts' triggers, set by the removals, hold their widgets until they run
    gc.collect()
    assert all(ref() is None for ref in alive)  # the rest of the screen went with it
