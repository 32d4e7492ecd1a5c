import logging

import pytest

from kiosk import privacy
from kiosk.errors import NoActiveSession, SessionExpired
from kiosk.session import Page, SessionKeeper

from .conftest import make_card


def test_wipe_clears_everything_and_zeroes_pages(clock):
    keeper = SessionKeeper(120, clock)
    session = keeper.start()
    session.card = make_card()
    session.service_code = "GD-SAMPLE-001"
    session.fields["phone"] = "13812345678"
    page = Page("M1", b"\xff" * 100, "image/jpeg", 10, 10)
    session.add_page(page)
    buffer = page.data
    assert "黄秀梅" not in repr(session) and "bytes" in repr(page)
    keeper.finish()
    assert keeper.current is None and session.wiped
    assert session.card is None and session.fields == {} and session.pages == []
    assert session.service_code is None
    assert buffer == bytes(100)  # overwritten, not just dropped
    keeper.finish()  # idempotent
    keeper.cancel()


def test_names_are_registered_with_the_log_filter_until_wipe(clock):
    data_filter = privacy.PersonalDataFilter()
    keeper = SessionKeeper(120, clock)
    keeper.start().card = make_card()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("黄秀梅",), None)
    data_filter.filter(record)
    assert "黄秀梅" not in record.getMessage()
    keeper.cancel()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("黄秀梅",), None)
    data_filter.filter(record)
    assert "黄秀梅" in record.getMessage()


def test_idle_expiry_with_injected_clock(clock):
    keeper = SessionKeeper(120, clock)
    session = keeper.start()
    session.card = make_card()
    clock.advance(100)
    assert not keeper.expire_if_idle()
    keeper.touch()
    clock.advance(100)
    assert not keeper.expire_if_idle()  # 100 s since the last touch
    clock.advance(20)
    assert keeper.expire_if_idle()
    assert keeper.current is None and session.card is None
    assert not keeper.expire_if_idle()
    with pytest.raises(SessionExpired) as info:
        keeper.require()
    assert info.value.message_key == "kiosk.session_expired"
    with pytest.raises(NoActiveSession):
        keeper.require()


def test_require_expires_lazily_and_start_replaces(clock):
    keeper = SessionKeeper(60, clock)
    first = keeper.start()
    first.fields["x"] = "1"
    assert keeper.require() is first
    second = keeper.start()
    assert first.wiped and first.fields == {} and keeper.current is second
    clock.advance(61)
    with pytest.raises(SessionExpired):
        keeper.require()


def test_remove_page_wipes_it(clock):
    session = SessionKeeper(60, clock).start()
    session.add_page(Page("M1", b"abc"))
    page = session.pages[0]
    buffer = page.data
    session.remove_page(0)
    assert session.pages == [] and buffer == b"\0\0\0"
