"""Continuous scanning from a camera on a worker thread; bad pictures handed to the decoder."""

import threading
import time

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardware.barcode import BarcodeDecoder, read_picture
from hardware.barcode_samples import code_modules
from hardware.barcode_scanner import ContinuousScanner
from hardware.camera import ReplayCamera
from hardware.errors import CameraError, ImageUnreadable


def qr_picture(text: str) -> np.ndarray:
    modules = code_modules("QRCODE", text.encode("gbk"))
    img = ((1 - modules) * 255).astype(np.uint8)
    img = cv2.resize(img, None, fx=5, fy=5, interpolation=cv2.INTER_NEAREST)
    return cv2.cvtColor(np.pad(img, 40, constant_values=255), cv2.COLOR_GRAY2BGR)


@pytest.fixture(scope="module")
def decoder():
    dec = BarcodeDecoder()
    yield dec
    dec.close()


class Collector:
    def __init__(self):
        self.batches, self.errors = [], []
        self.event = threading.Event()
        self.threads = set()

    def on_codes(self, codes):
        self.threads.add(threading.current_thread().name)
        self.batches.append([c.text for c in codes])
        self.event.set()

    def on_error(self, exc):
        self.errors.append(exc)
        self.event.set()


def test_codes_from_a_replayed_camera_are_reported_once_each(tmp_path, decoder):
    blank = np.full((300, 300, 3), 255, np.uint8)
    frames = [qr_picture("回执甲"), qr_picture("回执甲"), blank, qr_picture("回执乙")]
    for i, frame in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"{i}.png"), frame)
    camera = ReplayCamera(tmp_path, loop=True)
    got = Collector()
    scanner = ContinuousScanner(camera, got.on_codes, decoder=decoder, repeat_after=60.0, idle_interval=0.01)
    started = time.monotonic()
    scanner.start()
    assert time.monotonic() - started < 0.2  # start never blocks the caller (the UI)
    deadline = time.monotonic() + 10
    while scanner.frames < 12 and time.monotonic() < deadline:
        time.sleep(0.02)
    scanner.stop()
    camera.close()
    assert not scanner.running
    assert got.batches == [["回执甲"], ["回执乙"]]  # in view again and again: reported once
    assert got.threads == {"barcode-scan"}


def test_a_code_back_after_repeat_after_is_reported_again(decoder):
    now = [0.0]
    scanner = ContinuousScanner(camera=None, on_codes=lambda codes: None, decoder=decoder,  # type: ignore[arg-type]
                                repeat_after=3.0, clock=lambda: now[0])
    [code] = decoder.decode(qr_picture("x"))
    assert scanner._fresh([code]) == [code]
    now[0] = 2.0
    assert scanner._fresh([code]) == []  # still in view
    now[0] = 4.0
    assert scanner._fresh([code]) == []  # seen at 2.0: still within 3 s
    now[0] = 7.5
    assert scanner._fresh([code]) == [code]


class FlakyCamera:
    def __init__(self, frame):
        self.frame, self.calls = frame, 0

    def read_frame(self):
        self.calls += 1
        if self.calls == 1:
            raise CameraError("unplugged")
        if self.calls == 2:
            raise RuntimeError("driver bug")
        return None if self.calls % 2 else self.frame

    def close(self):
        pass


def test_camera_errors_are_reported_and_scanning_goes_on(decoder):
    got = Collector()
    camera = FlakyCamera(qr_picture("还在"))
    with ContinuousScanner(camera, got.on_codes, decoder=decoder, on_error=got.on_error,
                           error_backoff=0.01, idle_interval=0.01) as scanner:
        deadline = time.monotonic() + 5
        while not got.batches and time.monotonic() < deadline:
            time.sleep(0.01)
    assert not scanner.running
    assert [type(e).__name__ for e in got.errors] == ["CameraError", "RuntimeError"]
    assert got.batches == [["还在"]]


def test_a_failing_callback_does_not_stop_the_scanner(decoder):
    calls = []

    def explode(codes):
        calls.append(codes)
        raise ValueError("screen gone")

    frames = iter([qr_picture("一"), qr_picture("二")] + [None] * 10_000)
    camera = type("Cam", (), {"read_frame": lambda self: next(frames), "close": lambda self: None})()
    with ContinuousScanner(camera, explode, decoder=decoder, idle_interval=0.005):
        deadline = time.monotonic() + 5
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert [[c.text for c in batch] for batch in calls] == [["一"], ["二"]]


