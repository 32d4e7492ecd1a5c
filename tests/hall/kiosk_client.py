"""A tiny signed client for the hall tests (the kiosk's real client lives elsewhere)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.applications import device_short, provisional_number
from offline_queue.sealing import seal
from offline_queue.signing import sign_headers


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def enroll(base_url: str, code: str, name: str = "test kiosk") -> requests.Response:
    key = Ed25519PrivateKey.generate()
    body = {"code": code, "public_key": base64.b64encode(raw_public(key)).decode(), "name": name,
            "versions": {"kiosk": "0.1.0"}}
    response = requests.post(base_url + "/api/v1/enrolment", json=body, timeout=10)
    response.private_key = key  # type: ignore[attr-defined]
    return response


@dataclass
class SignedClient:
    base_url: str
    device_id: str
    private_key: Ed25519PrivateKey
    hall_seal_key: bytes
    county: str = "441423"
    session: requests.Session = field(default_factory=requests.Session)

    @classmethod
    def enrolled(cls, base_url: str, code: str) -> SignedClient:
        response = enroll(base_url, code)
        assert response.status_code == 201, response.text
        answer = response.json()
        return cls(base_url, answer["device_id"], response.private_key,
                   base64.b64decode(answer["hall_seal_public_key"]), answer["county"])

    def request(self, method: str, path: str, *, params: dict | None = None, body: bytes = b"",
                headers: dict | None = None, now: float | None = None, key: Ed25519PrivateKey | None = None,
                signed_body: bytes | None = None, sig_headers: dict | None = None) -> requests.Response:
        pairs = list((params or {}).items())
        if sig_headers is None:
            sig_headers = sign_headers(key or self.private_key, self.device_id, method, path, pairs,
                                       body if signed_body is None else signed_body,
                                       time.time() if now is None else now)
        all_headers = {**sig_headers, **(headers or {})}
        if body and "Content-Type" not in all_headers:
            all_headers["Content-Type"] = "application/json"
        return self.session.request(method, self.base_url + path, params=params, data=body,
                                    headers=all_headers, timeout=15)

    def post_json(self, path: str, payload: dict, headers: dict | None = None, **kw) -> requests.Response:
        return self.request("POST", path, body=json.dumps(payload).encode(), headers=headers, **kw)

    # -- uploads ----------------------------------------------------------
    def create_upload(self, blob: bytes) -> requests.Response:
        digest = hashlib.sha256(blob).hexdigest()
        return self.post_json("/api/v1/uploads", {"sha256": digest, "size": len(blob)})

    def patch(self, upload_id: str, offset: int, chunk: bytes) -> requests.Response:
        return self.request("PATCH", f"/api/v1/uploads/{upload_id}", body=chunk, headers={
            "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})

    def upload(self, blob: bytes, chunk_size: int = 64 * 1024) -> str:
        created = self.create_upload(blob)
        assert created.status_code in (200, 201), created.text
        upload_id, offset = created.json()["upload_id"], created.json()["offset"]
        while offset < len(blob):
            answer = self.patch(upload_id, offset, blob[offset:offset + chunk_size])
            assert answer.status_code == 200, answer.text
            offset = answer.json()["offset"]
        return upload_id

    # -- applications -----------------------------------------------------
    def provisional_prefix(self) -> str:
        return "K" + device_short(self.device_id)

    def next_provisional_number(self) -> str:
        """As the real kiosk makes them (kiosk.applications), with a random sequence."""
        return provisional_number(self.device_id, uuid.uuid4().int % 10000, time.time())

    def make_application(self, attachments: list[tuple[bytes, str, str]] | None = None,
                         app_id: str | None = None, seal_key: bytes | None = None,
                         applicant_name: str = "张三",
                         service_code: str = "GD-YL-001") -> tuple[dict, list[bytes]]:
        """(body, sealed attachment boxes); attachments are (plain bytes, material, media type)."""
        app_id = app_id or str(uuid.uuid4())
        context = app_id.encode("ascii")
        key = seal_key or self.hall_seal_key
        boxes, meta, doc_meta = [], [], []
        for data, material, media_type in attachments or []:
            box = seal(data, key, context)
            digest = hashlib.sha256(box).hexdigest()
            boxes.append(box)
            meta.append({"sha256": digest, "size": len(box), "material": material, "pages": 1})
            doc_meta.append({"sha256": digest, "material": material, "pages": 1, "media_type": media_type})
        document = {
            "id": app_id, "service_code": service_code,
            "applicant": {"name": applicant_name, "id_number": "44142319800101001X", "sex": "男",
                          "birth_date": "1980-01-01", "address": "广东省梅州市某村", "phone": "13800000000"},
            "fields": {"bank_account": "6222020000000000", "reason": "养老金申领"},
            "attachments": doc_meta, "created_at": "2026-11-28T04:30:00Z", "kiosk": self.device_id,
        }
        sealed = seal(json.dumps(document, ensure_ascii=False).encode(), key, context)
        body = {
            "id": app_id, "provisional_number": self.next_provisional_number(),
            "service_code": service_code, "county": self.county, "created_at": "2026-11-28T04:30:00Z",
            "page_count": len(meta), "visits_needed": 0,
            "sealed_document": base64.b64encode(sealed).decode(), "attachments": meta,
        }
        return body, boxes

    def post_application(self, body: dict, key: str | None = None) -> requests.Response:
        return self.post_json("/api/v1/applications", body, headers={"Idempotency-Key": key or body["id"]})

    def submit(self, attachments: list[tuple[bytes, str, str]] | None = None,
               service_code: str = "GD-YL-001") -> dict:
        body, boxes = self.make_application(attachments, service_code=service_code)
        for box in boxes:
            self.upload(box)
        response = self.post_application(body)
        assert response.status_code == 201, response.text
        return response.json()

    def status_changes(self, since: str | None = None) -> requests.Response:
        params = None if since is None else {"since": since}
        return self.request("GET", "/api/v1/status-changes", params=params)


def accept(hall, app_id: str) -> str:
    """A clerk accepts the application (the CLI, as a clerk would in the console): its official number."""
    hall.set_status(app_id, "accepted")
    return official_number_of(hall, app_id)


def official_number_of(hall, app_id: str) -> str:
    """The official number the hall gave (it gives one at acceptance), or "" for none yet."""
    row = next(a for a in hall.applications() if a["id"] == app_id)
    return row["official_number"] or ""
