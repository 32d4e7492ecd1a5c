"""hardware.images: the one guarded loader refuses bombs, devices and non-pictures before decoding."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from hardware import images
from hardware.errors import ImageUnreadable
from tests.support.hostile_files import png_bomb

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    return png_bomb(tmp_path_factory.mktemp("bomb") / "bomb.png")


def test_a_bomb_is_refused_from_its_header_alone(bomb):
    assert bomb.stat().st_size < 200_000
    with pytest.raises(ImageUnreadable, match="impossible size"):
        images.probe(bomb.read_bytes())
    with pytest.raises(ImageUnreadable, match="impossible size"):
        images.load(bomb)


def test_a_good_picture_loads_with_its_media_type(tmp_path):
    picture = np.full((30, 40, 3), 120, np.uint8)
    for suffix, media_type in ((".png", "image/png"), (".jpg", "image/jpeg"), (".webp", "image/webp")):
        data = cv2.imencode(suffix, picture)[1].tobytes()
        assert images.probe(data).media_type == media_type
        (tmp_path / f"p{suffix}").write_bytes(data)
        assert images.load(tmp_path / f"p{suffix}").shape == (30, 40, 3)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"<html><script>alert(1)</script></html>",
        b"%PDF-1.4\n",
        b"\xff\xd8 not really a jpeg",
    ],
)
def test_what_is_not_a_raster_picture_is_refused(data):
    with pytest.raises(ImageUnreadable):
        images.decode(data)


def test_devices_fifos_and_folders_are_refused_without_reading(tmp_path):
    with pytest.raises(ImageUnreadable, match="not a regular file"):
        images.read_bounded("/dev/zero")
    with pytest.raises(ImageUnreadable, match="folder"):
        images.read_bounded(tmp_path)
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    done = []
    worker = threading.Thread(target=lambda: done.append(pytest.raises(ImageUnreadable, images.load, fifo)))
    worker.start()
    worker.join(5)
    assert done, "opening a FIFO must not block"
    with pytest.raises(ImageUnreadable, match="no such file"):
        images.read_bounded(tmp_path / "missing.png")


def test_the_read_stops_at_the_cap(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * 2048)
    with pytest.raises(ImageUnreadable, match="too large"):
        images.read_bounded(big, max_bytes=1024)
    assert len(images.read_bounded(big, max_bytes=2048)) == 2048


def test_opencv_itself_is_limited_in_a_kiosk_process(tmp_path):
    """Second wall: even a decode that skipped the header check cannot allocate past MAX_PIXELS."""
    over = tmp_path / "over.png"
    png_bomb(over, 8000, 6000)  # 48 MP > 40 MP
    code = (
        "import kiosk.cli, cv2, numpy as np, sys\n"
        f"data = np.fromfile({str(over)!r}, np.uint8)\n"
        "try:\n    out = cv2.imdecode(data, cv2.IMREAD_COLOR)\nexcept cv2.error:\n    out = None\n"
        "sys.exit(0 if out is None else 1)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_IO_MAX_IMAGE_PIXELS"}
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, timeout=60).returncode == 0
