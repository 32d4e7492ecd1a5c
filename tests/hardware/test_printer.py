"""The receipt printer: real python-escpos bytes, to a file and over a pty to a simulated printer."""

import re
import socket

import pytest

from hardware.errors import PrinterCoverOpen, PrinterError, PrinterPaperOut, PrinterUnavailable
from hardware.factory import build_printer
from hardware.printer import FS_DOUBLE_BYTE_OFF, FS_DOUBLE_BYTE_ON, encode_text, parse_status
from hardware.printer_devices import open_printer, parse_target
from hardware.printer_receipt import ReceiptSlip, display_width, print_receipt, wrap
from hardware.printer_simulator import PrinterSimulator

URL = "http://127.0.0.1:8400/track/K0007-20261128-0012"
SLIP = ReceiptSlip(
    title="办事回执", place="新寨村便民服务站",
    service_label="办理事项：", service_name="城乡居民基本养老保险参保登记",
    number_label="受理号（查进度用）：", number="K0007-20261128-0012",
    date_label="提交时间：", date="2026-11-28 12:00",
    qr_text=URL, qr_caption="用手机扫这个码，可以查办理进度",
    keep_note="请保管好这张回执。查进度、补材料时都要用到它。",
)
CUT = b"\x1dV\x00"


def gb(text: str) -> bytes:
    return FS_DOUBLE_BYTE_ON + text.encode("gb18030") + FS_DOUBLE_BYTE_OFF


