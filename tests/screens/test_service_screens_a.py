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


def test_devices_are_checked_when_home_shows_and_the_receipt_words_follow_the_printer(tmp_path, clock):
    service = make_service(tmp_path, clock)
    try:
        recorder = Recorder()
        service.bind(recorder)
        service.steps.home.enter()  # the home screen shows: the camera and printer are checked
        assert recorder.wait("devices_checked") == {"camera": True, "printer": False}
        assert service.ctx.devices.check_if_stale() is None  # checked a moment ago: not again
        assert "拍照设备没有连接，请找工作人员。" not in service.steps.home.notices()
        receipt = service.steps.receipt
        assert receipt.keep_line("K-1") == "本机不打印回执，请记下受理编号，或用手机扫右边的二维码"
    finally:
        service.close()

    slip = tmp_path / "slip.bin"
    service = make_service(tmp_path / "2", clock)
    settings = service.settings.with_overrides({"devices.printer.driver": "file",
                                                "devices.printer.target": str(slip)})
    service.ctx.settings = settings
    service.ctx.devices.devices_cfg = settings.devices
    try:
        service.ctx.devices.check()
        assert service.ctx.printer_usable()
        assert service.steps.receipt.keep_line("K-1") == "请保管好回执单，凭编号查询进度"
        service.steps.receipt._print_notices["K-1"] = "没有打印出来"  # this slip failed: note the number
        assert service.steps.receipt.keep_line("K-1").startswith("本机不打印回执")
    finally:
        service.close()


def test_a_missing_camera_is_known_on_the_home_screen(service):
    service.camera = None
    service.ctx.devices.check()
    assert not service.ctx.camera_usable()
    assert "拍照设备没有连接，请找工作人员。" in service.steps.home.notices()
    assert service.steps.home.can_start()  # the items without a photo, and status, still work


def test_maintenance_pin_queue_and_enrolment_words(service):
    from kiosk.maintenance_pin import hash_pin

    step = service.steps.maintenance
    assert step.check_pin("2468").message == "这台机器还没有设置维护密码。"  # the default: no PIN
    step.guard.stored = hash_pin("2468", iterations=1000)
    wrong = step.check_pin("1111")
    assert not wrong.ok and wrong.message == "密码不对，还可以再试 4 次。" and not step.open
    assert step.check_pin("2468").ok and step.open
    step.leave()
    assert not step.open  # the next visit asks again
    assert step.queue_lines()[0] == "数量：没有"
    assert step.enrolment_line().startswith("已接入：kiosk-7e57a001（441423）")
    assert step.sync_now() == "没有接入县分厅，不能发送"


def test_the_countys_lock_wipes_the_visit_and_persists_and_unlock_lifts_it(tmp_path, clock):
    from kiosk.agent.actions import Kit, lock, unlock
    from kiosk.agent.state import AgentState

    service = make_service(tmp_path, clock)
    recorder = Recorder()
    service.bind(recorder)
    kit = Kit(data_dir=tmp_path, queue=service.queue, state=AgentState(), health=dict,
              emit=lambda what, payload: service.emit("fleet", what=what, payload=payload))
    try:
        service.steps.home.start_application()
        lock(kit, {"notice": "本机正在维修"})
        step = service.steps.out_of_service
        assert step.locked and step.notice() == "本机正在维修"
        assert service.visit is None  # the villager's visit went with the lock
        assert recorder.wait("service_state") == {"locked": True}
    finally:
        service.close()
    again = make_service(tmp_path, clock)  # a restart: still locked, from agent.json
    try:
        assert again.steps.out_of_service.locked
        again.bind(recorder)
        unlock(Kit(data_dir=tmp_path, queue=again.queue, state=AgentState.load(tmp_path), health=dict,
                   emit=lambda what, payload: again.emit("fleet", what=what, payload=payload)), {})
        assert not again.steps.out_of_service.locked
        assert again.steps.out_of_service.notice() == "这台机器暂停服务，请到村委会或镇政务服务中心办理。"
    finally:
        again.close()


def test_the_device_check_never_takes_the_camera_from_a_step_using_it(service):
    class Scanner:  # a step's scanner holding the camera
        given_back = 0

        def give_back(self):
            self.given_back += 1

    scanner = Scanner()
    service.ctx.camera.lend(scanner)
    report = service.ctx.devices.check()
    assert report["camera"].reason == "in_use" and service.ctx.camera.holder is scanner
    assert scanner.given_back == 0 and service.ctx.camera_usable()
