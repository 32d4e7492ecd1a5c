"""The Visit: everything about the person at the kiosk, wiped as one."""

import logging

import numpy as np

from kiosk import privacy
from kiosk.visit import MODE_STATUS, Page, VisitKeeper

from .conftest import make_card


def filled_visit(keeper: VisitKeeper):
    visit = keeper.start()
    visit.card = make_card()
    visit.typed_id_number = "44142319500601042X"
    visit.applicant_tag = "tag"
    visit.lookup_number = "K7E57-20261201-0001"
    visit.service_code = "GD-SAMPLE-001"
    visit.fields["phone"] = "13812345678"
    visit.last_frame = np.zeros((4, 4, 3), np.uint8)
    visit.material_index = 2
    visit.agent = {"worker_id": "GW-441423-0007", "county": "441423"}
    page = Page("M1", b"\xff" * 100, "image/jpeg", 10, 10)
    visit.add_page(page)
    return visit, page.data


def assert_empty(visit) -> None:
    assert visit.wiped and not visit.identified
    assert visit.card is None and visit.typed_id_number is None
    assert visit.applicant_tag is None and visit.lookup_number is None
    assert visit.fields == {} and visit.pages == [] and visit.last_frame is None
    assert visit.service_code is None and visit.agent is None and visit.material_index == 0


def test_finish_wipes_everything_and_zeroes_pages(clock):
    keeper = VisitKeeper(120, clock)
    visit, buffer = filled_visit(keeper)
    assert visit.identified
    assert "黄秀梅" not in repr(visit) and "bytes" in repr(visit.pages[0])
    keeper.finish()
    assert keeper.current is None
    assert_empty(visit)
    assert buffer == bytes(100)  # overwritten, not just dropped
    keeper.finish()  # idempotent
    keeper.cancel()


def test_cancel_and_a_new_visit_wipe_the_old_one(clock):
    keeper = VisitKeeper(120, clock)
    visit, _ = filled_visit(keeper)
    keeper.cancel()
    assert_empty(visit)
    visit, _ = filled_visit(keeper)
    second = keeper.start(MODE_STATUS)
    assert_empty(visit)
    assert keeper.current is second and second.mode == MODE_STATUS and not second.identified


def test_names_are_registered_with_the_log_filter_until_wipe(clock):
    data_filter = privacy.PersonalDataFilter()
    keeper = VisitKeeper(120, clock)
    keeper.start().card = make_card()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("黄秀梅",), None)
    data_filter.filter(record)
    assert "黄秀梅" not in record.getMessage()
    keeper.cancel()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("黄秀梅",), None)
    data_filter.filter(record)
    assert "黄秀梅" in record.getMessage()


def test_idle_expiry_with_injected_clock(clock):
    keeper = VisitKeeper(120, clock)
    visit, _ = filled_visit(keeper)
    clock.advance(100)
    assert not keeper.expire_if_idle()
    visit.touch(clock())
    clock.advance(100)
    assert not keeper.expire_if_idle()  # 100 s since the last touch
    clock.advance(20)
    assert keeper.expire_if_idle()
    assert keeper.current is None
    assert_empty(visit)
    assert not keeper.expire_if_idle()


def test_choosing_another_item_clears_form_and_pages_but_not_the_identity(clock):
    keeper = VisitKeeper(120, clock)
    visit, buffer = filled_visit(keeper)
    visit.clear_application()
    assert visit.fields == {} and visit.pages == [] and visit.material_index == 0
    assert buffer == bytes(100)
    assert visit.card is not None and visit.identified


def test_remove_page_wipes_it(clock):
    visit = VisitKeeper(60, clock).start()
    visit.add_page(Page("M1", b"abc"))
    buffer = visit.pages[0].data
    visit.remove_page(0)
    assert visit.pages == [] and buffer == b"\0\0\0"
