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
# 1920×1080 is audited by the walk in test_gui.py (test_walk_every_screen_by_touch); the other three
# here in ONE app start: it starts upright, then its window is resized while it runs (the screens are
# built again each time, as on a display rotated or changed) and the walk and the audit run again.
AUDITED_HERE = SUPPORTED[1:]


@pytest.mark.timeout(1500)  # three walks of every screen, audited: minutes on a loaded machine
def test_every_screen_passes_the_size_audit(tmp_path):
    width, height = AUDITED_HERE[0]
    with AppProcess("tests.screens.scenarios_sizes:build_app",
                    "tests.screens.scenarios_sizes:audit_every_screen",
                    # the voice on: the top bar's mute and volume buttons are audited with the rest
                    params={"data_dir": str(tmp_path / "data"), "size": [width, height], "voice": True,
                            "sizes": [list(size) for size in AUDITED_HERE]},
                    width=max(w for w, _ in AUDITED_HERE), height=max(h for _, h in AUDITED_HERE)) as proc:
        result = proc.wait(timeout=1400)  # three walks of every screen; slow on a loaded machine
    assert list(result) == [f"{w}x{h}" for w, h in AUDITED_HERE]  # every size was walked
    problems = []
    for n, (size, audited) in enumerate(result.items(), start=1):
        assert set(audited["screens"]) == set(SCREENS), size
        assert audited["walk"]["counts"]["sealed"] == n, size  # each walk sealed one application more
        problems += [f"{size}: {problem}" for problem in audited["problems"]]
    assert not problems, "\n".join(problems)
