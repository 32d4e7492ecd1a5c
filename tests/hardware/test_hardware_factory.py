"""Building devices from settings-like objects (duck typed)."""

import os
from types import SimpleNamespace

import pytest

from hardware.camera import OpenCVCamera, ReplayCamera
from hardware.errors import CameraUnavailable, ReaderNotFound
from hardware.factory import SimulatedIdReader, build_camera, build_id_reader
from hardware.interfaces import Camera, IdCardReader
from hardware.sam_reader import SamSerialReader
from hardware.sample_cards import ELDERLY_VILLAGER


def test_simulated_reader_reads_the_sample_card_and_closes_both():
    reader = build_id_reader(SimpleNamespace(driver="sam_simulator", port="", baud=115200))
    try:
        assert isinstance(reader, IdCardReader) and isinstance(reader, SimulatedIdReader)
        assert reader.read_card(timeout=2) == ELDERLY_VILLAGER
        assert reader.simulator.auto_replace
        port = reader.simulator.port
    finally:
        reader.close()
    assert not os.path.exists(port)
    with pytest.raises(ReaderNotFound):
        reader.read_card(timeout=0.1)


def test_serial_reader_is_lazy(tmp_path):
    reader = build_id_reader(SimpleNamespace(driver="sam_serial", port=str(tmp_path / "ttyUSB0"), baud=9600))
    assert isinstance(reader, SamSerialReader) and reader.baud == 9600
    with pytest.raises(ReaderNotFound):
        reader.read_card(timeout=0.1)
    reader.close()


def test_cameras():
    replay = build_camera(SimpleNamespace(driver="replay", source="", width=1920, height=1080))
    assert isinstance(replay, ReplayCamera) and isinstance(replay, Camera)
    assert replay.read_frame() is not None
    real = build_camera(SimpleNamespace(driver="opencv", source="2", width=1920, height=1080))
    assert isinstance(real, OpenCVCamera) and real.source == 2 and real.width == 1920
    real.close()


def test_replay_of_an_empty_folder_raises(tmp_path):
    with pytest.raises(CameraUnavailable):
        build_camera(SimpleNamespace(driver="replay", source=str(tmp_path), width=1, height=1))


def test_unknown_drivers():
    with pytest.raises(ValueError, match="pcsc"):
        build_id_reader(SimpleNamespace(driver="pcsc", port="", baud=1))
    with pytest.raises(ValueError, match="webcam"):
        build_camera(SimpleNamespace(driver="webcam", source="", width=1, height=1))
