"""The work plan's figures by SQL (issue 12 part 5), read from the monthly summary (and, the
same numbers, from the rows), on SQLite and PostgreSQL, against a hand-computed fixture: 18
kiosk applications and 8 counter entries of county 440999 (two kiosks, October and November
2026 in local time UTC+8, a few just outside the period or in another county), and 9
ratings. Every expected number below was counted by hand from FIXTURE_APPS /
FIXTURE_COUNTER / FIXTURE_RATINGS and the sample catalog (fully online: 001 002 003 006 008
009 012 013; visits: 004 005 007 011 one, 010 two, the rest none)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import delete

from hall.core.config import load_settings
from hall.db import make_engine, make_sessionmaker
from hall.errors import Forbidden, InvalidRequest
from hall.models import Application, CounterApplication, Device, FiguresRollupItem, Rating
from hall.services import figures as fig
from hall.services import figures_rollups as rollups
from hall.services import figures_summary as summary
from hall.services.catalog import load_hall_catalog
from hall.services.roles import Scope

COUNTY, OTHER = "440999", "440998"
KIOSK_A, KIOSK_B, KIOSK_X = "kiosk-fig-a", "kiosk-fig-b", "kiosk-fig-x"
LOCAL = timedelta(hours=8)

# (kiosk, item number, local received time, status, visits recorded by the kiosk)
FIXTURE_APPS = [
    (KIOSK_A, 1, "2026-10-03 10:00", "completed", 0),
    (KIOSK_A, 1, "2026-10-10 09:00", "completed", 0),
    (KIOSK_A, 2, "2026-10-15 15:00", "accepted", 0),
    (KIOSK_A, 4, "2026-10-20 11:00", "completed", 1),
    (KIOSK_A, 10, "2026-10-31 23:30", "submitted", 2),     # local October, UTC October
    (KIOSK_A, 1, "2026-11-01 07:00", "completed", 0),      # local November, UTC 31 October
    (KIOSK_A, 3, "2026-11-05 10:00", "completed", 0),
    (KIOSK_A, 6, "2026-11-12 10:00", "rejected", 0),
    (KIOSK_A, 11, "2026-11-20 10:00", "completed", 1),
    (KIOSK_B, 4, "2026-10-05 10:00", "correction_needed", 1),
    (KIOSK_B, 8, "2026-10-08 10:00", "completed", 0),
    (KIOSK_B, 9, "2026-10-25 10:00", "completed", 0),
    (KIOSK_B, 2, "2026-11-02 10:00", "completed", 0),
    (KIOSK_B, 10, "2026-11-03 10:00", "accepted", 2),
    (KIOSK_B, 10, "2026-11-18 10:00", "completed", 2),
    (KIOSK_B, 12, "2026-11-30 23:59", "supplemented", 0),
    (KIOSK_A, 1, "2026-09-30 23:00", "completed", 0),      # outside: local September
    (KIOSK_B, 1, "2026-12-01 00:30", "completed", 0),      # outside: local December (UTC 30 Nov)
]
OTHER_APPS = [(KIOSK_X, 1, "2026-10-10 10:00", "completed", 0)]  # another county
# (item number, local day, channel, count)
FIXTURE_COUNTER = [
    (4, "2026-10-09", "counter", 6), (1, "2026-10-12", "web", 3), (10, "2026-10-20", "mobile", 2),
    (4, "2026-11-04", "counter", 4), (3, "2026-11-15", "mobile", 5), (11, "2026-11-21", "web", 1),
    (1, "2026-12-01", "counter", 50),  # outside the period
]
OTHER_COUNTER = [(1, "2026-10-12", "web", 100)]
# (kiosk, item number, local rated time, score, reason)
FIXTURE_RATINGS = [
    (KIOSK_A, 1, "2026-10-04 10:00", 5, ""), (KIOSK_A, 1, "2026-10-11 10:00", 4, ""),
    (KIOSK_A, 1, "2026-11-02 10:00", 1, "slow"), (KIOSK_A, 4, "2026-10-21 10:00", 2, "unclear"),
    (KIOSK_B, 8, "2026-11-09 10:00", 5, ""), (KIOSK_B, 8, "2026-11-10 10:00", 3, ""),
    (KIOSK_B, 1, "2026-11-11 10:00", 5, ""),
    (KIOSK_B, 1, "2026-12-02 10:00", 1, "staff"),  # outside the period
]
OTHER_RATINGS = [(KIOSK_X, 1, "2026-10-11 10:00", 1, "other")]
PERIOD = fig.Period("2026-10", "2026-11")


def code(number: int) -> str:
    return f"GD-SAMPLE-{number:03d}"


def utc(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=UTC) - LOCAL


def load_fixture(db, rebuild: bool = True) -> None:
    """The fixture, written straight into the hall's database (the intake is tested elsewhere);
    ``rebuild``: then count it into the figures' summary as the migration's backfill would."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    for device_id, county, name in ((KIOSK_A, COUNTY, "上坑村 Shangkeng"), (KIOSK_B, COUNTY, "下围村 Xiawei"),
                                    (KIOSK_X, OTHER, "")):
        db.add(Device(id=device_id, name=name, county=county, public_key=b"k" * 32, enrolled_at=now))
    db.flush()
    for county, rows in ((COUNTY, FIXTURE_APPS), (OTHER, OTHER_APPS)):
        for device_id, number, local, status, visits in rows:
            app_id = str(uuid.uuid4())
            db.add(Application(id=app_id, device_id=device_id, idempotency_key=app_id, request_hash="h",
                               provisional_number="P-" + app_id[:8], official_number="F" + app_id[:20],
                               service_code=code(number), county=county, created_at=utc(local),
                               received_at=utc(local), page_count=1, visits_needed=visits, status=status,
                               reason="", sealed_document=b"sealed", response_json="{}", updated_at=now))
    for county, rows in ((COUNTY, FIXTURE_COUNTER), (OTHER, OTHER_COUNTER)):
        for number, day, channel, count in rows:
            db.add(CounterApplication(county=county, service_code=code(number), channel=channel, count=count,
                                      day=date.fromisoformat(day), recorded_by="test", recorded_at=now))
    for county, rows in ((COUNTY, FIXTURE_RATINGS), (OTHER, OTHER_RATINGS)):
        for device_id, number, local, score, reason in rows:
            db.add(Rating(id=str(uuid.uuid4()), device_id=device_id, county=county, application_ref="P-x",
                          service_code=code(number), score=score, reason=reason, rated_at=utc(local),
                          received_at=utc(local)))
    db.commit()
    if rebuild:
        summary.rebuild(db, 8)
        db.commit()


