"""Fixtures for the offline queue tests: a hall key pair and applications with personal data."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kiosk.applications import device_short
from offline_queue.outbox import OfflineQueue
from tests.support.clock import ManualClock

ID_NUMBER = "44142319800101123X"
NAME = "张三丰"
PHONE = "13800138000"


@dataclass(frozen=True)
class Attachment:
    material: str
    data: bytes
    media_type: str = "image/jpeg"
    pages: int = 1


@dataclass(frozen=True)
class Application:
    id: str
    provisional_number: str
    service_code: str
    county: str
    created_at: str
    visits_needed: int
    applicant_tag: str
    document: dict
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


class Clock(ManualClock):
    """The outbox tests start later in time than the default."""

    def __init__(self, now: float = 1_795_000_000.0) -> None:
        super().__init__(now)


@pytest.fixture
def hall_key() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


@pytest.fixture
def hall_public(hall_key: X25519PrivateKey) -> bytes:
    return hall_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_app():
    """Build an application full of personal data (name, ID number, phone, page images)."""
    counter = iter(range(1, 10_000))

    def make(
        *,
        id_number: str = ID_NUMBER,
        name: str = NAME,
        service_code: str = "GD-YL-001",
        county: str = "441423",
        pages: int = 2,
        page_bytes: int = 2048,
        material: str = "M1",
        device_id: str = "kiosk-0001",
    ) -> Application:
        n = next(counter)
        app_id = str(uuid.uuid4())
        tag = hmac.new(b"test-tag-key", id_number.encode(), hashlib.sha256).hexdigest()
        attachments = tuple(
            Attachment(
                material=material if i == 0 else f"M{i + 1}",
                data=(f"PAGE {i} of {name} {id_number} ".encode() * (page_bytes // 40 + 1))[:page_bytes],
            )
            for i in range(pages)
        )
        document = {
            "id": app_id,
            "service_code": service_code,
            "applicant": {"name": name, "id_number": id_number, "phone": PHONE, "address": "梅县区程江镇"},
            "fields": {"reason": "申请养老保险"},
            "attachments": [
                {"material": a.material, "pages": a.pages, "media_type": a.media_type} for a in attachments
            ],
            "created_at": "2026-11-28T04:30:00Z",
            "kiosk": "kiosk-test",
        }
        return Application(
            id=app_id,
            provisional_number=f"K{device_short(device_id)}-20261128-{n:04d}",
            service_code=service_code,
            county=county,
            created_at="2026-11-28T04:30:00Z",
            visits_needed=0,
            applicant_tag=tag,
            document=document,
            attachments=attachments,
        )

    return make


@pytest.fixture
def queue(tmp_path: Path, clock: Clock):
    q = OfflineQueue(tmp_path / "data", budget_bytes=10_000_000, clock=clock)
    yield q
    q.close()
