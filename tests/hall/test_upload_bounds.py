"""Finding 5 of issue 9: uploads are bounded per device and by free disk, and abandoned
partial uploads are cleaned up (one device stored 2.6 GB in 29 s, and partial uploads
stayed for ever). Also the low item ``Upload-Offset: ²`` (a 500 before)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.hall.kiosk_client import SignedClient
from tests.support.hall_process import HallProcess


def enrolled(hall: HallProcess) -> SignedClient:
    return SignedClient.enrolled(hall.url, hall.enrollment_code())


@pytest.fixture(scope="module")
def quota_hall(tmp_path_factory):
    args = ["--device-upload-count", "3", "--device-upload-mb", "1"]
    with HallProcess(tmp_path_factory.mktemp("hall-quota"), serve_args=args) as process:
        yield process


def test_per_device_quota_on_unused_uploads(quota_hall):
    kiosk, other = enrolled(quota_hall), enrolled(quota_hall)
    too_big = kiosk.create_upload(os.urandom(1024 * 1024 + 1))
    assert too_big.status_code == 429
    assert too_big.json()["error"] == "upload_quota" and int(too_big.headers["Retry-After"]) > 0
    blobs = [os.urandom(1000) for _ in range(3)]
    for blob in blobs:
        assert kiosk.create_upload(blob).status_code == 201
    assert kiosk.create_upload(blobs[0]).status_code == 200  # asking again for the same is fine
    fourth = kiosk.create_upload(os.urandom(1000))
    assert fourth.status_code == 429 and "Retry-After" in fourth.headers
    # another kiosk has its own quota
    assert other.create_upload(os.urandom(1000)).status_code == 201


def test_quota_frees_when_an_application_uses_the_uploads(quota_hall):
    kiosk = enrolled(quota_hall)
    for _ in range(3):
        kiosk.submit([(os.urandom(500), "M1", "image/png")])  # each upload then belongs to an application
    assert kiosk.create_upload(os.urandom(1000)).status_code == 201


def test_unicode_digits_in_upload_offset_are_422_not_500(quota_hall):
    kiosk = enrolled(quota_hall)
    upload_id = kiosk.create_upload(b"abc").json()["upload_id"]
    for value in ("²", "٣", "１", "+1", "-0", "1 1", "1e3", "0x10", "9" * 40):
        answer = kiosk.request("PATCH", f"/api/v1/uploads/{upload_id}", body=b"abc", headers={
            "Upload-Offset": value.encode("utf-8"), "Content-Type": "application/offset+octet-stream"})
        assert answer.status_code == 422, (value, answer.status_code, answer.text)


def test_disk_reserve_refuses_with_507_and_retry_after(tmp_path):
    reserve_mb = str(10 ** 9)  # a petabyte: more than any disk has free
    with HallProcess(tmp_path, serve_args=["--disk-reserve-mb", reserve_mb]) as hall:
        answer = enrolled(hall).create_upload(os.urandom(1000))
    assert answer.status_code == 507
    assert answer.json()["error"] == "insufficient_storage"
    assert int(answer.headers["Retry-After"]) > 0


def test_cleanup_command_deletes_abandoned_partial_uploads(tmp_path):
    with HallProcess(tmp_path) as hall:
        kiosk = enrolled(hall)
        kiosk.upload(b"finished" * 100)
        partial_id = kiosk.create_upload(os.urandom(5000)).json()["upload_id"]
        assert kiosk.patch(partial_id, 0, b"x" * 1000).status_code == 200
        partial_file = Path(hall.data_dir) / "uploads" / partial_id
        assert partial_file.exists()
        stray = Path(hall.data_dir) / "uploads" / "up-left-by-a-crash"
        stray.write_bytes(b"junk")
        os.utime(stray, (time.time() - 3 * 3600, time.time() - 3 * 3600))

        kept = hall.cli("cleanup-uploads").stdout  # the default age (48 h): nothing is old enough
        assert "deleted 0 abandoned uploads" in kept
        out = hall.cli("cleanup-uploads", "--max-age-hours", "1").stdout
        assert "deleted 0 abandoned uploads and 1 stray files" in out
        out = hall.cli("cleanup-uploads", "--max-age-hours", "0").stdout
        assert "deleted 1 abandoned uploads" in out
        assert not partial_file.exists() and not stray.exists()
        gone = kiosk.request("GET", f"/api/v1/uploads/{partial_id}")
        assert gone.status_code == 404
        assert kiosk.create_upload(b"finished" * 100).json().get("complete") is True


def test_the_server_cleans_up_periodically_and_keeps_doing_so(tmp_path):
    args = ["--upload-max-age-hours", "0.0003", "--cleanup-interval", "0.5"]  # ~1 s old is abandoned
    with HallProcess(tmp_path, serve_args=args) as hall:
        kiosk = enrolled(hall)
        for _ in range(2):  # twice: the cleanup loop is still alive after a pass that deleted
            upload_id = kiosk.create_upload(os.urandom(3000)).json()["upload_id"]
            assert kiosk.patch(upload_id, 0, b"y" * 1000).status_code == 200
            deadline = time.monotonic() + 15
            while kiosk.request("GET", f"/api/v1/uploads/{upload_id}").status_code != 404:
                assert time.monotonic() < deadline, "the abandoned upload was not cleaned up"
                time.sleep(0.3)
            assert not (Path(hall.data_dir) / "uploads" / upload_id).exists()
        assert "cleanup: 1 abandoned uploads" in hall.log_tail(200)
