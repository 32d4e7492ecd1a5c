"""Cameras: replayed files (images, a video) and a real-camera driver fed a video file."""

import logging
import time

import cv2
import numpy as np
import pytest

from hardware.camera import SAMPLES_DIR, OpenCVCamera, ReplayCamera, encode_jpeg
from hardware.errors import CameraError, CameraUnavailable
from hardware.interfaces import Camera


def _image(value: int, size=(60, 80)) -> np.ndarray:
    frame = np.zeros((*size, 3), np.uint8)
    frame[:, :] = (value, 255 - value, 128)
    return frame


@pytest.fixture
def image_folder(tmp_path):
    for i, value in enumerate((10, 120, 240)):
        cv2.imwrite(str(tmp_path / f"page_{i}.png"), _image(value))
    return tmp_path


def _write_video(path, frames: int = 6, size=(64, 48)) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, size)
    assert writer.isOpened()
    for i in range(frames):
        frame = np.full((size[1], size[0], 3), i * 40, np.uint8)
        writer.write(frame)
    writer.release()


def test_replays_a_folder_in_order_and_loops(image_folder):
    camera = ReplayCamera(image_folder)
    assert isinstance(camera, Camera)
    blues = [int(camera.read_frame()[0, 0, 0]) for _ in range(5)]
    assert blues == [10, 120, 240, 10, 120]
    frame = camera.read_frame()
    assert frame.shape == (60, 80, 3) and frame.dtype == np.uint8
    camera.close()


def test_without_loop_the_replay_ends(image_folder):
    camera = ReplayCamera(image_folder, loop=False)
    assert [camera.read_frame() is not None for _ in range(4)] == [True, True, True, False]


def test_glob_and_list_sources(image_folder):
    assert ReplayCamera(str(image_folder / "page_[12].png")).frame_count == 2
    camera = ReplayCamera([image_folder / "page_2.png", str(image_folder / "page_0.png")])
    assert [int(camera.read_frame()[0, 0, 0]) for _ in range(2)] == [240, 10]


def test_unreadable_files_are_skipped_without_naming_them(image_folder, caplog):
    (image_folder / "page_1_chen_guiying.jpg").write_bytes(b"not a jpeg at all")
    caplog.set_level(logging.WARNING)
    camera = ReplayCamera(image_folder)
    assert camera.frame_count == 3
    assert "skipping unreadable file" in caplog.text
    assert "chen" not in caplog.text and "page_" not in caplog.text


def test_a_file_that_breaks_later_is_dropped(image_folder):
    camera = ReplayCamera(image_folder)
    (image_folder / "page_0.png").write_bytes(b"broken")
    assert int(camera.read_frame()[0, 0, 0]) == 120
    assert camera.frame_count == 2


@pytest.mark.parametrize("make", ["empty_folder", "only_broken", "missing", "empty_glob", "empty_list"])
def test_nothing_readable_raises_camera_unavailable(tmp_path, make):
    source = {
        "empty_folder": tmp_path,
        "only_broken": tmp_path,
        "missing": tmp_path / "nope",
        "empty_glob": str(tmp_path / "*.jpg"),
        "empty_list": [],
    }[make]
    if make == "only_broken":
        (tmp_path / "a.jpg").write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(CameraUnavailable) as info:
        ReplayCamera(source)
    assert info.value.message_key == "hardware.camera_unavailable"
    assert isinstance(info.value, CameraError)


def test_replays_a_video_and_loops(tmp_path):
    path = tmp_path / "desk.avi"
    _write_video(path, frames=4)
    camera = ReplayCamera(path)
    levels = [int(camera.read_frame().mean()) for _ in range(6)]
    assert all(abs(a - b) <= 3 for a, b in zip(levels, [0, 40, 80, 120, 0, 40], strict=True))
    camera.close()
    once = ReplayCamera(path, loop=False)
    assert [once.read_frame() is not None for _ in range(5)] == [True] * 4 + [False]


def test_a_broken_video_raises(tmp_path):
    path = tmp_path / "broken.avi"
    path.write_bytes(b"RIFF....AVI nothing")
    with pytest.raises(CameraUnavailable):
        ReplayCamera(path)


def test_fps_paces_the_frames(image_folder):
    camera = ReplayCamera(image_folder, fps=20)
    started = time.monotonic()
    for _ in range(5):
        camera.read_frame()
    assert 0.18 <= time.monotonic() - started < 1.0


def test_the_bundled_samples():
    paths = sorted(SAMPLES_DIR.glob("*.jpg"))
    assert len(paths) >= 1
    assert all(p.stat().st_size < 150_000 for p in paths)
    camera = ReplayCamera(SAMPLES_DIR)
    assert camera.frame_count == len(paths)
    frame = camera.read_frame()
    assert frame.shape[2] == 3 and min(frame.shape[:2]) >= 720


def test_opencv_camera_reads_and_reopens_after_failures(tmp_path):
    path = tmp_path / "cam.avi"
    _write_video(path, frames=3)
    camera = OpenCVCamera(str(path), 64, 48, max_failures=2, reopen_interval=0)
    assert isinstance(camera, Camera)
    got = [camera.read_frame() is not None for _ in range(8)]
    # three frames, two failed reads, reopened: the frames come again
    assert got == [True, True, True, False, False, True, True, True]
    assert camera.opens == 2
    camera.close()


def test_opencv_camera_that_cannot_open(tmp_path):
    camera = OpenCVCamera(str(tmp_path / "video9"), reopen_interval=10)
    with pytest.raises(CameraUnavailable):
        camera.read_frame()
    assert camera.read_frame() is None  # waits before trying again


def test_encode_jpeg_scales_down_and_keeps_aspect():
    frame = np.random.default_rng(1).integers(0, 255, (1200, 3200, 3), dtype=np.uint8)
    data, width, height = encode_jpeg(frame, quality=70, max_side=1600)
    assert (width, height) == (1600, 600)
    assert data[:2] == b"\xff\xd8"
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (600, 1600, 3)
    small, w, h = encode_jpeg(_image(5))
    assert (w, h) == (80, 60) and small[:2] == b"\xff\xd8"


def test_encode_jpeg_refuses_an_empty_frame():
    with pytest.raises(CameraError):
        encode_jpeg(np.zeros((0, 0, 3), np.uint8))


def test_a_replayed_picture_is_decoded_once_and_served_as_a_copy(image_folder, monkeypatch):
    import hardware.camera as camera_module

    camera = ReplayCamera(image_folder)
    decoded = []
    real = camera_module.load_or_none
    monkeypatch.setattr(camera_module, "load_or_none", lambda path: decoded.append(path) or real(path))
    first = camera.read_frame()
    first[:] = 0  # a caller drawing on its frame does not change the next round's
    for _ in range(5):
        camera.read_frame()
    assert len(decoded) == 3  # three files, each decoded once in six reads
    assert int(camera.read_frame()[0, 0, 0]) == 10  # page_0 again: untouched by the caller's drawing
    assert int(camera.read_frame()[0, 0, 0]) == 120
    assert int(camera.read_frame()[0, 0, 0]) == 240
    cv2.imwrite(str(image_folder / "page_0.png"), _image(77, size=(61, 80)))  # changed on disk
    assert int(camera.read_frame()[0, 0, 0]) == 77
