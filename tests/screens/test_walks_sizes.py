"""Issue 10's end-to-end walks at the four supported sizes, in one app start (marker ``gui``).

``tests.screens.scenarios_walks_sizes``: the app's window is resized between sizes and the
same walks run again, through real touches that must reach their controls at that size.
The kiosk is enrolled with a real ``county-hall serve`` process and sends through the real
sync worker; the grid worker's correction is asked and accepted on that hall.
"""

from __future__ import annotations

import shutil

import pytest

from hardware.sample_cards import MIDDLE_AGED_VILLAGER
from offline_queue.identity import enroll
from tests.screens.scenarios_status_work import REASON
from tests.support.hall_process import HallProcess
from tests.support.kivy_driver import ARTIFACTS, AppProcess

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]

SIZES = [(1920, 1080), (1080, 1920), (1280, 1024), (1280, 800)]


@pytest.mark.timeout(1500)  # four sizes of five walks: minutes on a loaded machine (see the report)
def test_the_walks_at_every_supported_size(tmp_path):
    data_dir = tmp_path / "data"
    with HallProcess(tmp_path / "hall") as hall:
        enroll(hall.url, hall.enrollment_code(county="441423"), data_dir, name="walks kiosk")
        params = {"data_dir": str(data_dir), "sizes": [list(s) for s in SIZES], "voice": True,
                  "hall_url": hall.url, "hall_db_url": hall.db_url}
        with AppProcess("tests.screens.scenarios_walks_sizes:build_app",
                        "tests.screens.scenarios_walks_sizes:walks_at_every_size", params=params,
                        width=max(w for w, _ in SIZES), height=max(h for _, h in SIZES)) as proc:
            result = proc.wait(timeout=1400)
        sent = hall.applications()
    assert list(result) == [f"{w}x{h}" for w, h in SIZES]  # every size was walked
    for size, found in result.items():
        end, devices = found["end"], found["devices"]
        # the idle warning counts down, a touch keeps the visit, nobody back: wiped with a notice
        assert end["warning_title"] == "您还在吗？" and 30 <= end["countdown"] <= 55, size
        assert end["kept"] is True and end["left_after_touch"] > 250, size
        assert end["visit_wiped"] is True and end["visit_after_wipe"] is False, size
        assert end["wiped_notice"].startswith("很久没有操作") and "已经清除" in end["wiped_notice"], size
        assert end["queued_before_signing"] == 0, size  # consent and signature before the seal
        # consent and signature seal it; no printer: note the number, the QR; the rating; take your card
        where = "下面" if size == "1080x1920" else "右边"  # upright, the QR code is under the number
        assert end["keep"] == f"本机不打印回执，请记下受理编号，或用手机扫{where}的二维码" and end["qr"], size
        assert end["queued"] == 1, size  # one application sealed (sent by the worker in the background)
        assert end["hall_rating"] == {"application_ref": end["receipt_number"],  # sent on its own
                                      "service_code": "GD-SAMPLE-001", "score": 2, "reason": "slow"}, size
        assert end["take_card_title"] == "请取回身份证", size
        assert end["overlays_after_success"] == ["TakeCardOverlay"], size
        assert end["visit_after_receipt"] is False, size
        # the search: pinyin initials, then a character written by hand; what it found opens
        search = found["search"]
        assert search["letters_results"][0] == "result_GD-SAMPLE-013", size
        assert search["hand_candidates"][0] == "生" and "result_GD-SAMPLE-008" in search["hand_results"], size
        assert search["guide_item"] == search["hand_results"][0].removeprefix("result_"), size
        # no camera: said on home, the item needing a photo explained and not opened; then the lock
        assert devices["blocked_message"] == "拍照设备坏了，这一项现在办不了。请找工作人员。", size
        assert devices["still_catalog"] == "catalog", size
        assert devices["locked_notice"] == "本机正在维修，请到镇政务服务中心办理。", size
        assert devices["unlocked"] == "home", size
        # no card read: the number typed, item 008's names by handwriting and pinyin, the voice all along
        item, voice = found["item_008"], found["item_008"]["voice"]
        assert voice["home_buttons"] and voice["home_in_cantonese"], size
        assert voice["muted"] and voice["top_bar"], size
        # the card screen's "听到提示后再拿开" has its sound, not cut off by the next screen's prompt
        assert voice["card_then_catalog"] == ["voice.card_read", "voice.catalog"], size
        assert voice["volume_turned"][0] != voice["volume_turned"][1], size
        assert voice["error_said"], size  # "next" with the phone missing: the error is spoken
        spoken = {"voice.identify", "voice.form", "voice.handwriting", "voice.pinyin", "voice.receipt"}
        assert spoken <= set(voice["said"]), (size, voice["said"])
        assert item["ok_text"] == "确定", size  # no hard-coded "OK" in the manual entry
        assert item["written"] == "王三" and item["wang_offered"][0] == "王", size
        assert item["wang_lines"] == ["王晓明"], size  # the phrase on one line in its candidate button
        assert item["fields"] == {"name": "王三", "baby_name": "王晓明", "relation": "father",
                                  "baby_sex": "male", "baby_birth_date": "2026-11-15",
                                  "id_number": MIDDLE_AGED_VILLAGER.id_number}, size
        assert item["errors"] == {"phone": "kiosk.field.required"} and item["phone_row_shown"], size
        # the grid worker's correction: asked on the hall, answered by touch, joined, accepted
        fix = found["correction"]
        assert fix["worklist_first"]["materials"] == ["居民户口簿"], size
        # the worker's staff card opened the county's reason on the worklist card (one key agreement)
        assert fix["worklist_first"]["reason"] == REASON and fix["reason_shown"] == f"原因：{REASON}", size
        assert fix["card_agreements"] == 1, size
        assert any(fix["number"] in line for line in fix["number_lines"]), (size, fix["number_lines"])
        # the card taken out: the materials stay, the reason says it needs the card
        assert fix["card_out"] == {"note": "县里写了原因：请把工作证插在读卡器上才能看",
                                   "materials": "请补交：居民户口簿", "reason_shown": False,
                                   "supplement": True}, size
        assert fix["to_capture"] == ["M1"] and fix["headline"] == "已补交，请等待县里审核", size
        assert fix["hall"]["joined_pages"] == 1 and fix["hall"]["status"] == "supplemented", size
        assert fix["hall"]["official"] and fix["kiosk_official"] == fix["hall"]["official"], size
        assert fix["badge"] == "已受理", size
        for picture in found["pictures"]:
            png = ARTIFACTS / f"{picture}.png"
            assert png.exists() and png.stat().st_size > 10_000, picture
    # every application reached the hall once: per size item 001, item 008 and the worker's
    numbers = sorted(a["provisional_number"] for a in sent)
    assert len(numbers) == len(set(numbers)) and len(sent) >= 3 * len(SIZES), numbers
