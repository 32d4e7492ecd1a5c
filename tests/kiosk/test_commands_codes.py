"""`kiosk barcode` and `kiosk print-test`, run as real processes."""

from __future__ import annotations

import json

import cv2
import numpy as np

from hardware.barcode_samples import code_modules
from hardware.printer_simulator import PrinterSimulator
from tests.kiosk.test_cli import kiosk

GBK_TEXT = "粤省事 电子证照 核验码 4A7C"
ID_NUMBER = "44142319480312002X"  # fictional


def write_code(path, symbology: str, data: bytes) -> None:
    modules = code_modules(symbology, data)
    img = cv2.resize(((1 - modules) * 255).astype(np.uint8), None, fx=4, fy=4,
                     interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(str(path), np.pad(img, 30, constant_values=255))


def test_barcode_json_per_file_with_clear_errors(tmp_path):
    write_code(tmp_path / "qr.png", "QRCODE", GBK_TEXT.encode("gbk"))
    write_code(tmp_path / "id.jpg", "CODE128", ID_NUMBER.encode())
    cv2.imwrite(str(tmp_path / "blank.png"), np.full((50, 50), 255, np.uint8))
    (tmp_path / "notes.txt").write_text("不是图片", encoding="utf-8")
    (tmp_path / "broken.jpg").write_bytes((tmp_path / "id.jpg").read_bytes()[:300])
    files = ["qr.png", "notes.txt", "id.jpg", "broken.jpg", "blank.png", "gone.png"]
    env = {"KIOSK_DATA_DIR": str(tmp_path)}
    result = kiosk("barcode", *[str(tmp_path / f) for f in files], "--json", env=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in rows] == [str(tmp_path / f) for f in files]
    by_name = {r["file"].rsplit("/", 1)[1]: r for r in rows}
    assert by_name["qr.png"] == {"file": str(tmp_path / "qr.png"),
                                 "codes": [{"type": "QRCODE", "text": GBK_TEXT}]}
    assert by_name["id.jpg"]["codes"] == [{"type": "CODE128", "text": ID_NUMBER}]
    assert by_name["blank.png"]["codes"] == [] and "error" not in by_name["blank.png"]
    for bad in ("notes.txt", "broken.jpg", "gone.png"):
        assert by_name[bad]["codes"] == [] and by_name[bad]["error"] == "hardware.image_unreadable"
        assert by_name[bad]["message"]


def test_barcode_plain_output_and_exit_zero(tmp_path):
    write_code(tmp_path / "qr.png", "QRCODE", "回执".encode())
    result = kiosk("barcode", str(tmp_path / "qr.png"), env={"KIOSK_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("QRCODE 回执")


def test_print_test_to_a_file(tmp_path):
    out = tmp_path / "receipt.bin"
    result = kiosk("print-test", "--out", str(out), "--json", env={"KIOSK_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout.strip().splitlines()[-1])
    assert row["printed"] is True and row["bytes"] == out.stat().st_size
    data = out.read_bytes()
    assert data.startswith(b"\x1b@") and data.endswith(b"\x1dV\x00")
    assert b"\x1c&" + "办事回执".encode("gb18030") + b"\x1c." in data
    assert b"1P0http://127.0.0.1:8400/track/K0000-20260101-0001" in data


def test_print_test_on_a_serial_printer_and_its_paper_out(tmp_path):
    with PrinterSimulator() as sim:
        config = tmp_path / "kiosk.toml"
        config.write_text(f'[devices.printer]\ndriver = "serial"\ntarget = "{sim.port}@19200"\n')
        env = {"KIOSK_DATA_DIR": str(tmp_path)}
        result = kiosk("print-test", "--config", str(config), "--json", env=env)
        assert result.returncode == 0, result.stderr
        row = json.loads(result.stdout.strip().splitlines()[-1])
        assert row["status"] == {"online": True, "paper": "ok", "cover_open": False}
        assert sim.wait_for(b"\x1dV\x00").endswith(b"\x1dV\x00")
        sim.clear()
        sim.paper = "out"
        result = kiosk("print-test", "--config", str(config), env=env)
        assert result.returncode == 2
        assert "没有纸" in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert sim.received == b""


def test_print_test_without_a_printer_says_how_to_set_one(tmp_path):
    result = kiosk("print-test", env={"KIOSK_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "devices.printer" in result.stderr and "--out" in result.stderr
