"""The figures page and the clerk's inbox with many applications on PostgreSQL (issue 12).

A throwaway PostgreSQL cluster (tests/support/postgres.py) and a real ``county-hall serve``
on it (tests/support/hall_process.py); BENCH_APPLICATIONS applications (default 1,000,000)
of BENCH_KIOSKS kiosks over the last 24 months (those older than 60 days finished, the newer
ones in every state), with a status change for each one no longer
submitted, ratings for a fifth of them and counter entries for every item, day and channel —
all generated inside PostgreSQL by ``INSERT … SELECT … FROM generate_series`` (no rows pass
through Python), then ``VACUUM ANALYZE`` and ``county-hall figures rebuild`` (timed). Then,
over real HTTP with a logged-in console session, BENCH_ROUNDS requests of each:

* ``figures_default``: ``/console/figures`` for the last six months (the page's default),
  read from the roll-ups (``figures_kiosk_month``, ``figures_item_month``: a row per kiosk and
  month), rebuilt once after generating with the summary;
* ``figures_default_summary``: the same page reading the monthly summary itself
  (``figures_monthly``: a row per kiosk, item and month, as before the roll-ups; the roll-ups
  made out of step with the catalog for these rounds), for the ratio;
* ``figures_default_scanning``: the same page scanning the applications as before the
  summary (the summary's offset made not the hall's for these rounds), for the ratio;
* ``figures_12_months``: the same for the last twelve months;
* ``figures_clerk``: the page of a clerk (department hrss: her items only), from the summary;
* ``inbox_first``: the clerk's inbox (department hrss), first page;
* ``inbox_deep``: the clerk's inbox from a cursor halfway through her open applications
  (keyset: it costs what the first page costs);
* ``baseline``: ``/api/v1/health`` in the same process, for the ratio.

Goal: p50 ≤ 300 ms for the figures page and both inbox pages. Latencies are measured by
this process, on the same (busy) cores as the hall and PostgreSQL. Prints one JSON line last.

Environment: BENCH_APPLICATIONS (1000000), BENCH_KIOSKS (200), BENCH_ROUNDS (15).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

from hall.services.catalog import load_hall_catalog  # noqa: E402
from tests.support.hall_process import HallProcess  # noqa: E402
from tests.support.postgres import PostgresCluster, find_bindir  # noqa: E402

COUNTY = "441423"  # the hall's default county
PASSWORD = "benchmark passphrase"
GOAL_MS = 300.0
OPEN_DAYS = 60  # applications older than this are finished, as in a county that keeps its limits


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def generate(conn: psycopg.Connection, applications: int, kiosks: int) -> dict:
    """Everything by SQL in the database; returns the seconds each part took."""
    items = load_hall_catalog().catalog.items()
    codes = "ARRAY[" + ",".join(f"'{i.code}'" for i in items) + "]"
    visits = "ARRAY[" + ",".join(str(i.visits_needed) for i in items) + "]"
    # Of the last OPEN_DAYS days: 60 % completed, 5 % rejected, 10 % submitted, 15 % accepted,
    # 5 % correction, 5 % supplemented; older ones are finished (90 % completed, 10 % rejected).
    statuses = ("ARRAY[" + ",".join(["'completed'"] * 12 + ["'rejected'"] + ["'submitted'"] * 2
                                    + ["'accepted'"] * 3 + ["'correction_needed'", "'supplemented'"]) + "]")
    seconds: dict[str, float] = {}

    def step(name: str, sql: str) -> None:
        started = time.monotonic()
        conn.execute(sql)
        seconds[name] = round(time.monotonic() - started, 1)
        print(f"{name}: {seconds[name]} s", file=sys.stderr)

    step("devices", f"""
        INSERT INTO devices (id, name, county, public_key, revoked, versions, enrolled_at)
        SELECT 'kiosk-bench-' || k, 'Village ' || k, '{COUNTY}', '\\x00'::bytea, false, '{{}}', now()
        FROM generate_series(0, {kiosks - 1}) AS k""")
    n = len(items)
    step("applications", f"""
        INSERT INTO applications (id, device_id, idempotency_key, request_hash, provisional_number,
            official_number, service_code, county, created_at, received_at, page_count, visits_needed,
            status, reason, sealed_document, response_json, updated_at, accepted_at)
        SELECT md5(i::text)::uuid::text, 'kiosk-bench-' || (i % {kiosks}), md5(i::text), 'h', 'P-' || i,
            'B' || i, ({codes})[1 + (i * 7) % {n}], '{COUNTY}', t, t, 1, ({visits})[1 + (i * 7) % {n}],
            CASE WHEN i * 730 > {OPEN_DAYS} * {applications}::bigint  -- older: long finished
                 THEN (CASE WHEN (i * 7919) % 10 = 0 THEN 'rejected' ELSE 'completed' END)
                 ELSE ({statuses})[1 + (i * 7919) % 20] END, '', '\\x00'::bytea, '{{}}', t, NULL
        FROM (SELECT i, now() - (i * interval '730 days') / {applications} AS t
              FROM generate_series(1::bigint, {applications}) AS i) AS g""")
    step("status_changes", """
        INSERT INTO status_changes (application_id, device_id, status, reason, actor, changed_at,
            from_status, materials_json)
        SELECT id, device_id, status, '', 'console:bench', received_at + interval '1 day', 'submitted', '[]'
        FROM applications WHERE status <> 'submitted'""")
    step("ratings", f"""
        INSERT INTO ratings (id, device_id, county, application_ref, service_code, score, reason,
            rated_at, received_at)
        SELECT md5('r' || i::text)::uuid::text, 'kiosk-bench-' || (i % {kiosks}), '{COUNTY}', 'P-' || i,
            ({codes})[1 + (i * 7) % {n}], 1 + (i * 31) % 5,
            CASE WHEN 1 + (i * 31) % 5 <= 2 THEN 'slow' ELSE '' END, t, t
        FROM (SELECT i, now() - (i * interval '730 days') / {applications} AS t
              FROM generate_series(1::bigint, {applications}, 5) AS i) AS g""")
    step("counter_applications", f"""
        INSERT INTO counter_applications (county, service_code, day, channel, count, recorded_by, recorded_at)
        SELECT '{COUNTY}', code, current_date - d, channel, 1 + (d % 7), 'console:bench', now()
        FROM unnest({codes}) AS code, generate_series(0, 729) AS d,
             unnest(ARRAY['counter', 'web', 'mobile']) AS channel""")
    step("vacuum_analyze", "VACUUM ANALYZE")
    return seconds


def login(url: str, username: str) -> requests.Session:
    web = requests.Session()
    page = web.get(url + "/console/login", timeout=30).text
    token = re.search(r'name="login_token" value="([^"]+)"', page).group(1)
    answer = web.post(url + "/console/login", allow_redirects=False, timeout=30,
                      data={"username": username, "password": PASSWORD, "login_token": token})
    if answer.status_code != 303:
        raise RuntimeError(f"login of {username} failed: {answer.status_code}")
    return web


def timed(web: requests.Session, url: str, rounds: int, expect: str = "") -> dict:
    latencies = []
    web.get(url, timeout=120)  # one warm-up: the first request of a worker compiles templates
    for _ in range(rounds):
        started = time.perf_counter()
        answer = web.get(url, timeout=120)
        latencies.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200 or (expect and expect not in answer.text):
            raise RuntimeError(f"{url}: {answer.status_code}")
    latencies.sort()
    return {"p50_ms": round(statistics.median(latencies), 1), "max_ms": round(latencies[-1], 1)}


def deep_cursor(conn: psycopg.Connection, codes: list[str]) -> tuple[str, int]:
    """The inbox cursor halfway through the clerk's open applications (an OFFSET once, here only)."""
    open_count = conn.execute(
        "SELECT count(*) FROM applications WHERE county = %s AND service_code = ANY(%s) "
        "AND status IN ('submitted', 'accepted', 'correction_needed', 'supplemented')",
        (COUNTY, codes)).fetchone()[0]
    received_at, app_id = conn.execute(
        "SELECT received_at, id FROM applications WHERE county = %s AND service_code = ANY(%s) "
        "AND status IN ('submitted', 'accepted', 'correction_needed', 'supplemented') "
        "ORDER BY received_at, id OFFSET %s LIMIT 1", (COUNTY, codes, open_count // 2)).fetchone()
    return f"{received_at.isoformat()}_{app_id}", open_count


def main() -> int:
    applications = env_int("BENCH_APPLICATIONS", 1_000_000)
    kiosks = env_int("BENCH_KIOSKS", 200)
    rounds = env_int("BENCH_ROUNDS", 15)
    result: dict = {"benchmark": "figures", "applications": applications, "kiosks": kiosks, "rounds": rounds,
                    "cores": os.cpu_count(), "load_average": os.getloadavg()[0], "goal_p50_ms": GOAL_MS}
    bindir = find_bindir()
    if bindir is None:
        result["skipped"] = "PostgreSQL server binaries are not installed"
        print(json.dumps(result))
        return 0
    started = time.monotonic()
    cluster = PostgresCluster(bindir)
    cluster.start()
    try:
        db_url = cluster.create_database("hall_figures")
        with tempfile.TemporaryDirectory(prefix="figures-") as tmp, \
                HallProcess(Path(tmp), db_url=db_url, serve_args=["--workers", "1"],
                            startup_timeout_s=180.0) as hall:
            hall.create_user("bench-admin", PASSWORD, role="county_admin", county=COUNTY)
            hall.create_user("bench-clerk", PASSWORD, role="clerk", county=COUNTY, department="hrss")
            with psycopg.connect(host=str(cluster.sockets), port=cluster.port, user=cluster.user,
                                 dbname="hall_figures", autocommit=True) as conn:
                result["generate_s"] = generate(conn, applications, kiosks)
                # the rows were written around the intake: count them into the summary as an
                # upgraded hall's migration (or an operator) would
                rebuild_started = time.monotonic()
                rebuilt = hall.cli("figures", "rebuild").stdout
                result["summary_rows"] = int(rebuilt.split(":")[1].split()[0])
                result["rollup_rows"] = [int(n) for n in re.findall(r"(\d+) (?:kiosk|item)-month", rebuilt)]
                result["generate_s"]["summary_rebuild"] = round(time.monotonic() - rebuild_started, 1)
                conn.execute("VACUUM ANALYZE figures_monthly, figures_kiosk_month, figures_item_month")
                cursor, open_count = deep_cursor(conn, load_hall_catalog().codes_of("hrss"))
                plan = conn.execute(
                    "EXPLAIN SELECT device_id, count(*) FROM applications WHERE county = %s "
                    "AND received_at >= now() - interval '180 days' GROUP BY device_id",
                    (COUNTY,)).fetchall()
                result["figures_scan"] = "index only" if any("Index Only Scan" in row[0] for row in plan) \
                    else "other"
            result["clerk_open_applications"] = open_count
            admin, clerk = login(hall.url, "bench-admin"), login(hall.url, "bench-clerk")
            base = hall.url
            result["baseline"] = timed(admin, base + "/api/v1/health", rounds)
            expect = "measured-online_rate"
            result["figures_default"] = timed(admin, base + "/console/figures", rounds, expect)
            # the same page the older ways, in the same run: with the roll-ups out of step with the
            # catalog (an item they do not know recorded as fully online), from the summary itself;
            # with the summary in another offset than the hall's, scanning the applications
            with psycopg.connect(host=str(cluster.sockets), port=cluster.port, user=cluster.user,
                                 dbname="hall_figures", autocommit=True) as conn:
                conn.execute("INSERT INTO figures_rollup_items (service_code) VALUES ('BENCH-NOT-AN-ITEM')")
                result["figures_default_summary"] = timed(admin, base + "/console/figures", rounds, expect)
                conn.execute("DELETE FROM figures_rollup_items WHERE service_code = 'BENCH-NOT-AN-ITEM'")
                conn.execute("UPDATE figures_summary_state SET utc_offset_hours = utc_offset_hours + 1")
                result["figures_default_scanning"] = timed(admin, base + "/console/figures", rounds, expect)
                conn.execute("UPDATE figures_summary_state SET utc_offset_hours = utc_offset_hours - 1")
            today = time.gmtime()
            year, month = (today.tm_year, today.tm_mon - 11) if today.tm_mon > 11 else \
                (today.tm_year - 1, today.tm_mon + 1)
            period = f"?first={year:04d}-{month:02d}&last={today.tm_year:04d}-{today.tm_mon:02d}"
            result["figures_12_months"] = timed(admin, base + "/console/figures" + period, rounds,
                                                "measured-online_rate")
            result["figures_clerk"] = timed(clerk, base + "/console/figures", rounds, expect)
            result["inbox_first"] = timed(clerk, base + "/console/inbox", rounds, "appno")
            result["inbox_deep"] = timed(clerk, base + "/console/inbox?after=" + requests.utils.quote(cursor),
                                         rounds, "appno")
    finally:
        cluster.stop()
    for key in ("figures_default", "figures_default_summary", "figures_default_scanning", "figures_12_months",
                "figures_clerk", "inbox_first", "inbox_deep"):
        result[key]["vs_baseline"] = round(result[key]["p50_ms"] / max(0.1, result["baseline"]["p50_ms"]), 1)
    result["goal_met"] = all(result[k]["p50_ms"] <= GOAL_MS
                             for k in ("figures_default", "inbox_first", "inbox_deep"))
    result["load_average_after"] = os.getloadavg()[0]
    result["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
