"""Issue 10's end-to-end walks at the four supported sizes, in one app start (marker ``gui``).

``tests.screens.scenarios_walks_sizes``: the app's window is resized between sizes and the
same walks run again, through real touches that must reach their controls at that size.
"""

from __future__ import annotations

import shutil

import pytest

from tests.support.kivy_driver import ARTIFACTS, AppProcess

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]

SIZES = [(1920, 1080), (1080, 1920), (1280, 1024), (1280, 800)]


@pytest.mark.timeout(1500)  # four sizes of three walks: minutes on a loaded machine (see the report)
def test_the_walks_at_every_supported_size(tmp_path):
    with AppProcess("tests.screens.scenarios_walks_sizes:build_app",
                    "tests.screens.scenarios_walks_sizes:walks_at_every_size",
                    params={"data_dir": str(tmp_path / "data"), "sizes": [list(s) for s in SIZES]},
                    width=max(w for w, _ in SIZES), height=max(h for _, h in SIZES)) as proc:
        result = proc.wait(timeout=1400)
    assert list(result) == [f"{w}x{h}" for w, h in SIZES]  # every size was walked
    for n, (size, found) in enumerate(result.items(), start=1):
        end, devices = found["end"], found["devices"]
        # the idle warning counts down, a touch keeps the visit, nobody back: wiped with a notice
        assert end["warning_title"] == "您还在吗？" and end["kept"] is True, size
        assert end["visit_wiped"] is True and end["visit_after_wipe"] is False, size
        assert end["wiped_notice"].startswith("很久没有操作"), size
        # consent and signature seal it; no printer: note the number, the QR; the rating; take your card
        where = "下面" if size == "1080x1920" else "右边"  # upright, the QR code is under the number
        assert end["keep"] == f"本机不打印回执，请记下受理编号，或用手机扫{where}的二维码" and end["qr"], size
        assert end["sealed"] == n, size  # one application more at each size
        assert end["ratings"][-1] == {"application_ref": end["receipt_number"],
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
        for picture in found["pictures"]:
            png = ARTIFACTS / f"{picture}.png"
            assert png.exists() and png.stat().st_size > 10_000, picture
