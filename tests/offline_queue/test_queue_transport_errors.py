"""How hall answers map onto the error tree (protocol.md's table), answer by answer.

The exchanges themselves run against the real hall in ``test_queue_sync.py``; here we
check the mapping of answers the reference hall is not easily made to give.
"""

import json
import socket

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from offline_queue import errors
from offline_queue.identity import DeviceIdentity
from offline_queue.transport import HallClient, error_for_response, parse_upload_state


def _response(status: int, body=None, headers=None) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = (json.dumps(body) if isinstance(body, dict) else (body or "")).encode()
    resp.headers.update(headers or {})
    return resp


@pytest.mark.parametrize(
    ("status", "body", "upload", "expected"),
    [
        (401, {"error": "stale_timestamp", "detail": ""}, False, errors.HallAuthRefused),
        (403, {"error": "device_revoked", "detail": ""}, False, errors.DeviceRevoked),
        (404, {"error": "upload_not_found", "detail": ""}, True, errors.UploadLost),
        (404, {"error": "not_found", "detail": ""}, False, errors.HallRejected),
        (409, {"error": "offset_mismatch", "detail": ""}, True, errors.OffsetMismatch),
        (409, {"error": "missing_attachment", "detail": "a" * 64}, False, errors.AttachmentMissing),
        (409, {"error": "missing_attachment", "detail": "who knows"}, False, errors.HallGarbage),
        (413, {"error": "too_large", "detail": "20 MB"}, True, errors.HallRejected),
        (422, {"error": "idempotency_conflict", "detail": ""}, False, errors.HallRejected),
        (400, "<html>bad</html>", False, errors.HallRejected),
        (500, "<html>oops</html>", False, errors.HallBusy),
        (503, {"error": "maintenance", "detail": ""}, False, errors.HallBusy),
        (302, "", False, errors.HallGarbage),
    ],
)
def test_status_mapping(status, body, upload, expected):
    err = error_for_response(_response(status, body), upload)
    assert type(err) is expected


def test_rejection_keeps_the_halls_reason():
    err = error_for_response(_response(413, {"error": "too_large", "detail": "20 MB"}), upload=True)
    assert (err.code, err.detail, err.status) == ("too_large", "20 MB", 413)
    assert err.transient is False


def test_retry_after_is_honoured():
    answer = _response(429, {"error": "slow_down", "detail": ""}, {"Retry-After": "42"})
    err = error_for_response(answer, False)
    assert isinstance(err, errors.HallBusy)
    assert err.retry_after == 42
    assert error_for_response(_response(429, {}, {"Retry-After": "soon"}), False).retry_after is None


@pytest.mark.parametrize(
    "answer",
    [
        [],
        {"offset": 3},
        {"upload_id": "u", "offset": -1},
        {"upload_id": "u", "offset": "3"},
        {"upload_id": "u", "offset": 99},
    ],
)
def test_bad_upload_answers_are_garbage(answer):
    with pytest.raises(errors.HallGarbage):
        parse_upload_state(answer, 10, need_id=True)


def test_unreachable_hall(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    identity = DeviceIdentity(
        "kiosk-1", "441423", f"http://127.0.0.1:{port}", Ed25519PrivateKey.generate(), b"\0" * 32, b"\0" * 32
    )
    client = HallClient(identity, timeout_s=2)
    with pytest.raises(errors.HallUnreachable) as caught:
        client.status_changes(None)
    assert isinstance(caught.value.__cause__, requests.RequestException)
    assert caught.value.transient
