"""`kiosk scan detect` and `kiosk scan rectify` on real picture files."""

import json

import cv2
import numpy as np

from hardware.docscan.synthetic import make_scene
from kiosk.cli import main


def _page(tmp_path):
    scene = make_scene(np.random.default_rng(3), "plain")
    path = tmp_path / "page.jpg"
    cv2.imwrite(str(path), scene.image)
    return path, scene


def test_detect_prints_corners_per_file_and_a_clear_error_for_a_corrupt_one(tmp_path, capsys):
    path, scene = _page(tmp_path)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    empty = tmp_path / "empty.png"
    cv2.imwrite(str(empty), np.full((200, 300, 3), 80, np.uint8))
    code = main(["scan", "detect", str(path), str(bad), str(empty), "--json"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 2
    assert lines[0]["file"] == str(path) and len(lines[0]["quad"]) == 4 and lines[0]["ms"] >= 0
    assert np.abs(np.array(lines[0]["quad"]) - scene.quad).max() < 6
    assert lines[1]["error"] == "scan.bad_image" and lines[1]["quad"] is None
    assert lines[2]["quad"] is None and "error" not in lines[2]


def test_rectify_writes_the_page_and_refuses_a_picture_without_one(tmp_path, capsys):
    path, _ = _page(tmp_path)
    out = tmp_path / "page-text.png"
    assert main(["scan", "rectify", str(path), "--out", str(out), "--mode", "text"]) == 0
    page = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert page is not None and page.ndim == 2 and max(page.shape) == 1754
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 300, 3), 80, np.uint8))
    assert main(["scan", "rectify", str(blank), "--out", str(tmp_path / "x.jpg")]) == 2
    assert "没有找到纸张" in capsys.readouterr().err