@pytest.fixture(scope="module")
def sessions(hall) -> Iterator:
    settings = load_settings(db=hall.db_url, data_dir=hall.data_dir, environ={})
    engine = make_engine(settings.db_url)
    maker = make_sessionmaker(engine)
    with maker() as db:
        load_fixture(db)
    yield maker
    engine.dispose()


@pytest.fixture(scope="module")
def catalog():
    return load_hall_catalog()


ADMIN = Scope(username="admin", role="county_admin", county=COUNTY)
VIEWER = Scope(username="viewer", role="viewer", county=COUNTY)


def counts(tally: fig.Tally) -> tuple[int, ...]:
    return (tally.kiosk, tally.counter, tally.counter_online, tally.mobile, tally.finished_online,
            tally.le1, tally.zero)


def exact(tally: fig.Tally) -> dict[str, Fraction | None]:
    """The rates as fractions, so the hand-written ones compare exactly."""
    return {"online_rate": Fraction(tally.online, tally.total),
            "finished_rate": Fraction(tally.finished_online, tally.total),
            "le1_rate": Fraction(tally.le1, tally.online), "zero_rate": Fraction(tally.zero, tally.online),
            "mobile_share": Fraction(tally.mobile, tally.total)}


def test_county_and_kiosk_figures_match_the_hand_count(sessions, catalog):
    with sessions() as db:
        figures = fig.compute(db, ADMIN, catalog, PERIOD, utc_offset_hours=8)
        # the page's own read: each kiosk's total and each month's grouped in the database
        page = fig.compute(db, ADMIN, catalog, PERIOD, utc_offset_hours=8, kiosk_months=False)
    assert page.kiosk_by_month == {} and page.kiosk_total == figures.kiosk_total
    assert (page.county_by_month, page.county_total, page.kiosks) == (
        figures.county_by_month, figures.county_total, figures.kiosks)
    assert (page.ratings_by_item, page.ratings_by_kiosk, page.unhappy) == (
        figures.ratings_by_item, figures.ratings_by_kiosk, figures.unhappy)
    #                        kiosk counter online mobile finished ≤1 zero
    assert counts(figures.county_by_month["2026-10"]) == (8, 11, 5, 2, 4, 10, 8)
    assert counts(figures.county_by_month["2026-11"]) == (8, 10, 6, 5, 3, 12, 10)
    assert counts(figures.county_total) == (16, 21, 11, 7, 7, 22, 18)
    assert list(figures.county_by_month) == ["2026-10", "2026-11"]
    assert exact(figures.county_by_month["2026-10"]) == {
        "online_rate": Fraction(13, 19), "finished_rate": Fraction(4, 19), "le1_rate": Fraction(10, 13),
        "zero_rate": Fraction(8, 13), "mobile_share": Fraction(2, 19)}
    assert exact(figures.county_total) == {
        "online_rate": Fraction(27, 37), "finished_rate": Fraction(7, 37), "le1_rate": Fraction(22, 27),
        "zero_rate": Fraction(18, 27), "mobile_share": Fraction(7, 37)}
    rates = figures.county_by_month["2026-11"].rates()
    assert rates["online_rate"] == pytest.approx(14 / 18) and rates["zero_rate"] == pytest.approx(10 / 14)

    assert figures.kiosks == {KIOSK_A: "上坑村 Shangkeng", KIOSK_B: "下围村 Xiawei"}  # not the other county's
    assert counts(figures.kiosk_by_month[KIOSK_A]["2026-10"]) == (5, 0, 0, 0, 2, 4, 3)
    assert counts(figures.kiosk_by_month[KIOSK_A]["2026-11"]) == (4, 0, 0, 0, 2, 4, 3)
    assert counts(figures.kiosk_by_month[KIOSK_B]["2026-10"]) == (3, 0, 0, 0, 2, 3, 2)
    assert counts(figures.kiosk_by_month[KIOSK_B]["2026-11"]) == (4, 0, 0, 0, 1, 2, 2)
    assert counts(figures.kiosk_total[KIOSK_A]) == (9, 0, 0, 0, 4, 8, 6)
    assert figures.kiosk_total[KIOSK_B].rates()["online_rate"] == 1.0  # a kiosk application is online

    assert (figures.items, figures.full_online_items, figures.mobile_items) == (13, 8, 11)
    assert figures.full_online_rate == pytest.approx(8 / 13)

    # ratings: per item and kiosk, each grade's share, the unhappy reasons newest first
    by_item = {row.key: (row.count, row.by_score) for row in figures.ratings_by_item}
    assert by_item == {code(1): (4, {5: 2, 4: 1, 1: 1}), code(4): (1, {2: 1}), code(8): (2, {5: 1, 3: 1})}
    first = figures.ratings_by_item[0]
    assert first.share_of(5) == 0.5 and first.label.startswith("城乡")
    by_kiosk = {row.label: (row.count, row.by_score) for row in figures.ratings_by_kiosk}
    assert by_kiosk == {"上坑村 Shangkeng": (4, {5: 1, 4: 1, 1: 1, 2: 1}), "下围村 Xiawei": (3, {5: 2, 3: 1})}
    assert [(u.kiosk, u.score, u.reason) for u in figures.unhappy] == [
        ("上坑村 Shangkeng", 1, "等太久 Too slow"), ("上坑村 Shangkeng", 2, "看不懂说明 Unclear")]


