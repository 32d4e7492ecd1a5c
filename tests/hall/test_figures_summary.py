"""The figures' monthly summary (hall/services/figures_summary.py) on SQLite and PostgreSQL:
the real intakes of applications and ratings over HTTP and the status changes move it; after
a seeded random mix of intakes, status changes (walks, corrections, supplements, completions,
rejections), ratings and counter entries it equals a rebuild from the rows, and the figures
read from it equal the scan of the rows; the migration backfills an existing hall's rows."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from hall.core.config import load_settings
from hall.db import make_engine, make_sessionmaker
from hall.models import Application, ApplicationCertificate, Device, ECertificate, Rating
from hall.services import figures as fig
from hall.services import figures_summary as summary
from hall.services.catalog import load_hall_catalog
from hall.services.roles import Scope
from hall.services.status import TRANSITIONS, change_status
from tests.hall.test_figures import ADMIN, PERIOD, groups, load_fixture

MIX_COUNTY = "449912"
MIX_STEPS = 80


@pytest.fixture(scope="module")
def maker(hall) -> Iterator:
    engine = make_engine(load_settings(db=hall.db_url, data_dir=hall.data_dir, environ={}).db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def kiosk_row(db, device_id: str, code: str, when: datetime) -> tuple[int, ...]:
    return summary.snapshot(db).get(("441423", summary.month_of(when, 8), device_id, code, summary.KIOSK),
                                    (0,) * 10)


def test_the_intake_and_a_status_change_move_the_summary(hall, kiosk, maker):
    now = datetime.now(UTC)
    with maker() as db:
        before = kiosk_row(db, kiosk.device_id, "GD-YL-001", now)
    first, second = kiosk.submit(), kiosk.submit()
    # a kiosk's clock gone wild (the year 9999) is recorded but counted in no month
    for score, when in ((5, now.isoformat()), (2, now.isoformat()), (3, "9999-12-31T23:00:00Z")):
        rated = kiosk.post_json("/api/v1/ratings", {
            "id": str(uuid.uuid4()), "application_ref": kiosk.next_provisional_number(),
            "service_code": "GD-YL-001", "score": score, "reason": "", "rated_at": when})
        assert rated.status_code == 201, rated.text
    with maker() as db:  # the service the console and `county-hall set-status` call
        change_status(db, first["id"], "completed", actor="test", walk=True)
        change_status(db, second["id"], "rejected", "not this county's", actor="test")
        after = kiosk_row(db, kiosk.device_id, "GD-YL-001", now)
    # applications, completed, ≤ 1 visit, no visit, e-certificates (the test kiosk's: visits 0, none),
    # ratings of scores 1 … 5
    assert tuple(a - b for a, b in zip(after, before, strict=True)) == (2, 1, 2, 2, 0, 0, 1, 0, 0, 1)
    rebuilt = hall.cli("figures", "rebuild").stdout
    assert "figures summary rebuilt" in rebuilt and "UTC+8" in rebuilt and "kiosk-month" in rebuilt
    assert "roll-ups rebuilt from the summary" in hall.cli("figures", "rebuild", "--rollups-only").stdout
    with maker() as db:
        assert kiosk_row(db, kiosk.device_id, "GD-YL-001", now) == after


def test_after_a_random_mix_of_changes_the_summary_equals_a_rebuild(maker):
    rng = random.Random(20261202)
    catalog = load_hall_catalog()
    codes = [item.code for item in catalog.catalog.items()]
    now = datetime(2026, 3, 10, tzinfo=UTC)
    suffix = uuid.uuid4().hex[:6]
    devices = [f"kiosk-sum-{suffix}-{n}" for n in range(3)]
    admin = Scope(username="admin", role="county_admin", county=MIX_COUNTY)
    with maker() as db:
        for device_id in devices:
            db.add(Device(id=device_id, name=device_id, county=MIX_COUNTY, public_key=b"k" * 32,
                          enrolled_at=now))
        certificate = ECertificate(id=f"cert-sum-{suffix}", holder_key="h" * 64, county=MIX_COUNTY,
                                   cert_type="hukou", issuer="test", number="1", valid_from=date(2020, 1, 1),
                                   valid_to=None, trust_level=3, box_sha256="0" * 64, size=1,
                                   media_type="application/pdf", created_at=now)
        db.add(certificate)
        db.commit()
        app_ids: list[str] = []
        taken: set[str] = set()
        for _ in range(MIX_STEPS):
            roll = rng.random()
            # around the local month ends (UTC+8 turns the month at 16:00 UTC)
            when = datetime(2026, 1, 31, 12, tzinfo=UTC) + timedelta(days=rng.choice((0, 28)),
                                                                     hours=rng.randrange(9))
            if roll < 0.45 or not app_ids:  # an application arrives, as the intake writes it
                app_id = str(uuid.uuid4())
                application = Application(
                    id=app_id, device_id=rng.choice(devices), idempotency_key=app_id, request_hash="h",
                    provisional_number="P", official_number="S" + app_id[:30], service_code=rng.choice(codes),
                    county=MIX_COUNTY, created_at=when, received_at=when, page_count=1,
                    visits_needed=rng.randrange(3), status="submitted", reason="", sealed_document=b"s",
                    response_json="{}", updated_at=when)
                db.add(application)
                if rng.random() < 0.3:
                    db.add(ApplicationCertificate(application_id=app_id, certificate_id=certificate.id,
                                                  cert_type="hukou", material="户口簿"))
                summary.count_received(db, application)
                db.commit()
                app_ids.append(app_id)
            elif roll < 0.85:  # a status change, through the service the console and the CLI call
                app_id = rng.choice(app_ids)
                status = db.scalar(select(Application.status).where(Application.id == app_id))
                if TRANSITIONS[status]:
                    new_status = rng.choice(TRANSITIONS[status])
                    change_status(db, app_id, new_status, "why", actor="test", by_clerk=False)
                    taken.add(new_status)
            elif roll < 0.95:  # a rating arrives, as the ratings intake writes it
                rating = Rating(id=str(uuid.uuid4()), device_id=rng.choice(devices), county=MIX_COUNTY,
                                application_ref="P", service_code=rng.choice(codes),
                                score=rng.randrange(1, 6), reason="", rated_at=when, received_at=when)
                db.add(rating)
                summary.count_rating(db, rating)
                db.commit()
            else:  # a counter entry
                fig.record_counter(db, admin, catalog, rng.choice(codes),
                                   rng.choice(("2026-01-31", "2026-02-01", "2026-02-28")),
                                   rng.choice(tuple(fig.CHANNELS)), str(rng.randrange(1, 9)), "test", 8)
        kept = summary.snapshot(db)
        summary.rebuild(db, 8)
        assert summary.snapshot(db) == kept
        db.commit()
        from_summary, scanned = groups(db, admin, catalog, fig.Period("2026-01", "2026-03"))
        db.rollback()
    assert taken == {"accepted", "correction_needed", "supplemented", "completed", "rejected"}  # every move
    assert from_summary == scanned and all(from_summary)


def test_the_migration_backfills_an_existing_halls_rows(tmp_path):
    from alembic import command
    from alembic.config import Config

    from hall.db import MIGRATIONS_DIR, migrate

    url = f"sqlite:///{tmp_path / 'hall.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    command.upgrade(config, "0009_e_certificates")
    engine = make_engine(url)
    try:
        # a hall of that revision wrote these rows: plain sessions (the current hall's bump the
        # fleet generation, a table that revision does not have)
        with sessionmaker(engine)() as db:
            load_fixture(db, rebuild=False)
        migrate(url)
        with make_sessionmaker(engine)() as db:
            assert summary.usable(db, 8)
            backfilled = summary.snapshot(db)
            figures = fig.compute(db, ADMIN, load_hall_catalog(), PERIOD, 8)
            summary.rebuild(db, 8)
            assert summary.snapshot(db) == backfilled
    finally:
        engine.dispose()
    assert (figures.county_total.kiosk, figures.county_total.counter, figures.county_total.finished_online) \
        == (16, 21, 7)
