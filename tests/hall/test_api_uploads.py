"""Resumable uploads: chunks, offsets, HEAD resume, hash check."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def test_upload_in_chunks(hall, kiosk):
    blob = os.urandom(100_000)
    created = kiosk.create_upload(blob)
    assert created.status_code == 201
    assert created.json()["offset"] == 0
    upload_id = created.json()["upload_id"]
    offset = 0
    for start in range(0, len(blob), 30_000):
        answer = kiosk.patch(upload_id, offset, blob[start:start + 30_000])
        assert answer.status_code == 200, answer.text
        offset = answer.json()["offset"]
        assert answer.json()["complete"] is (offset == len(blob))
    info = kiosk.request("GET", f"/api/v1/uploads/{upload_id}").json()
    assert info == {"upload_id": upload_id, "offset": len(blob), "size": len(blob), "complete": True}
    digest = hashlib.sha256(blob).hexdigest()
    assert (Path(hall.data_dir) / "attachments" / digest).read_bytes() == blob
    assert not (Path(hall.data_dir) / "uploads" / upload_id).exists()
    again = kiosk.create_upload(blob)
    assert again.status_code == 200
    assert again.json() == {"upload_id": upload_id, "offset": len(blob), "complete": True}


def test_offset_mismatch_and_resume_via_head(kiosk):
    blob = os.urandom(50_000)
    upload_id = kiosk.create_upload(blob).json()["upload_id"]
    assert kiosk.patch(upload_id, 0, blob[:20_000]).json()["offset"] == 20_000
    # the kiosk thinks the first chunk was lost and sends it again
    stale = kiosk.patch(upload_id, 0, blob[:20_000])
    assert stale.status_code == 409
    assert stale.json()["error"] == "offset_mismatch"
    head = kiosk.request("HEAD", f"/api/v1/uploads/{upload_id}")
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == "20000"
    assert head.headers["Upload-Length"] == "50000"
    # a retried POST returns the same resource with its offset
    retry = kiosk.create_upload(blob)
    assert retry.status_code == 200
    assert retry.json() == {"upload_id": upload_id, "offset": 20_000}
    done = kiosk.patch(upload_id, 20_000, blob[20_000:])
    assert done.json() == {"offset": 50_000, "complete": True}


def test_hash_mismatch_discards_data(kiosk):
    blob = os.urandom(10_000)
    upload_id = kiosk.create_upload(blob).json()["upload_id"]
    wrong = os.urandom(10_000)
    answer = kiosk.patch(upload_id, 0, wrong)
    assert answer.status_code == 422
    assert answer.json()["error"] == "hash_mismatch"
    head = kiosk.request("HEAD", f"/api/v1/uploads/{upload_id}")
    assert head.headers["Upload-Offset"] == "0"
    assert kiosk.patch(upload_id, 0, blob).json() == {"offset": 10_000, "complete": True}


def test_unknown_upload_and_other_devices_upload(kiosk, new_kiosk):
    missing = kiosk.request("HEAD", "/api/v1/uploads/up-nope")
    assert missing.status_code == 404
    assert kiosk.request("GET", "/api/v1/uploads/up-nope").json()["error"] == "upload_not_found"
    upload_id = kiosk.create_upload(b"x" * 200).json()["upload_id"]
    other = new_kiosk()
    assert other.request("GET", f"/api/v1/uploads/{upload_id}").status_code == 404


def test_bad_upload_requests(kiosk):
    bad = kiosk.post_json("/api/v1/uploads", {"sha256": "xyz", "size": 1})
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_request"
    too_big = kiosk.post_json("/api/v1/uploads", {"sha256": "a" * 64, "size": 10**12})
    assert too_big.status_code == 413 and too_big.json()["error"] == "too_large"
    upload_id = kiosk.create_upload(b"y" * 100).json()["upload_id"]
    past_end = kiosk.patch(upload_id, 0, b"y" * 101)
    assert past_end.status_code == 413
    wrong_type = kiosk.request("PATCH", f"/api/v1/uploads/{upload_id}", body=b"y",
                               headers={"Upload-Offset": "0", "Content-Type": "text/plain"})
    assert wrong_type.status_code == 422