def test_a_decoder_that_raises_does_not_end_the_thread(decoder):
    """An untyped error in a pass (here the decoder) is logged; the scanner is alive afterwards."""
    got = Collector()
    calls = {"n": 0}

    class BuggyDecoder:
        passes = decoder.passes

        def decode_detailed(self, frame, passes=None):
            calls["n"] += 1
            if calls["n"] <= 2:
                raise IndexError("decoder bug")
            return decoder.decode_detailed(frame, passes)

    camera = type("Cam", (), {"read_frame": lambda self: qr_picture("活着"), "close": lambda self: None})()
    scanner = ContinuousScanner(camera, got.on_codes, decoder=BuggyDecoder(), error_backoff=0.01)
    scanner.start()
    try:
        assert got.event.wait(5)
        assert scanner.running, "the scan thread died after a failing pass"
        assert scanner.loop.stats.crashes == 2 and scanner.loop.stats.last_crash == "IndexError"
        assert got.batches[0] == ["活着"]
    finally:
        scanner.stop()
    assert not scanner.running


# -- bad input --------------------------------------------------------------------------


def test_bad_files_are_typed_errors(tmp_path, decoder):
    good = cv2.imencode(".png", qr_picture("好"))[1].tobytes()
    jpeg = cv2.imencode(".jpg", qr_picture("好"))[1].tobytes()
    cases = {
        "empty.png": b"",
        "text.jpg": "这不是图片".encode(),
        "truncated.png": good[:60],
        "truncated.jpg": jpeg[:200],
        "pdf.png": b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n",
        # a PNG header claiming 100000 x 100000 pixels: refused before any pixel memory
        "bomb.png": good[:16] + (100000).to_bytes(4, "big") * 2 + good[24:200],
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ImageUnreadable) as caught:
            decoder.decode_file(tmp_path / name)
        assert name not in str(caught.value)
    with pytest.raises(ImageUnreadable):
        decoder.decode_file(tmp_path / "missing.png")
    with pytest.raises(ImageUnreadable):
        decoder.decode_file(tmp_path)
    (tmp_path / "good.png").write_bytes(good)
    assert [c.text for c in decoder.decode_file(tmp_path / "good.png")] == ["好"]


def test_gif_is_read_through_pillow(tmp_path, decoder):
    from PIL import Image

    Image.fromarray(cv2.cvtColor(qr_picture("动图"), cv2.COLOR_BGR2RGB)).save(tmp_path / "a.gif")
    assert [c.text for c in decoder.decode_file(tmp_path / "a.gif")] == ["动图"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_crash(data):
    try:
        picture = read_picture(data)
    except ImageUnreadable:
        return
    assert picture.ndim == 3 and picture.dtype == np.uint8


_PNG = cv2.imencode(".png", np.full((40, 40, 3), 200, np.uint8))[1].tobytes()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(_PNG) - 1), st.integers(0, 255))
def test_corrupted_pictures_never_crash(position, value):
    data = bytearray(_PNG)
    data[position] = value
    try:
        read_picture(bytes(data))
    except ImageUnreadable:
        pass


def test_frames_are_decoded_at_most_max_rate_a_second(decoder):
    """A camera that answers at once is not decoded flat out: the identify screen would burn a core."""
    blank = np.full((120, 160, 3), 255, np.uint8)
    camera = type("Cam", (), {"read_frame": lambda self: blank, "close": lambda self: None})()
    scanner = ContinuousScanner(camera, lambda codes: None, decoder=decoder, max_rate=5.0)
    scanner.start()
    started = time.monotonic()
    time.sleep(1.0)
    frames = scanner.frames
    elapsed = time.monotonic() - started
    assert scanner.running  # alive after many passes
    scanner.stop()
    assert 1 <= frames <= 5.0 * elapsed + 2


def test_each_frame_gets_the_cheap_pass_and_one_costly_pass_in_turn():
    asked = []

    class Recording(BarcodeDecoder):
        def decode_detailed(self, picture, passes=None):
            asked.append(tuple(passes))
            return super().decode_detailed(picture, passes)

    decoder = Recording(passes=("third", "otsu", "adaptive", "upscale"))
    blank = np.full((120, 160, 3), 255, np.uint8)
    camera = type("Cam", (), {"read_frame": lambda self: blank, "close": lambda self: None})()
    scanner = ContinuousScanner(camera, lambda codes: None, decoder=decoder, max_rate=0)
    for _ in range(6):
        scanner._one_frame()
    decoder.close()
    assert all(len(p) == 2 and p[0] == "third" for p in asked)
    assert {p[1] for p in asked[:3]} == {"otsu", "adaptive", "upscale"}  # every costly pass within 3 frames
