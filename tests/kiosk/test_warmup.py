"""The cold start (issue 10): what the kiosk leaves until after its first frame; jobs held till then."""

import logging
import subprocess
import sys
import threading
from pathlib import Path

from kiosk.jobs import OneShotJobs
from kiosk.warmup import DEFERRED_IMPORTS, import_all, warm_up

ROOT = Path(__file__).resolve().parents[2]

# What the app imports and builds before its first frame (kiosk.app's imports, the GUI tests' service
# with its replay camera), then the warm-up; the modules loaded at each point, as one JSON line.
_START_THEN_WARM_UP = """
import json, sys, tempfile
from pathlib import Path
import kiosk.i18n, kiosk.input.engines, kiosk.service, kiosk.settings, kiosk.voice.guide, kiosk.watchdog
from tests.screens.scenarios import build_service
service = build_service({"data_dir": str(Path(tempfile.mkdtemp()) / "data")})
heavy = ("cv2", "hardware.docscan.live", "hardware.barcode", "hardware.barcode_scanner", "requests",
         "jieba", "pypinyin", "babel")
before = [m for m in heavy if m in sys.modules]
service.warm_up().result(60)
after = [m for m in heavy if m in sys.modules]
service.close()
print(json.dumps({"before": before, "after": after}))
"""


def test_the_start_imports_no_opencv_and_the_warm_up_does():
    import json

    done = subprocess.run([sys.executable, "-c", _START_THEN_WARM_UP], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded["before"] == []
    assert {"cv2", "hardware.docscan.live", "hardware.barcode_scanner"} <= set(loaded["after"])
    # those wait for their first use; pypinyin is never imported: the catalog search the warm-up
    # builds reads its data files (kiosk.input.readings)
    assert not {"requests", "jieba", "pypinyin"} & set(loaded["after"])


def test_deferred_imports_name_modules_that_exist():
    assert DEFERRED_IMPORTS[0] == "cv2" and len(set(DEFERRED_IMPORTS)) == len(DEFERRED_IMPORTS)
    assert import_all(DEFERRED_IMPORTS) == []


def test_a_failed_import_is_named_and_the_others_still_load(caplog):
    caplog.set_level(logging.WARNING)
    assert import_all(["kiosk.no_such_module", "json"]) == ["kiosk.no_such_module"]
    assert "kiosk.no_such_module" in caplog.text and "ModuleNotFoundError" in caplog.text


def test_held_jobs_wait_for_release_and_the_pool_lives_on():
    jobs = OneShotJobs(workers=1)
    ran: list[str] = []
    try:
        jobs.hold()
        first = jobs.submit("held", lambda: ran.append("held"))
        assert not first.done() and ran == [] and jobs.held
        imports = warm_up(jobs, ["json"])  # queued behind the held job, like the app's warm-up
        jobs.release()
        first.result(5)
        imports.result(5)
        assert ran == ["held"] and not jobs.held
        alive = [t for t in threading.enumerate() if t.name.startswith("kiosk-job")]
        assert alive and all(t.is_alive() for t in alive)  # the worker serves the next job
        jobs.submit("after", lambda: ran.append("after")).result(5)
        assert ran == ["held", "after"] and jobs.failures == 0
    finally:
        jobs.close(wait=True)


def test_closing_while_held_drops_the_jobs_without_hanging():
    jobs = OneShotJobs(workers=1)
    ran: list[int] = []
    jobs.hold()
    waiting = jobs.submit("held", lambda: ran.append(1))
    jobs.close(wait=True)  # returns: the held job ends at once
    assert waiting.done() and ran == []


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_free_memory_is_given_back_once_the_warm_up_jobs_are_done():
    from kiosk.warmup import give_back_after, give_back_free_memory

    jobs = OneShotJobs(workers=2)
    gate = threading.Event()
    order: list[str] = []
    try:
        slow = jobs.submit("slow", lambda: (gate.wait(10), order.append("slow")))
        failing = jobs.submit("failing", lambda: 1 / 0)  # a failed job does not keep it waiting
        given = give_back_after(jobs, (slow, failing))
        assert not given.done()
        gate.set()
        given.result(10)
        assert order == ["slow"] and slow.done() and jobs.failures == 1
        alive = [t for t in threading.enumerate() if t.name.startswith("kiosk-job")]
        assert alive and all(t.is_alive() for t in alive)
    finally:
        jobs.close(wait=True)
    # glibc (this machine): 200 MB of small blocks freed out of order come back to the system
    blocks = [bytearray(100_000) for _ in range(2000)]
    del blocks[::2]
    before = _rss_mb()
    del blocks
    after_free = _rss_mb()
    assert give_back_free_memory() is True or after_free < before - 50
    assert _rss_mb() <= after_free
