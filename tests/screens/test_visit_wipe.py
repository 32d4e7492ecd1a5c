"""Nothing of a villager outlives the visit: every path in, then the whole app searched (marker ``gui``).

The scenario (``tests.screens.scenarios_privacy``) walks the real app through the ID card,
a typed ID number, a receipt QR, a social security card and a grid worker applying on a
villager's behalf, ends each by finish, cancel or idle timeout, and searches the object
graph and the widget tree; these tests then search the data directory. The two PC/SC
paths are a test of their own: they need the real pcscd with vpcd.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.screens.scenarios_privacy import ENCODINGS, PATHS, PCSC_PATHS, secrets
from tests.support.kivy_driver import run_scenario
from tests.support.pcscd import VPCD_READER

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]


def walk_and_search(tmp_path: Path, paths: list[str], **params: str) -> None:
    data_dir = tmp_path / "data"
    result = run_scenario("tests.screens.scenarios_privacy:build_app",
                          "tests.screens.scenarios_privacy:every_path_then_search",
                          params={"data_dir": str(data_dir), "tmp": str(tmp_path), "paths": paths, **params},
                          timeout=400)
    assert result["paths"] == paths
    assert result["left"] == {}
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".log") for p in files), "the kiosk wrote no log to check"
    for path in files:
        blob = path.read_bytes()
        for label, secret in secrets().items():
            for encoding in ENCODINGS:
                assert secret.encode(encoding) not in blob, f"{path.name} holds {label} ({encoding})"


def test_card_typed_number_and_receipt_qr_leave_nothing_of_the_villager(tmp_path):
    walk_and_search(tmp_path, [name for name in PATHS if name not in PCSC_PATHS])


@pytest.mark.usefixtures("pcscd")  # the real pcscd with vpcd; skips only when they are not installed
def test_social_security_card_and_grid_worker_leave_nothing_of_the_villager(tmp_path):
    walk_and_search(tmp_path, list(PCSC_PATHS), pcsc_reader=VPCD_READER)