def groups(db, scope: Scope, catalog, period: fig.Period, rolled: bool = False) -> tuple[list, list]:
    """The figures' groups read from the summary (``rolled``: from its roll-ups) and scanned from
    the rows, each as sorted ints."""
    items = fig._scope_items(catalog, scope)
    sets = ({i.code for i in items if i.fully_online}, {i.code for i in items if i.visits_needed <= 1},
            {i.code for i in items if i.visits_needed == 0})

    def plain(found: tuple[list, list, list]) -> list:
        return [sorted(tuple(v if isinstance(v, str) else int(v or 0) for v in row) for row in rows)
                for rows in found]

    summed = fig._rolled(db, scope, period, *sets[1:]) if rolled else fig._summed(db, scope, period, *sets)
    return (plain((summed.app_rows, summed.counter_rows, summed.ecert_rows))
            + [summed.ratings_by_item, summed.ratings_by_kiosk],
            plain(fig._scanned(db, scope, period, 8, *sets, recorded=True))
            + [dict(fig._rating_groups(db, scope, period, 8, by)) for by in ("item", "kiosk")])


def test_the_summary_gives_what_the_scan_of_the_rows_gives(sessions, catalog):
    clerk = Scope(username="wang", role="clerk", county=COUNTY, department="hrss",
                  item_codes=tuple(catalog.codes_of("hrss")))
    with sessions() as db:
        assert summary.usable(db, 8) and not summary.usable(db, 7)  # another offset: the page scans
        for scope in (ADMIN, clerk):
            from_summary, scanned = groups(db, scope, catalog, PERIOD)
            assert from_summary == scanned and from_summary[0] and from_summary[3]
        # the county's page reads the roll-ups (a row per kiosk and month): the same groups
        assert rollups.in_step(db, summary.fully_online_codes(catalog))
        from_rollups, scanned = groups(db, ADMIN, catalog, PERIOD, rolled=True)
        assert from_rollups == scanned
        db.rollback()


