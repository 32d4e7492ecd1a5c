"""Finding 3 of issue 9: under a burst the hall sheds load instead of freezing.

Before, ~50 concurrent requests on SQLite (~100 on PostgreSQL) stalled 30 s and ended
in 500s ("QueuePool limit of size 5 overflow 10 reached", "database is locked"). Now a
burst of 200 concurrent requests — health, the signed status feed, wrong-password
logins, uploads, unsigned junk — gets only answers of its kind or a 503/429 with
``Retry-After``: never a 500, never no answer. (Timed goals are in benchmarks/abuse.py.)
"""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.hall.load_mix import SHED, burst, enrol_all

EXPECTED = {
    "health": {200}, "feed": {200}, "login": {401, 403, 422}, "upload": {201}, "chunk": {200},
    "junk": {401},
}


def test_burst_of_200_concurrent_requests_sheds_but_never_fails(hall, make_code):
    kiosks = enrol_all(hall.url, [make_code() for _ in range(5)])
    kinds = ["health", "feed", "login", "upload", "junk"] * 40
    outcomes = asyncio.run(burst(hall.url, kiosks, kinds))
    tally = Counter((o.kind, o.status) for o in outcomes)
    unexpected = {key: n for key, n in tally.items()
                  if key[1] not in EXPECTED[key[0]] and key[1] not in SHED}
    assert not unexpected, f"unexpected answers {unexpected}; all: {dict(tally)}"
    assert all(o.retry_after for o in outcomes if o.status in SHED)
    # The hall did real work, not only shedding (how much depends on the machine's load:
    # the figures are benchmarks/abuse.py's business).
    assert tally[("health", 200)] == 40
    served = sum(1 for o in outcomes if o.kind in ("feed", "upload") and o.status in (200, 201))
    assert served >= 1, dict(tally)
