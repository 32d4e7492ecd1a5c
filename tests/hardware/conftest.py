"""Shared fixtures: a simulated SAM reader on a pty, and the real driver on its port."""

import pytest

from hardware.sam_reader import SamSerialReader
from hardware.sam_simulator import SamSimulator
from hardware.sample_cards import ELDERLY_VILLAGER


@pytest.fixture
def sim():
    with SamSimulator(card=ELDERLY_VILLAGER) as simulator:
        yield simulator


@pytest.fixture
def reader(sim):
    with SamSerialReader(sim.port, timeout=0.3, poll_interval=0.05) as driver:
        yield driver