def test_a_catalog_change_of_fully_online_reads_the_summary_until_a_rebuild(sessions, catalog):
    """The roll-ups counted "finished online" with the catalog of their last rebuild; when the
    catalog's fully-online items differ (here: the roll-ups' record of them), the page reads the
    summary, which takes them from the catalog at read time: the same hand-counted numbers."""
    with sessions() as db:
        kept = summary.snapshot(db)
        db.execute(delete(FiguresRollupItem).where(FiguresRollupItem.service_code == code(1)))
        assert not rollups.in_step(db, summary.fully_online_codes(catalog))
        figures = fig.compute(db, ADMIN, catalog, PERIOD, utc_offset_hours=8, kiosk_months=False)
        assert counts(figures.county_total) == (16, 21, 11, 7, 7, 22, 18)
        assert counts(figures.kiosk_total[KIOSK_A]) == (9, 0, 0, 0, 4, 8, 6)
        # `county-hall figures rebuild --rollups-only`: from the summary, with the catalog's items
        summary.rebuild_rollups(db, summary.fully_online_codes(catalog))
        assert rollups.in_step(db, summary.fully_online_codes(catalog)) and summary.snapshot(db) == kept
        db.rollback()


def test_a_clerk_sees_the_figures_of_her_department_only_and_a_technician_none(sessions, catalog):
    clerk = Scope(username="wang", role="clerk", county=COUNTY, department="hrss",
                  item_codes=tuple(catalog.codes_of("hrss")))
    with sessions() as db:
        figures = fig.compute(db, clerk, catalog, PERIOD, utc_offset_hours=8)
        # items 001 and 002: five kiosk applications, the web entry of item 001
        assert counts(figures.county_by_month["2026-10"]) == (3, 3, 3, 0, 2, 6, 6)
        assert counts(figures.county_by_month["2026-11"]) == (2, 0, 0, 0, 2, 2, 2)
        assert (figures.items, figures.full_online_items) == (2, 2)
        assert {row.key for row in figures.ratings_by_item} == {code(1)}
        with pytest.raises(Forbidden):
            fig.compute(db, Scope(username="t", role="technician", county=COUNTY), catalog, PERIOD, 8)
        # a month with nothing is a row of zeros, its rates "—" (None), never a division by zero
        empty = fig.compute(db, VIEWER, catalog, fig.Period("2025-01", "2025-01"), 8)
        assert counts(empty.county_total) == (0,) * 7 and empty.county_total.rates()["online_rate"] is None


