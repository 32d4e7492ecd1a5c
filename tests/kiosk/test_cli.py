"""The `kiosk` command line, run as a real process: the contract scripts rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hardware.camera import SAMPLES_DIR
from offline_queue.identity import DeviceIdentity
from offline_queue.sealing import open_box
from tests.kiosk.conftest import make_id

ROOT = Path(__file__).resolve().parents[2]
ID_NUMBER = make_id("441423", date(1950, 6, 1), 42)


def kiosk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os

    full_env = {k: v for k, v in os.environ.items() if k not in ("KIOSK_DATA_DIR", "DISPLAY")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=full_env,
    )


@pytest.fixture
def enrolled(tmp_path) -> tuple[Path, X25519PrivateKey]:
    """A data dir with a device identity sealed to a hall key this test holds."""
    hall_key = X25519PrivateKey.generate()
    identity = DeviceIdentity(
        device_id="kiosk-c1a55e01",
        county="441423",
        hall_url="http://127.0.0.1:9",
        private_key=Ed25519PrivateKey.generate(),
        hall_seal_public_key=hall_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
        hall_sign_public_key=Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw),
    )
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    identity.save(data_dir)
    return data_dir, hall_key


def paper_file(tmp_path: Path, **changes) -> Path:
    body = {
        "service": "GD-SAMPLE-001",
        "applicant": {
            "name": "黄秀梅",
            "id_number": ID_NUMBER,
            "phone": "13800138000",
            "address": "广东省梅州市丰顺县示范镇样板村一巷2号",
        },
        "fields": {"grade": "360", "bank": "psbc"},
        "attachments": [{"material": "M1", "path": "household_register.jpg"}],
    }
    # pages are files in the JSON file's folder, named relative to it
    (tmp_path / "household_register.jpg").write_bytes((SAMPLES_DIR / "household_register.jpg").read_bytes())
    body.update(changes)
    path = tmp_path / "paper.json"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return path


def test_catalog_json_lists_every_item_with_its_form(tmp_path):
    out = kiosk("catalog", "--json", "--data-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    items = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(items) >= 12
    assert all(item["code"] and item["fields"] and item["materials"] for item in items)


def test_submit_enqueues_exactly_as_the_confirm_button(tmp_path, enrolled):
    data_dir, hall_key = enrolled
    out = kiosk("submit", str(paper_file(tmp_path)), "--data-dir", str(data_dir), "--json")
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    assert printed["state"] == "sealed" and printed["provisional_number"].startswith("KC1A5-")

    status = kiosk("queue", "status", "--json", "--data-dir", str(data_dir))
    lines = [json.loads(line) for line in status.stdout.splitlines()]
    assert {k: v for k, v in lines[0]["counts"].items() if v} == {"sealed": 1}
    assert lines[1]["id"] == printed["id"]

    # The hall, holding its private key, can open the sealed document; the disk holds no ID number.
    from offline_queue.outbox import OfflineQueue

    queue = OfflineQueue(data_dir / "outbox", 10**9)
    document = json.loads(open_box(queue.sealed_document(printed["id"]), hall_key, printed["id"].encode()))
    queue.close()
    assert document["applicant"]["id_number"] == ID_NUMBER
    assert document["applicant"]["identity_source"] == "paper"
    assert document["fields"]["phone"] == "13800138000"
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert ID_NUMBER.encode() not in path.read_bytes(), path


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"service": "NO-SUCH-ITEM"}, "没有找到这项业务"),
        ({"fields": {"grade": "999", "bank": "psbc"}}, "还有内容没填好"),
        ({"applicant": {"name": "黄秀梅", "id_number": "441423195006010420"}}, "身份证号码不对"),
        ({"attachments": []}, "还有内容没填好"),
        ({"attachments": [{"material": "M1", "path": "/no/such/page.jpg"}]}, "申请文件有问题"),
    ],
)
def test_submit_refuses_bad_files_clearly(tmp_path, enrolled, changes, needle):
    data_dir, _ = enrolled
    out = kiosk("submit", str(paper_file(tmp_path, **changes)), "--data-dir", str(data_dir))
    assert out.returncode == 2
    assert needle in out.stderr
    assert "Traceback" not in out.stderr and "441423195006010420" not in out.stderr
    assert kiosk("queue", "status", "--json", "--data-dir", str(data_dir)).stdout.startswith(
        '{"budget_bytes"'
    )


def test_submit_a_file_that_is_not_json(tmp_path, enrolled):
    data_dir, _ = enrolled
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    out = kiosk("submit", str(bad), "--data-dir", str(data_dir))
    assert out.returncode == 2 and "申请文件有问题" in out.stderr and "line 1" in out.stderr


def test_submit_before_enrolment_says_so(tmp_path):
    out = kiosk("submit", str(paper_file(tmp_path)), "--data-dir", str(tmp_path / "fresh"))
    assert out.returncode == 2
    assert "登记" in out.stderr and "Traceback" not in out.stderr


def test_a_corrupt_config_file_names_the_problem(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text("[devices.camera]\ndriver = 'polaroid'\n", encoding="utf-8")
    out = kiosk("queue", "status", "--config", str(config), "--data-dir", str(tmp_path))
    assert out.returncode == 2
    assert "devices.camera.driver" in out.stderr and "Traceback" not in out.stderr


def test_run_without_a_display_explains_instead_of_crashing(tmp_path):
    out = kiosk("run", "--data-dir", str(tmp_path))
    assert out.returncode == 2
    assert "no display" in out.stderr and "--screenshot" in out.stderr
    assert "Traceback" not in out.stderr


def test_sync_before_enrolment_says_so(tmp_path):
    out = kiosk("sync", "--once", "--data-dir", str(tmp_path))
    assert out.returncode == 2 and "登记" in out.stderr and "Traceback" not in out.stderr


def test_enroll_submit_sync_against_a_real_hall(tmp_path):
    from tests.support.hall_process import HallProcess

    data_dir = str(tmp_path / "kiosk")
    with HallProcess(tmp_path) as hall:
        out = kiosk("enroll", "--hall", hall.url, "--code", hall.enrollment_code(), "--data-dir", data_dir)
        assert out.returncode == 0, out.stderr
        assert kiosk("submit", str(paper_file(tmp_path)), "--data-dir", data_dir).returncode == 0
        synced = kiosk("sync", "--once", "--json", "--data-dir", data_dir)
        assert synced.returncode == 0, synced.stderr
        assert json.loads(synced.stdout)["sent"] == 1
        (application,) = hall.applications()
        assert [a["verified"] for a in application["attachments"]] == [True]
        hall.set_status(application["id"], "correction_needed", reason="户口簿页面不清楚")
        assert json.loads(kiosk("sync", "--once", "--json", "--data-dir", data_dir).stdout)["sent"] == 0
        status = kiosk("queue", "status", "--json", "--data-dir", data_dir).stdout.splitlines()
        entry = json.loads(status[1])
        # the clerk's reason is sealed to the villager at rest (issue 9): the CLI cannot open it
        assert entry["state"] == "correction_needed" and entry["reason"] == ""
        assert entry["official_number"] == application["official_number"]

        hall.stop()  # a hall that is down: a plain transient report, nothing lost
        assert kiosk("submit", str(paper_file(tmp_path)), "--data-dir", data_dir).returncode == 0
        down = kiosk("sync", "--once", "--json", "--data-dir", data_dir)
        assert down.returncode == 3 and json.loads(down.stdout)["retried"] == 1
        assert "Traceback" not in down.stderr


def test_demo_writes_a_screenshot_of_the_home_screen(tmp_path):
    shot = tmp_path / "home.png"
    out = kiosk("demo", "--data-dir", str(tmp_path / "demo"), "--screenshot", str(shot), "--exit-after", "10")
    assert out.returncode == 0, out.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    # a second run reuses the hall and the enrolment
    again = kiosk(
        "demo", "--data-dir", str(tmp_path / "demo"), "--screenshot", str(shot), "--exit-after", "10"
    )
    assert again.returncode == 0, again.stderr[-2000:]


def test_demo_without_a_display_says_how_to_run_it(tmp_path):
    out = kiosk("demo", "--data-dir", str(tmp_path / "demo"))
    assert out.returncode == 2
    assert "no display" in out.stderr and "--screenshot" in out.stderr and "Traceback" not in out.stderr
