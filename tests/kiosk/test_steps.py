"""The step table, the camera lease, and steps that hand the camera over without stopping each other."""

from __future__ import annotations

import time

import numpy as np
import pytest

from kiosk.devices import DeviceLease
from kiosk.steps import Steps
from kiosk.steps.table import (
    CATALOG,
    ENDS,
    HOME,
    IDENTIFY,
    MOVES,
    RATING,
    RECEIPT,
    STATUS,
    SUPPLEMENT,
    MoveRefused,
    check_move,
)
from screens.table import SCREENS
from tests.screens.test_service_codes_staff import PictureCamera, make
from tests.support.clock import ManualClock


def test_every_screen_has_a_step_and_every_move_leads_to_a_screen():
    assert set(MOVES) == set(SCREENS)
    assert all(target in SCREENS for targets in MOVES.values() for target in targets)
    assert set(ENDS) == {RECEIPT, RATING, STATUS, SUPPLEMENT}
    step_names = {f for f in Steps.__dataclass_fields__}
    assert set(SCREENS) <= step_names


def test_moves_not_in_the_table_are_refused():
    check_move(HOME, IDENTIFY)
    check_move(IDENTIFY, STATUS)
    with pytest.raises(MoveRefused):
        check_move(HOME, CATALOG)
    with pytest.raises(MoveRefused):
        check_move(RECEIPT, IDENTIFY)


class User:
    def __init__(self):
        self.given_back = 0

    def give_back(self):
        self.given_back += 1


def test_the_lease_takes_the_device_back_from_its_holder_before_lending_it_on():
    lease = DeviceLease("camera", "the camera")
    first, second = User(), User()
    assert lease.lend(first) == "the camera" and lease.holder is first
    assert lease.lend(first) == "the camera" and first.given_back == 0  # lending again to the holder
    assert lease.lend(second) == "the camera"
    assert first.given_back == 1 and lease.holder is second
    lease.release(first)  # not the holder any more: nothing happens
    assert lease.holder is second
    lease.release(second)
    assert lease.holder is None and second.given_back == 0
    lease.lend(first)
    lease.take_back()
    assert first.given_back == 2 and lease.holder is None


def test_identify_and_capture_hand_the_camera_over_through_the_lease(tmp_path):
    camera = PictureCamera(np.full((720, 1280, 3), 200, np.uint8))
    service = make(tmp_path, ManualClock(), camera=camera)
    identify, capture = service.steps.identify, service.steps.capture
    service.steps.home.start_status_lookup()
    try:
        assert identify.start_code_scan() and identify.code_scanning
        capture.start_scanning()  # capture borrows it: the lease stops the code scanner, not capture
        assert not identify.code_scanning and capture.scanning
        assert service.ctx.camera.holder is capture
        deadline = time.monotonic() + 5
        while capture.camera_frame() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert service.visit.last_frame is not None  # the frame is the visit's, wiped with it
        identify.start_code_scan()
        assert identify.code_scanning and not capture.scanning
        identify.stop_code_scan()
        assert service.ctx.camera.holder is None
    finally:
        service.close()
    assert not identify.code_scanning and not capture.scanning