def qr_commands(data: bytes, size: int) -> bytes:
    """GS ( k exactly as HARDWARE.md spells it: model 2, module size, level M, store, print."""
    n = len(data) + 3
    return (b"\x1d(k\x04\x001A2\x00" + b"\x1d(k\x03\x001C" + bytes([size]) + b"\x1d(k\x03\x001E1"
            + b"\x1d(k" + bytes([n % 256, n // 256]) + b"1P0" + data + b"\x1d(k\x03\x001Q0")


def test_text_encoding_double_byte_mode_around_chinese_only():
    assert encode_text("K0007-20261128") == b"K0007-20261128"
    assert encode_text("回执") == FS_DOUBLE_BYTE_ON + "回执".encode("gb18030") + FS_DOUBLE_BYTE_OFF
    assert encode_text("受理号 K01：") == gb("受理号") + b" K01" + gb("：")
    assert encode_text("a\x1b@b\nc\x00") == b"a@b\nc"  # ESC dropped: control bytes never become commands
    assert "𠀀".encode("gb18030") in encode_text("𠀀")  # beyond GBK: GB18030 four-byte form


def test_status_bits():
    assert parse_status(0x12, 0x12, 0x12).to_json() == {"online": True, "paper": "ok", "cover_open": False}
    assert parse_status(0x12, 0x12, 0x1E).paper == "near_end"
    assert parse_status(0x12, 0x32, 0x7E).paper == "out"
    assert parse_status(0x12, 0x16, 0x12).cover_open is True
    assert parse_status(0x1A, 0x12, 0x12).online is False
    assert parse_status(None, 0x32, None).paper == "out"  # stopped for paper, no sensor answer
    assert parse_status(0xFF, 0x00, None) == parse_status(None, None, None)  # malformed: unknown
    unknown = {"online": None, "paper": "unknown", "cover_open": None}
    assert parse_status(None, None, None).to_json() == unknown
    assert parse_status(0x12, 0x12, 0x12).ready and not parse_status(0x12, 0x12, 0x72).ready


def test_wrap_counts_chinese_as_two_columns():
    assert display_width("受理号K1") == 8
    text = "办理事项：城乡居民基本养老保险参保登记"
    lines = wrap(text, 16)
    assert all(display_width(line) <= 16 for line in lines) and "".join(lines) == text
    assert wrap("abc def", 3) == ["abc", "def"]


def test_file_printer_receipt_bytes(tmp_path):
    out = tmp_path / "receipt.bin"
    printer = build_printer(type("Cfg", (), {"driver": "file", "target": str(out)})())
    print_receipt(printer, SLIP)
    printer.close()
    data = out.read_bytes()
    assert data.startswith(b"\x1b@")
    for text in (SLIP.title, SLIP.place, "城乡居民基本养老保险", SLIP.qr_caption):
        assert text.encode("gb18030") in data
    assert gb("办事回执") in data
    assert b"K0007-20261128-0012\n" in data
    assert qr_commands(URL.encode(), 5) in data  # native QR, the printer draws it
    assert b"\x1b!\x10" in data  # the number in double height
    assert data.endswith(CUT)
    assert data.count(FS_DOUBLE_BYTE_ON) == data.count(FS_DOUBLE_BYTE_OFF)
    assert printer.status().paper == "unknown"  # a file cannot answer DLE EOT


def test_no_personal_data_fields_on_the_slip():
    fields = set(ReceiptSlip.__dataclass_fields__)
    assert not fields & {"name", "id_number", "phone", "address", "birth_date"}


@pytest.fixture
def sim():
    with PrinterSimulator() as simulator:
        yield simulator


@pytest.fixture
def serial_printer(sim):
    printer = open_printer("serial", f"{sim.port}@115200", timeout=0.3)
    yield printer
    printer.close()


def test_serial_printer_over_a_pty_prints_the_same_bytes(sim, serial_printer, tmp_path):
    assert serial_printer.status().to_json() == {"online": True, "paper": "ok", "cover_open": False}
    print_receipt(serial_printer, SLIP)
    received = sim.wait_for(CUT)
    assert sim.queries == [1, 2, 4, 1, 2, 4, 1, 2, 4]  # status before (twice: status(), check) and after
    file_printer = open_printer("file", str(tmp_path / "r.bin"))
    print_receipt(file_printer, SLIP)
    file_printer.close()
    assert received == (tmp_path / "r.bin").read_bytes()  # status queries are not printed


@pytest.mark.parametrize(
    ("state", "error"),
    [({"paper": "out"}, PrinterPaperOut), ({"cover_open": True}, PrinterCoverOpen),
     ({"online": False}, PrinterError)],
)
def test_a_printer_that_cannot_print_is_refused_before_any_byte(sim, serial_printer, state, error):
    for key, value in state.items():
        setattr(sim, key, value)
    with pytest.raises(error) as caught:
        print_receipt(serial_printer, SLIP)
    assert caught.value.message_key.startswith("hardware.printer_")
    assert sim.received == b""


def test_paper_near_end_still_prints(sim, serial_printer):
    sim.paper = "near_end"
    assert serial_printer.status().paper == "near_end"
    print_receipt(serial_printer, SLIP)
    assert sim.wait_for(CUT).endswith(CUT)


def test_paper_running_out_during_the_slip_is_reported(sim, serial_printer):
    serial_printer.check_ready()
    original = serial_printer.feed_and_cut

    def cut_then_run_out():
        original()
        sim.wait_for(CUT)
        sim.paper = "out"

    serial_printer.feed_and_cut = cut_then_run_out
    with pytest.raises(PrinterPaperOut):
        print_receipt(serial_printer, SLIP)


def test_a_mute_printer_has_unknown_status_and_still_prints(sim, serial_printer):
    sim.mute = True
    assert serial_printer.status().to_json() == {"online": None, "paper": "unknown", "cover_open": None}
    print_receipt(serial_printer, SLIP)
    assert sim.wait_for(CUT).endswith(CUT)


def test_qr_data_that_looks_like_a_status_request_is_not_answered(sim, serial_printer):
    serial_printer.device._raw(b"\x1d(k\x06\x001P0\x10\x04\x04")  # store "DLE EOT 4" as QR data
    serial_printer.line("ok")
    sim.wait_for(b"ok\n")
    assert sim.queries == []


def test_targets_are_checked():
    assert parse_target("serial", "/dev/ttyUSB0") == {"port": "/dev/ttyUSB0", "baud": 9600}
    assert parse_target("serial", "/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0@115200")["baud"] == 115200
    assert parse_target("usb", "0416:5011") == {"vendor": 0x0416, "product": 0x5011}
    assert parse_target("network", "10.0.0.9") == {"host": "10.0.0.9", "port": 9100}
    assert parse_target("network", "printer.local:9101")["port"] == 9101
    assert parse_target("none", "") == {}
    for driver, target in [("serial", ""), ("serial", "/dev/ttyS0@123"), ("usb", "0416"),
                           ("network", "a b"), ("network", "h:70000"), ("lpt", "x")]:
        with pytest.raises(ValueError):
            parse_target(driver, target)


def test_unreachable_printers_are_unavailable(tmp_path):
    with pytest.raises(PrinterUnavailable):
        open_printer("serial", str(tmp_path / "no-such-tty"))
    with pytest.raises(PrinterUnavailable):
        open_printer("file", str(tmp_path / "no-dir" / "out.bin"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(PrinterUnavailable):
        open_printer("network", f"127.0.0.1:{port}")
    assert open_printer("none", "") is None


def test_network_printer_bytes_and_status(tmp_path):
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    got = bytearray()

    def serve():
        conn, _ = server.accept()
        with conn:
            while chunk := conn.recv(4096):
                got.extend(chunk)
                for _ in re.findall(rb"\x10\x04[\x01\x02\x04]", bytes(chunk)):
                    conn.sendall(b"\x12")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    printer = open_printer("network", f"127.0.0.1:{server.getsockname()[1]}", timeout=0.5)
    assert printer.status().paper == "ok"
    print_receipt(printer, SLIP)
    printer.close()
    thread.join(5)
    server.close()
    assert qr_commands(URL.encode(), 5) in got and bytes(got).endswith(b"\x10\x04\x04")


def test_health_for_devices_and_doctor(sim, serial_printer, tmp_path):
    from hardware.health import probe_printer

    assert serial_printer.health().state == "ok"
    for state, reason in [({"paper": "near_end"}, "paper_near_end"), ({"paper": "out"}, "paper_out"),
                          ({"paper": "ok", "cover_open": True}, "cover_open")]:
        for key, value in state.items():
            setattr(sim, key, value)
        health = serial_printer.health()
        assert (health.state, health.reason, health.required) == ("degraded", reason, False)
    cfg = type("Cfg", (), {"driver": "serial", "target": str(tmp_path / "gone")})()
    assert probe_printer(cfg).state == "missing"
    file_cfg = type("Cfg", (), {"driver": "file", "target": str(tmp_path / "out.bin")})()
    assert probe_printer(file_cfg).state == "ok"
