"""The nonce book (hall/services/nonce_book.py): many requests' nonces in one write
transaction, each request still told whether its nonce is new. Real SQLite, real threads."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from hall.db import make_engine, make_sessionmaker, migrate
from hall.models import Device, SeenNonce
from hall.services.nonce_book import NonceBook

NOW = 1_800_000_000.0


def _book(tmp_path, last_seen: datetime | None = None) -> tuple[NonceBook, object]:
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    migrate(url)
    sessions = make_sessionmaker(make_engine(url, pool_size=40))
    with sessions() as db:
        for device_id in ("dev-a", "dev-b"):
            db.add(Device(id=device_id, county="441423", public_key=b"k" * 32,
                          enrolled_at=datetime.fromtimestamp(NOW, UTC), last_seen=last_seen))
        db.commit()
    return NonceBook(sessions, max_skew_s=300, wait_s=5.0), sessions


def test_concurrent_requests_share_write_transactions_and_replays_are_refused(tmp_path):
    book, sessions = _book(tmp_path)
    answers: dict[tuple[str, str, int], bool] = {}
    start = threading.Barrier(40)

    def request(index: int) -> None:
        device = "dev-a" if index % 2 else "dev-b"
        nonce = f"n{index % 20}"  # every nonce twice: once new, once a replay
        start.wait()
        answers[(device, nonce, index)] = book.record(device, nonce, int(NOW), NOW)

    threads = [threading.Thread(target=request, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(answers) == 40
    new = [key for key, fresh in answers.items() if fresh]
    assert len(new) == 20 and len({key[:2] for key in new}) == 20  # each (device, nonce) once
    assert book.batches < 40, "every request wrote a transaction of its own"
    assert book.largest_batch > 1
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(SeenNonce)) == 20
        assert all(device.last_seen is not None for device in db.scalars(select(Device)))
    assert book.record("dev-a", "n1", int(NOW), NOW) is False  # later too
    assert book.record("dev-a", "fresh", int(NOW), NOW) is True


def test_last_seen_is_written_only_when_a_minute_old(tmp_path):
    recent = datetime.fromtimestamp(NOW - 10, UTC)
    book, sessions = _book(tmp_path, last_seen=recent)
    assert book.record("dev-a", "x1", int(NOW), NOW)
    with sessions() as db:
        assert db.get(Device, "dev-a").last_seen == recent  # 10 s old: left as it is
    assert book.record("dev-a", "x2", int(NOW + 120), NOW + 120)
    with sessions() as db:
        assert db.get(Device, "dev-a").last_seen == recent + timedelta(seconds=130)
