"""Releases on the kiosk: the signed manifest, a resumable download through a link that cuts
answers (tests/chaos/proxy.py in front of a real hall), and the A/B slots — switch on
start, keep when healthy, roll back after too many starts or too long. The whole path with
real processes and this project's own wheel is in tests/fleet/test_fleet.py."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.agent.documents import sign_document
from kiosk.updates.download import DownloadCorrupt, download_release, file_sha256
from kiosk.updates.manifest import RELEASE_CONTEXT, BadManifest, verify_manifest
from kiosk.updates.slots import SlotState, at_start, mark_healthy, releases_dir, site_dir
from offline_queue.errors import HallError
from offline_queue.identity import DeviceIdentity, enroll
from offline_queue.transport import HallClient
from tests.chaos.proxy import FaultProxy, Faults
from tests.support.hall_process import HallProcess
from tests.support.releases import broken_wheel


def _manifest(version="1.0", name="village_kiosk-1.0-py3-none-any.whl") -> dict:
    return {"version": version, "created_at": "2026-12-01T00:00:00Z",
            "files": [{"name": name, "sha256": "a" * 64, "size": 10}]}


def test_a_manifest_must_be_the_halls_and_name_plain_wheels():
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    good = _manifest()
    signed = {"manifest": good, "signature": sign_document(key, RELEASE_CONTEXT, good)}
    assert verify_manifest(signed, key.public_key()).version == "1.0"
    cases = {
        "bad_signature": {"manifest": good, "signature": sign_document(other, RELEASE_CONTEXT, good)},
        "bad_files": {"manifest": _manifest(name="../../bin/python.whl"), "signature": ""},
        "bad_version": {"manifest": _manifest(version="1.0/../x"), "signature": ""},
        "malformed": {"manifest": {**good, "run": "rm -rf /"}, "signature": ""},
    }
    for reason, delivery in cases.items():
        with pytest.raises(BadManifest, match=reason):
            verify_manifest(delivery, key.public_key())
    command_context = {"manifest": good, "signature": sign_document(key, "hall-command-v1", good)}
    with pytest.raises(BadManifest, match="bad_signature"):
        verify_manifest(command_context, key.public_key())


def _fake_release(data_dir, version: str) -> None:
    site_dir(data_dir, version).mkdir(parents=True)
    state = SlotState.load(data_dir)
    state.next = version
    state.save(data_dir)


def test_slots_switch_on_start_keep_a_healthy_release_and_roll_back_a_silent_one(tmp_path):
    now = time.time()
    assert at_start(tmp_path, now, 600, 3).version == ""  # the factory install
    _fake_release(tmp_path, "1.0")
    first = at_start(tmp_path, now, 600, 3)
    assert (first.version, first.event) == ("1.0", "switched")
    link = releases_dir(tmp_path) / "current"
    assert link.is_symlink() and link.resolve().name == "1.0"
    assert mark_healthy(tmp_path, "1.0")
    assert at_start(tmp_path, now, 600, 3).event == "kept"

    _fake_release(tmp_path, "2.0")  # crashes at every start: never healthy
    assert at_start(tmp_path, now, 600, 3).event == "switched"
    assert [at_start(tmp_path, now, 600, 3).event for _ in range(2)] == ["", ""]  # starts 2 and 3
    back = at_start(tmp_path, now, 600, 3)
    assert (back.version, back.event, back.detail) == ("1.0", "rolled_back", "2.0")
    assert link.resolve().name == "1.0" and SlotState.load(tmp_path).bad == ["2.0"]

    _fake_release(tmp_path, "3.0")  # starts, but never gets a good heartbeat in time
    assert at_start(tmp_path, now, 600, 3).event == "switched"
    late = at_start(tmp_path, now + 601, 600, 3)
    assert (late.version, late.event) == ("1.0", "rolled_back")
    assert SlotState.load(tmp_path).bad == ["2.0", "3.0"]


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    with HallProcess(tmp_path_factory.mktemp("updates-hall")) as process:
        yield process


def test_a_release_download_resumes_after_cut_answers_and_checks_the_hash(hall, tmp_path):
    bundle = tmp_path / "bundle"
    wheel = broken_wheel(bundle, "0.9.0", padding=700_000)
    with FaultProxy(hall.port, Faults(p_truncate=0.5, only_paths=("/api/v1/releases/",)), seed=3) as proxy:
        data_dir = tmp_path / f"kiosk-{uuid.uuid4().hex[:6]}"
        enroll(proxy.url, hall.enrollment_code(), data_dir, name="far village")
        identity = DeviceIdentity.load(data_dir)
        hall.cli("release", "publish", str(bundle), "--version", "0.9.0", "--pilot", identity.device_id)
        client = HallClient(identity)
        offer = client.heartbeat({})["release"]
        manifest = verify_manifest(offer, client._hall_key)
        folder, fetched, cuts = tmp_path / "downloads", [], 0
        for _ in range(100):
            try:
                (path,) = download_release(manifest, client.release_range, folder, chunk_bytes=64 * 1024,
                                           on_chunk=fetched.append)
                break
            except HallError:
                cuts += 1
        else:
            pytest.fail("the download never finished")
    assert cuts >= 3 and proxy.stats.truncated >= 3
    assert sum(fetched) == wheel.stat().st_size  # each byte fetched once: resumed, never restarted
    assert file_sha256(path) == file_sha256(wheel)

    # A whole file that is not what the hall signed is thrown away, never installed.
    path.unlink()
    (folder / f"{path.name}.part").write_bytes(b"\0" * wheel.stat().st_size)
    with pytest.raises(DownloadCorrupt):
        download_release(manifest, client.release_range, folder)
    assert not (folder / f"{path.name}.part").exists() and not path.exists()
    rows = [json.loads(line) for line in hall.cli("release", "list", "--json").stdout.splitlines()]
    assert rows[0]["version"] == "0.9.0" and rows[0]["pilot"] == [identity.device_id]
