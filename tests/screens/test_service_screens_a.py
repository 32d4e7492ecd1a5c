"""The catalog, guide, receipt, maintenance and out-of-service steps, without a window."""

from __future__ import annotations

import pytest

from kiosk.service import ActionFailed
from tests.screens.test_service import Recorder, make_service
from tests.support.clock import ManualClock


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def service(tmp_path, clock):
    service = make_service(tmp_path, clock)
    yield service
    service.close()


def test_catalog_categories_items_and_search(service):
    catalog = service.steps.catalog
    rows = catalog.categories()
    assert [(r.id, r.name, r.count) for r in rows][:2] == [("insurance", "养老医保", 3),
                                                           ("assistance", "救助补贴", 5)]
    family = catalog.rows("family")
    assert [r.code for r in family] == ["GD-SAMPLE-008", "GD-SAMPLE-012", "GD-SAMPLE-013"]
    assert family[0].icon == "smile" and family[0].blocked == ""

    recorder = Recorder()
    service.bind(recorder)
    assert catalog.search("sy") == []  # not built yet: nothing, and no waiting
    catalog.enter()
    recorder.wait("catalog_search_ready", timeout=60)
    assert [r.code for r in catalog.search("sy")][:1] == ["GD-SAMPLE-013"]  # 生育登记
    assert {r.code for r in catalog.search("生")} == {f"GD-SAMPLE-{n}" for n in ("004", "006", "008", "013")}
    assert catalog.search("qqqq") == []


def test_without_a_camera_items_needing_a_photo_are_marked_and_cannot_be_chosen(service):
    service.camera = None
    service.steps.home.start_application()
    row = service.steps.catalog.rows("insurance")[0]
    assert row.blocked == "拍照设备坏了，这一项现在办不了。请找工作人员。"
    with pytest.raises(ActionFailed) as info:
        service.steps.catalog.choose(row.code)
    assert info.value.message_key == "catalog.needs_camera"
    assert service.visit.service_code is None


def test_guide_lists_the_conditions(service):
    service.steps.home.start_application()
    service.steps.catalog.choose("GD-SAMPLE-008")
    guide = service.steps.guide.guide()
    assert guide["conditions"] == ["有《出生医学证明》", "随父或随母在本县落户"]
