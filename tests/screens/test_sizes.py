"""Every screen at every supported window size, audited (marker ``gui``; ``tests.screens.audit``)."""

from __future__ import annotations

import shutil

import pytest

from screens.table import SCREENS
from tests.support.kivy_driver import AppProcess

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]

SUPPORTED = [(1920, 1080), (1080, 1920), (1280, 1024), (1280, 800)]
# 1920×1080 is audited by the walk in test_gui.py (test_walk_every_screen_by_touch): one app start less
AUDITED_HERE = SUPPORTED[1:]
RESIZED = {(1280, 1024): (1280, 800)}  # that run then shrinks its window: the screens are built again


@pytest.mark.timeout(900)  # a walk of every screen, audited: minutes on a loaded machine
@pytest.mark.parametrize("size", AUDITED_HERE, ids=[f"{w}x{h}" for w, h in AUDITED_HERE])
def test_every_screen_passes_the_size_audit(tmp_path, size):
    width, height = size
    with AppProcess("tests.screens.scenarios_sizes:build_app",
                    "tests.screens.scenarios_sizes:audit_every_screen",
                    params={"data_dir": str(tmp_path / "data"), "size": [width, height],
                            "then_resize": RESIZED.get(size)},
                    width=width, height=height) as proc:
        result = proc.wait(timeout=900)  # a walk of every screen; slow on a loaded machine
    assert set(result["screens"]) == set(SCREENS)
    assert result["walk"]["counts"]["sealed"] == 1
    assert not result["problems"], "\n".join(result["problems"])
