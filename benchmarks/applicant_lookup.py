"""What a stolen kiosk disk costs an attacker who wants the ID numbers behind the outbox.

The attacker holds everything on the disk: ``tag.key``, the outbox (its lookup keys and
the KDF's salt and parameters) and ``identity.json`` (the county code). An ID number is
county (6 digits, known) + birth date (8) + sequence (3) + a check digit computed from
the rest, so one birth year is 365 × 1,000 guesses.

Measured in this process, on this machine:

* the old scheme (the row held the HMAC tag): a real sweep of one whole birth year,
  HMAC-SHA256 per guess, single core — the baseline;
* the outbox's scheme: HMAC + scrypt(N, r, p of ``offline_queue.applicant_lookup``)
  per guess, the median of ``BENCH_GUESSES`` guesses (the full sweep would take days).

The estimates divide by ``BENCH_CORES`` (default 2, this machine; assumes the attacker
spreads guesses perfectly over cores, which memory-hardness makes no cheaper on a GPU
than 32 MiB of RAM per guess in flight). Prints one JSON line last.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from offline_queue.applicant_lookup import ApplicantLookup, LookupParams  # noqa: E402

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
COUNTY = "441423"
YEAR = 1958
GUESSES = int(os.environ.get("BENCH_GUESSES", "8"))
CORES = int(os.environ.get("BENCH_CORES", "2"))
BIRTH_YEARS_PER_COUNTY = 80  # the applicants a county's kiosks see: born 1930–2010
DAYS = 365


def id_number(county: str, birth: str, seq: int) -> str:
    body = f"{county}{birth}{seq:03d}"
    return body + CHECK[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]


def birth_dates(year: int) -> list[str]:
    import datetime

    start = datetime.date(year, 1, 1)
    return [(start + datetime.timedelta(days=d)).strftime("%Y%m%d") for d in range(DAYS)]


def main() -> None:
    tag_key = secrets.token_bytes(32)
    dates = birth_dates(YEAR)
    victim = id_number(COUNTY, dates[300], 417)
    victim_tag = hmac.new(tag_key, victim.encode(), hashlib.sha256).hexdigest()

    # old scheme: a real sweep of one birth year against the stored tag
    began = time.perf_counter()
    found = None
    for birth in dates:
        for seq in range(1000):
            guess = id_number(COUNTY, birth, seq)
            if hmac.new(tag_key, guess.encode(), hashlib.sha256).hexdigest() == victim_tag:
                found = guess
    hmac_year_s = time.perf_counter() - began
    assert found == victim
    hmac_guess_us = hmac_year_s / (DAYS * 1000) * 1e6

    # the outbox's scheme: the same HMAC, then scrypt under the kiosk's salt
    params = LookupParams.fresh()
    lookup = ApplicantLookup(params)
    stored_key = lookup.key_for(victim_tag)
    times = []
    for seq in range(GUESSES):
        guess = id_number(COUNTY, dates[300], 410 + seq)
        began = time.perf_counter()
        tag = hmac.new(tag_key, guess.encode(), hashlib.sha256).hexdigest()
        key = ApplicantLookup(params).key_for(tag)  # a fresh object: no cache helps the attacker
        times.append(time.perf_counter() - began)
        assert (key == stored_key) == (guess == victim)
    scrypt_guess_s = statistics.median(times)

    year_guesses = DAYS * 1000
    old_year_s = hmac_year_s / CORES
    new_year_s = year_guesses * scrypt_guess_s / CORES
    print(json.dumps({
        "benchmark": "applicant_lookup_attack", "cores": CORES,
        "kdf": {"name": "scrypt", "n": params.n, "r": params.r, "p": params.p,
                "memory_mib": 128 * params.r * params.n // 2**20},
        "old_hmac_guess_us": round(hmac_guess_us, 2),
        "old_birth_year_s": round(old_year_s, 1),
        "new_guess_ms": round(scrypt_guess_s * 1000, 1),
        "ratio_per_guess": round(scrypt_guess_s / (hmac_guess_us / 1e6)),
        "new_birth_year_hours": round(new_year_s / 3600, 1),
        "new_county_days": round(new_year_s * BIRTH_YEARS_PER_COUNTY / 86400, 1),
        "old_county_minutes": round(old_year_s * BIRTH_YEARS_PER_COUNTY / 60, 1),
        "new_known_birth_date_minutes": round(1000 * scrypt_guess_s / CORES / 60, 1),
        "kiosk_cost_per_visit_ms": round(scrypt_guess_s * 1000, 1),
    }))


if __name__ == "__main__":
    main()
