"""The figures' monthly summary: what the figures page reads instead of every application.

One row of ``figures_monthly`` per county, local month, kiosk, item and channel holds the
counts the work plan's figures divide: applications, completed ones, those needing at most
one visit and none, those naming an e-certificate, the ratings by score (channel ``kiosk``,
the kiosk's id), and the clerks' counter entries summed (their channel, no kiosk). With 1,000,000 applications
the page reads a few thousand of these rows instead of scanning 250,000 applications.

It can never drift from the rows because it changes in the same transaction as they do:

* ``count_received``: the intake of a kiosk's application (hall/services/applications.py);
* ``count_status``: a status change into or out of ``completed`` (hall/services/status.py);
* ``count_rating``: a villager's rating arrived (hall/services/ratings.py);
* ``count_counter_entry``: a clerk's counter entry (hall/services/figures.py).

Each is one ``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n`` (atomic on both
backends, so two intakes at once both count), and the same into the roll-ups
(figures_rollups.py: per kiosk and month, per item, channel and month). ``rebuild``
recomputes the whole table from the rows, then the roll-ups from it, in one transaction: the
migrations' backfills, ``county-hall figures rebuild``, and the repair tool. It holds the
one row of ``figures_summary_state`` FOR UPDATE while the hooks hold it FOR SHARE
(PostgreSQL; SQLite has one writer anyway), so a change is either seen by the rebuild's
SELECT or added after it, never lost or counted twice.

Local months depend on the hall's ``utc_offset_hours``; the state row records the offset
the summary counts in. The figures page reads the summary only when that offset is the
hall's; otherwise (the setting changed, no rebuild yet) it scans the applications as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, case, delete, exists, func, insert, literal, literal_column, select
from sqlalchemy.orm import Session

from hall.models import (
    FIGURE_SCORES,
    Application,
    ApplicationCertificate,
    CounterApplication,
    FiguresMonthly,
    FiguresRollupItem,
    FiguresSummaryState,
    Rating,
)
from hall.services import figures_rollups
from hall.services.catalog import HallCatalog, load_hall_catalog

KIOSK = "kiosk"  # the channel of a kiosk's applications
STATE_ID = 1
SCORES = FIGURE_SCORES
COUNTS = ("applications", "completed", "le1", "zero", "ecert", *SCORES)
# A rating's time comes from the kiosk: one outside these years (a clock gone wild) is not
# counted, so that no local month needs five digits of year. The same bounds in SQL and Python.
RATED_FROM, RATED_UNTIL = datetime(1900, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)
KEY = (FiguresMonthly.county, FiguresMonthly.month, FiguresMonthly.device_id, FiguresMonthly.service_code,
       FiguresMonthly.channel)

Db = Session | Connection


def _dialect(db: Db) -> str:
    return db.get_bind().dialect.name if isinstance(db, Session) else db.dialect.name


# -- local months in SQL and in Python (the two must agree) ----------------------------------


def local_month(column, dialect: str, utc_offset_hours: int):
    """'YYYY-MM' of a UTC timestamp in the county's local time, in the dialect's words.
    Constants are literal SQL (an int and a fixed format), so the SELECT and the GROUP BY
    render the very same expression."""
    hours = int(utc_offset_hours)
    if dialect == "postgresql":
        shifted = func.timezone(literal_column(f"interval '{hours} hours'"), column)
        return func.to_char(shifted, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), column, literal_column(f"'{hours:+d} hours'"))


def day_month(column, dialect: str):
    if dialect == "postgresql":
        return func.to_char(column, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), column)


def month_of(moment: datetime, utc_offset_hours: int) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(UTC) + timedelta(hours=utc_offset_hours)
    return f"{local.year:04d}-{local.month:02d}"


# -- the state row -----------------------------------------------------------------------------


def summary_offset(db: Db, lock: str = "") -> int | None:
    """The UTC offset the summary counts in, or None when it was never built.
    ``lock``: "share" (a hook) or "update" (a rebuild) on PostgreSQL."""
    query = select(FiguresSummaryState.utc_offset_hours).where(FiguresSummaryState.id == STATE_ID)
    if lock:
        query = query.with_for_update(read=lock == "share")
    return db.execute(query).scalar()


def usable(db: Session, utc_offset_hours: int) -> bool:
    """Whether the figures page may read the summary for this offset."""
    return summary_offset(db) == int(utc_offset_hours)


def readable(db: Session, utc_offset_hours: int, fully_online: set[str]) -> tuple[bool, bool]:
    """``usable``, and whether the roll-ups counted "finished online" with exactly these
    fully-online items (figures_rollups.in_step), in one round trip (on a busy machine each
    costs a wait for the database's turn)."""
    items = FiguresRollupItem
    recorded = select(func.count()).select_from(items).scalar_subquery()
    matching = (select(func.count()).select_from(items)
                .where(items.service_code.in_(sorted(fully_online))).scalar_subquery())
    row = db.connection().execute(select(FiguresSummaryState.utc_offset_hours, recorded, matching)
                                  .where(FiguresSummaryState.id == STATE_ID)).first()
    if row is None or row[0] != int(utc_offset_hours):
        return False, False
    return True, int(row[1]) == int(row[2]) == len(fully_online)


# -- the hooks (each in the caller's transaction; the caller commits) ------------------------------


def _add(db: Session, county: str, month: str, device_id: str, service_code: str, channel: str,
         **counts: int) -> None:
    key = {"county": county, "month": month, "device_id": device_id, "service_code": service_code,
           "channel": channel}
    figures_rollups.upsert_add(db, FiguresMonthly, key, COUNTS, counts)
    figures_rollups.add(db, county, month, device_id, service_code, channel, channel == KIOSK, counts)


def count_received(db: Session, application: Application) -> None:
    """A kiosk's application arrived (call it after its e-certificate links were added)."""
    offset = summary_offset(db, lock="share")  # flushes the application and its links first
    if offset is None:
        return
    linked = exists().where(ApplicationCertificate.application_id == application.id)
    ecert = db.execute(select(linked)).scalar()
    visits = application.visits_needed
    _add(db, application.county, month_of(application.received_at, offset), application.device_id,
         application.service_code, KIOSK, applications=1, completed=int(application.status == "completed"),
         le1=int(visits <= 1), zero=int(visits == 0), ecert=int(bool(ecert)))


def count_status(db: Session, application: Application, new_status: str) -> None:
    """``application`` is about to become ``new_status`` (call it before the change)."""
    delta = int(new_status == "completed") - int(application.status == "completed")
    if not delta:
        return
    offset = summary_offset(db, lock="share")
    if offset is None:
        return
    _add(db, application.county, month_of(application.received_at, offset), application.device_id,
         application.service_code, KIOSK, completed=delta)


def count_rating(db: Session, rating: Rating) -> None:
    rated_at = rating.rated_at if rating.rated_at.tzinfo else rating.rated_at.replace(tzinfo=UTC)
    if not RATED_FROM <= rated_at < RATED_UNTIL:
        return
    offset = summary_offset(db, lock="share")
    if offset is None:
        return
    _add(db, rating.county, month_of(rated_at, offset), rating.device_id, rating.service_code, KIOSK,
         **{SCORES[rating.score - 1]: 1})


def count_counter_entry(db: Session, entry: CounterApplication) -> None:
    if summary_offset(db, lock="share") is None:
        return
    _add(db, entry.county, entry.day.strftime("%Y-%m"), "", entry.service_code, entry.channel,
         applications=entry.count)


# -- the rebuild -----------------------------------------------------------------------------------


def rebuild(db: Db, utc_offset_hours: int, now: datetime | None = None,
            fully_online: Iterable[str] | None = None) -> tuple[int, int, int]:
    """Recompute the summary from the rows in local months of ``utc_offset_hours``, then its
    roll-ups (figures_rollups.py) from it with ``fully_online`` the catalog's fully-online items
    (by default the hall's catalog). Returns how many summary, kiosk-month and item-month rows
    there are now. The caller commits."""
    rows = rebuild_monthly(db, utc_offset_hours, now)
    if fully_online is None:
        fully_online = fully_online_codes(load_hall_catalog())
    return (rows, *figures_rollups.rebuild(db, fully_online))


def rebuild_rollups(db: Db, fully_online: Iterable[str] | None = None) -> tuple[int, int]:
    """Only the roll-ups, from the summary as it is (after a catalog changed an item's
    ``fully_online``: seconds, where the whole rebuild reads every application). Holds the state
    row FOR UPDATE like ``rebuild``, so no hook adds to the summary meanwhile. The caller commits."""
    if summary_offset(db, lock="update") is None:
        return 0, 0  # never built: nothing to derive them from (the hooks do not count yet either)
    if fully_online is None:
        fully_online = fully_online_codes(load_hall_catalog())
    return figures_rollups.rebuild(db, fully_online)


def fully_online_codes(catalog: HallCatalog) -> set[str]:
    return {item.code for item in catalog.catalog.items() if item.fully_online}


def rebuild_monthly(db: Db, utc_offset_hours: int, now: datetime | None = None) -> int:
    """``figures_monthly`` alone (what migration 0011 backfills: the roll-ups came in 0012);
    returns how many rows it holds now. Takes the state row FOR UPDATE. The caller commits."""
    dialect = _dialect(db)
    now = now or datetime.now(UTC)
    if summary_offset(db, lock="update") is None:
        db.execute(insert(FiguresSummaryState).values(id=STATE_ID, utc_offset_hours=int(utc_offset_hours),
                                                      rebuilt_at=now))
    db.execute(delete(FiguresMonthly))
    a = Application
    month = local_month(a.received_at, dialect, utc_offset_hours)
    used = select(ApplicationCertificate.application_id).distinct().subquery()

    def counted(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    def row(county, when, device_id, code, *counts):  # labelled, so the UNION's columns have names
        names = ("county", "month", "device_id", "service_code", *COUNTS)
        return [value.label(name) for value, name in zip((county, when, device_id, code, *counts), names,
                                                         strict=True)]

    kiosk = (select(*row(a.county, month, a.device_id, a.service_code, func.count(),
                         counted(a.status == "completed"), counted(a.visits_needed <= 1),
                         counted(a.visits_needed == 0), counted(used.c.application_id.is_not(None)),
                         *([literal(0)] * len(SCORES))))
             .select_from(a).outerjoin(used, used.c.application_id == a.id)
             .group_by(a.county, month, a.device_id, a.service_code))
    r = Rating
    r_month = local_month(r.rated_at, dialect, utc_offset_hours)
    rated = (select(*row(r.county, r_month, r.device_id, r.service_code, *([literal(0)] * 5),
                         *(counted(r.score == score) for score in range(1, 6))))
             .where(r.rated_at >= RATED_FROM, r.rated_at < RATED_UNTIL)
             .group_by(r.county, r_month, r.device_id, r.service_code))
    both = kiosk.union_all(rated).subquery()
    keys = [both.c.county, both.c.month, both.c.device_id, both.c.service_code]
    kiosk_and_ratings = (select(*keys, literal(KIOSK), *(func.sum(both.c[name]) for name in COUNTS))
                         .group_by(*keys))
    c = CounterApplication
    c_month = day_month(c.day, dialect)
    counter = (select(c.county, c_month, literal(""), c.service_code, c.channel, func.sum(c.count),
                      *([literal(0)] * (len(COUNTS) - 1)))
               .group_by(c.county, c_month, c.service_code, c.channel))
    columns = [column.name for column in KEY] + list(COUNTS)
    db.execute(insert(FiguresMonthly).from_select(columns, kiosk_and_ratings))
    db.execute(insert(FiguresMonthly).from_select(columns, counter))
    db.execute(FiguresSummaryState.__table__.update().where(FiguresSummaryState.id == STATE_ID)
               .values(utc_offset_hours=int(utc_offset_hours), rebuilt_at=now))
    return int(db.execute(select(func.count()).select_from(FiguresMonthly)).scalar() or 0)


def snapshot(db: Db) -> dict[tuple, tuple[int, ...]]:
    """Every summary and roll-up row without zeros (a row can fall back to all zeros), for
    comparisons."""
    rows = db.execute(select(*KEY, *(getattr(FiguresMonthly, name) for name in COUNTS))).all()
    found = {tuple(row[:5]): tuple(int(n) for n in row[5:]) for row in rows if any(row[5:])}
    return {**found, **figures_rollups.snapshot(db)}

