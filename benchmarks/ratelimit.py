"""What one rate-limit hit costs (``hall/services/ratelimit.py``), beside what it protects.

Each login attempt and each ``/track`` lookup makes one upsert per limit. This measures,
in one process on the same database, the median time of:

* ``hit``: the upsert with RETURNING and its commit (one key, the counter climbing);
* ``empty_txn``: a baseline transaction that does ``SELECT 1`` and commits;
* ``scrypt``: one console password check (``hall.core.passwords.verify_password``), the
  work a login attempt costs anyway.

SQLite in a temporary folder by default; ``--db postgresql+psycopg://…`` for PostgreSQL
(the database must be empty or already migrated). On SQLite the hall's connections use
the default ``synchronous=FULL``, so a hit is one fsync; ``--sqlite-sync-normal`` measures
what ``PRAGMA synchronous=NORMAL`` (safe in WAL mode, loses only the last commits on a
power cut) would give. Prints one JSON line last.

    .venv/bin/python benchmarks/ratelimit.py [--db URL] [--count N] [--sqlite-sync-normal]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, text  # noqa: E402

from hall.core.passwords import hash_password, verify_password  # noqa: E402
from hall.db import make_engine, make_sessionmaker, migrate  # noqa: E402
from hall.services.ratelimit import Limit, hit  # noqa: E402


def median_us(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1e6, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--sqlite-sync-normal", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ratelimit-") as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'hall.db'}"
        migrate(url)
        engine = make_engine(url)
        if args.sqlite_sync_normal and url.startswith("sqlite"):
            @event.listens_for(engine, "connect")
            def _sync_normal(dbapi_connection, _record):
                dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        sessions = make_sessionmaker(engine)
        limit = Limit(f"bench-{time.time_ns()}", max_hits=10**9, window_s=3600)
        hits, empties = [], []
        with sessions() as db:
            for i in range(args.count):  # interleaved, so both see the same machine load
                start = time.perf_counter()
                hit(db, limit, "203.0.113.1", 7200.0)
                hits.append(time.perf_counter() - start)
                start = time.perf_counter()
                db.execute(text("SELECT 1"))
                db.commit()
                empties.append(time.perf_counter() - start)
                if i == 0:
                    hits.clear()
                    empties.clear()  # the first of each warms the connection
        stored = hash_password("plough-lantern-27")
        scrypts = []
        for _ in range(max(5, args.count // 40)):
            start = time.perf_counter()
            verify_password("wrong password", stored)
            scrypts.append(time.perf_counter() - start)
        engine.dispose()
    backend = url.split(":", 1)[0].split("+", 1)[0]
    sync_mode = "NORMAL" if args.sqlite_sync_normal else "FULL"
    result = {
        "benchmark": "ratelimit", "backend": backend, "count": len(hits),
        "sqlite_synchronous": sync_mode if backend == "sqlite" else None,
        "hit_median_us": median_us(hits), "empty_txn_median_us": median_us(empties),
        "scrypt_median_us": median_us(scrypts),
        "hit_over_empty_txn": round(statistics.median(hits) / statistics.median(empties), 2),
        "hit_over_scrypt": round(statistics.median(hits) / statistics.median(scrypts), 4),
        "hits_per_s_one_connection": round(1 / statistics.median(hits)),
    }
    print(f"{backend}: one hit {result['hit_median_us']} µs (empty transaction "
          f"{result['empty_txn_median_us']} µs, password check {result['scrypt_median_us']} µs)")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