def test_counter_entries_are_checked_and_scoped(sessions, catalog):
    clock = lambda: datetime(2026, 11, 30, 20, tzinfo=UTC).timestamp()  # noqa: E731
    clerk = Scope(username="wang", role="clerk", county=OTHER, department="hrss",
                  item_codes=tuple(catalog.codes_of("hrss")))
    with sessions() as db:
        def record(scope=clerk, item="GD-SAMPLE-001", day="2026-11-30", channel="counter", count="3"):
            return fig.record_counter(db, scope, catalog, item, day, channel, count, "console:wang", 8, clock)

        for bad, words in ((dict(item=code(4)), "department"), (dict(item="GD-NOPE"), "department"),
                           (dict(channel="fax"), "how it was applied"),
                           (dict(day="30/11/2026"), "2026-01-31"),
                           (dict(day="2026-12-02"), "after today"), (dict(count="three"), "digits"),
                           (dict(count="0"), "Between 1"), (dict(count="100001"), "Between 1")):
            with pytest.raises(InvalidRequest, match=words):
                record(**bad)
        with pytest.raises(Forbidden):
            record(scope=Scope(username="v", role="viewer", county=OTHER))
        entry = record(day="2026-12-01")  # today in the county (UTC+8), though still 30 Nov in UTC
        assert (entry.county, entry.count, entry.recorded_by) == (OTHER, 3, "console:wang")
        assert [e.id for e in fig.recent_counter_entries(db, clerk)][0] == entry.id
        assert all(e.county == OTHER for e in fig.recent_counter_entries(db, clerk))


def test_period_parsing():
    assert fig.parse_period("", "", date(2026, 3, 15)).months == [
        "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]
    assert fig.parse_period("2026-11", "2026-10", date(2026, 12, 1)).months == ["2026-10", "2026-11"]
    assert fig.Period("2026-12", "2026-12").utc_bounds(8) == (datetime(2026, 11, 30, 16, tzinfo=UTC),
                                                               datetime(2026, 12, 31, 16, tzinfo=UTC))
    for bad in ("2026-13", "soon"):
        with pytest.raises(InvalidRequest):
            fig.parse_period(bad, "", date(2026, 12, 1))
    with pytest.raises(InvalidRequest, match="36"):
        fig.parse_period("2020-01", "2026-01", date(2026, 12, 1))


def test_e_certificates_in_use_are_counted_once_the_schema_records_them(tmp_path, catalog):
    """Issue 12 part 4 links applications to e-certificates in ``application_certificates``;
    without that table the figure is "not recorded", with it each application counts once."""
    from sqlalchemy import text

    from hall.db import migrate

    url = f"sqlite:///{tmp_path / 'hall.db'}"
    migrate(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        load_fixture(db)
        merged = fig.records_ecertificates(db)
        if not merged:
            assert fig.compute(db, ADMIN, catalog, PERIOD, 8).ecert_recorded is False
            db.execute(text("CREATE TABLE application_certificates (id INTEGER PRIMARY KEY, "
                            "application_id VARCHAR(36), certificate_id VARCHAR(40))"))
        ids = {(a.device_id, a.received_at.month, a.service_code): a.id for a in db.query(Application)}
        db.commit()
        links = [ids[(KIOSK_A, 10, code(2))], ids[(KIOSK_A, 10, code(2))],  # one application, two
                 ids[(KIOSK_A, 10, code(4))], ids[(KIOSK_B, 11, code(12))], ids[(KIOSK_A, 9, code(1))]]
        # the test's own links, with no e-certificate rows behind them: a plain sqlite3
        # connection, whose foreign keys are off
        columns, values = ("application_id, certificate_id, cert_type, material", "?, ?, 'x', ''") if merged \
            else ("application_id, certificate_id", "?, ?")
        with closing(sqlite3.connect(tmp_path / "hall.db")) as raw:
            raw.executemany(f"INSERT INTO application_certificates ({columns}) VALUES ({values})",
                            [(app_id, f"cert-{number}") for number, app_id in enumerate(links)])
            raw.commit()
        summary.rebuild(db, 8)  # links written around the intake
        db.commit()
        figures = fig.compute(db, ADMIN, catalog, PERIOD, 8)
    engine.dispose()
    assert figures.ecert_recorded
    assert [t.ecert for t in figures.county_by_month.values()] == [2, 1]  # September's is outside
    assert (figures.county_total.ecert, figures.kiosk_total[KIOSK_A].ecert) == (3, 2)
