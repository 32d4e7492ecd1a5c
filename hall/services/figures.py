"""The work plan's figures for a county, each kiosk and each month, computed by SQL.

The county's page reads the **roll-ups** (hall/services/figures_rollups.py): the monthly
summary summed per kiosk and month and per item, channel and month, each kiosk's and each
month's total grouped in the database — a few hundred rows, however many applications and
items there are (``_rolled``). A clerk's page (some items), and the county's while the
roll-ups counted "finished online" with other fully-online items than the catalog's, read the
**monthly summary** (``figures_monthly``, hall/services/figures_summary.py) itself: the counts
per county, local month, kiosk, item and channel that the intake, the status changes and the
counter entries keep in their own transactions, a range of its primary key grouped by kiosk
and month in the database (``_summed``). When the summary counts in another UTC offset than the hall's
(``utc_offset_hours`` changed and nobody ran ``county-hall figures rebuild``), the same
groups come from the rows themselves (``_scanned``: one ``UNION ALL`` branch a month over
``ix_applications_figures``, migration 0008) — correct, only slower. Python only adds up the
few groups it gets back, never application rows. Ratings are grouped from their own table.

What the hall knows and what it does not (the page says the same):

* a kiosk's application is an online application (the plan counts kiosk applications as
  online); it needs the visits it recorded (``visits_needed``, from the item's standard data);
  it is *finished online* when it is completed and its item is fully online (catalog);
* applications made elsewhere are **counter entries** that clerks record (item, day,
  channel, how many): ``counter`` (the county window) is offline, ``web`` and ``mobile`` are
  online and need the visits the catalog gives for their item. The hall does not learn how
  they end, so they count in the denominators of the completion rate, never its numerator;
* the item rates (fully online, mobile-capable) are properties of the catalog: every kiosk
  offers the whole catalog, so they are the same for every kiosk and month;
* e-certificates in use: applications that name at least one e-certificate, read from the
  table ``application_certificates`` (application_id, certificate_id …) that issue 12 part 4
  adds; while a hall's schema has no such table the figure is "not yet recorded".

A clerk sees the figures of their department's items only (the same ``Scope`` as the
inbox); a technician sees none.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    column,
    false,
    func,
    inspect,
    literal_column,
    select,
    table,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from hall.errors import InvalidRequest
from hall.models import Application, CounterApplication, Device, FiguresMonthly, Rating
from hall.services import figures_rollups
from hall.services import figures_summary as summary
from hall.services.catalog import HallCatalog
from hall.services.figures_summary import KIOSK, day_month, local_month
from hall.services.roles import CLERK, Scope
from hall.timeutil import Clock, system_clock, to_datetime

CHANNELS = {"counter": "窗口 County window", "web": "网上办事大厅 Web hall", "mobile": "手机 Phone"}
ONLINE_CHANNELS = ("web", "mobile")
MAX_COUNT = 100_000  # one entry; a bigger number is a typing slip
MAX_MONTHS = 36
SCORE_LABELS = {5: "非常满意 Very satisfied", 4: "满意 Satisfied", 3: "基本满意 Mostly satisfied",
                2: "不满意 Unsatisfied", 1: "非常不满意 Very unsatisfied"}
REASON_LABELS = {"slow": "等太久 Too slow", "hard_to_use": "机器不好用 Hard to use",
                 "unclear": "看不懂说明 Unclear", "device_problem": "机器出故障 Kiosk fault",
                 "staff": "没人帮忙 No one helped", "other": "其他 Other"}
RECENT_UNHAPPY = 10
WORK_MEM_MB = 64


@dataclass(frozen=True)
class FigureDef:
    key: str
    name: str
    definition: str  # the plan's annex, in its words (shown next to the figure)
    target: float | None  # the county target of the plan, as a share


FIGURE_DEFS = (
    FigureDef("full_online_items", "网上全流程办理率 Items handled fully online",
              "可全流程网上办理的事项数 / 进驻网上办事大厅的事项数。"
              "Items that can be handled fully online / items in the hall (from the catalog).", 0.35),
    FigureDef("online_rate", "上网办理率 Applications made online",
              "网上申办的办件数 / 全部办件数（终端申请计为网上申办）。"
              "Applications submitted online / all applications (a kiosk application is online).", 0.35),
    FigureDef("finished_rate", "网上办结率 Finished online",
              "全流程网上办理并办结的办件数 / 全部办件数。"
              "Applications handled fully online and completed / all applications.", 0.30),
    FigureDef("le1_rate", "最多跑一次 At most one visit",
              "到现场不超过一次的办件数 / 网上申办的办件数。"
              "Applications needing at most one on-site visit / online applications.", 0.50),
    FigureDef("zero_rate", "零跑动 Zero visits",
              "不需到现场的办件数 / 网上申办的办件数。"
              "Applications needing no on-site visit / online applications.", 0.05),
    FigureDef("mobile_items", "移动端可办 Mobile-capable items",
              "可在手机上办理的个人事项数 / 个人事项数（另列手机申办的办件数）。"
              "Items for individuals that can be handled on a phone / items for individuals "
              "(applications made on a phone are counted beside it).", 0.20),
    FigureDef("ecert", "电子证照应用 E-certificates in use",
              "引用电子证照的办件数。Applications that used an e-certificate instead of a paper copy.", None),
)
ECERT_NOT_RECORDED = ("尚未记录：本大厅的数据库还没有电子证照引用。Not yet recorded: this hall's database "
                      "does not link applications to e-certificates yet.")


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Tally:
    """The raw counts of one group (the county or one kiosk; one month or the whole period)."""

    kiosk: int = 0  # applications from kiosks
    counter: int = 0  # entries recorded by clerks, every channel
    counter_online: int = 0  # of which web or mobile
    mobile: int = 0  # of which mobile
    finished_online: int = 0
    le1: int = 0
    zero: int = 0
    ecert: int = 0  # applications that used an e-certificate

    def add(self, other: Tally) -> None:
        # field by field, not a loop over the fields: a page adds a few thousand tallies
        self.kiosk += other.kiosk
        self.counter += other.counter
        self.counter_online += other.counter_online
        self.mobile += other.mobile
        self.finished_online += other.finished_online
        self.le1 += other.le1
        self.zero += other.zero
        self.ecert += other.ecert

    @property
    def total(self) -> int:
        return self.kiosk + self.counter

    @property
    def online(self) -> int:
        return self.kiosk + self.counter_online

    def rates(self) -> dict[str, float | None]:
        return {"online_rate": share(self.online, self.total),
                "finished_rate": share(self.finished_online, self.total),
                "le1_rate": share(self.le1, self.online),
                "zero_rate": share(self.zero, self.online),
                "mobile_share": share(self.mobile, self.total)}


@dataclass(frozen=True)
class Period:
    first: str  # "YYYY-MM", local months, both included
    last: str

    @property
    def months(self) -> list[str]:
        year, month = map(int, self.first.split("-"))
        out = []
        while f"{year:04d}-{month:02d}" <= self.last:
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def first_day(self) -> date:
        return date.fromisoformat(self.first + "-01")

    def end_day(self) -> date:
        """The day after the period (exclusive end)."""
        year, month = map(int, self.last.split("-"))
        return date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)

    def month_bounds(self, utc_offset_hours: int) -> list[tuple[str, datetime, datetime]]:
        """Each month of the period ("YYYY-MM") with its UTC start and end."""
        return [(month, *Period(month, month).utc_bounds(utc_offset_hours)) for month in self.months]

    def utc_bounds(self, utc_offset_hours: int) -> tuple[datetime, datetime]:
        shift = timedelta(hours=utc_offset_hours)
        start = datetime.combine(self.first_day(), datetime.min.time(), UTC) - shift
        return start, datetime.combine(self.end_day(), datetime.min.time(), UTC) - shift


def parse_period(first: str, last: str, today: date, default_months: int = 6) -> Period:
    """The period a page asked for ("YYYY-MM" each), or the last ``default_months`` months."""
    if not first and not last:
        year, month = today.year, today.month - (default_months - 1)
        while month < 1:
            year, month = year - 1, month + 12
        return Period(f"{year:04d}-{month:02d}", f"{today.year:04d}-{today.month:02d}")
    try:
        start = date.fromisoformat((first or last)[:7] + "-01")
        end = date.fromisoformat((last or first)[:7] + "-01")
    except ValueError as exc:
        raise InvalidRequest("月份格式为 2026-01 Months are written 2026-01") from exc
    if end < start:
        start, end = end, start
    period = Period(start.isoformat()[:7], end.isoformat()[:7])
    if len(period.months) > MAX_MONTHS:
        raise InvalidRequest(f"最多 {MAX_MONTHS} 个月 At most {MAX_MONTHS} months at once")
    return period


@dataclass(frozen=True)
class RatingRow:
    key: str  # item code or device id
    label: str
    count: int
    by_score: dict[int, int]

    def share_of(self, score: int) -> float | None:
        return share(self.by_score.get(score, 0), self.count)


@dataclass(frozen=True)
class UnhappyReason:
    rated_at: datetime
    item: str
    kiosk: str
    score: int
    reason: str


@dataclass
class Figures:
    county: str
    period: Period
    items: int  # catalog items in scope
    full_online_items: int
    mobile_items: int
    county_by_month: dict[str, Tally]
    county_total: Tally
    kiosks: dict[str, str]  # device id -> name, for every kiosk with an application in the period
    kiosk_by_month: dict[str, dict[str, Tally]]
    kiosk_total: dict[str, Tally]
    ratings_by_item: list[RatingRow] = field(default_factory=list)
    ratings_by_kiosk: list[RatingRow] = field(default_factory=list)
    unhappy: list[UnhappyReason] = field(default_factory=list)
    ecert_recorded: bool = False  # whether the hall's schema records e-certificate use at all

    @property
    def full_online_rate(self) -> float | None:
        return share(self.full_online_items, self.items)

    @property
    def mobile_items_rate(self) -> float | None:
        return share(self.mobile_items, self.items)


# -- SQL pieces ------------------------------------------------------------------------------


def _codes_in(codes_column, codes: set[str]) -> ColumnElement[bool]:
    return codes_column.in_(sorted(codes)) if codes else false()


# Written by the e-certificate intake (issue 12 part 4); named here, not imported, so that the
# figures work on a schema with or without it.
APPLICATION_CERTIFICATES = table("application_certificates", column("application_id"))


# Engines whose schema was seen to have the table (a table is not dropped under a running hall):
# the page then skips the catalog query each view.
_RECORDS_ECERTIFICATES: weakref.WeakSet = weakref.WeakSet()


def records_ecertificates(db: Session) -> bool:
    engine = db.get_bind()
    if engine in _RECORDS_ECERTIFICATES:
        return True
    # the session's own connection: a second one would queue behind this transaction's lock (SQLite)
    found = inspect(db.connection()).has_table("application_certificates")
    if found:
        _RECORDS_ECERTIFICATES.add(engine)
    return found


def counter_filter(scope: Scope) -> list[ColumnElement[bool]]:
    """WHERE conditions for the counter entries this user may see (the applications' scope)."""
    if not scope.sees_applications:
        return [false()]
    conditions: list[ColumnElement[bool]] = [CounterApplication.county == scope.county]
    if scope.role == CLERK:
        conditions.append(_codes_in(CounterApplication.service_code, set(scope.item_codes)))
    return conditions


def rating_filter(scope: Scope) -> list[ColumnElement[bool]]:
    if not scope.sees_applications:
        return [false()]
    conditions: list[ColumnElement[bool]] = [Rating.county == scope.county]
    if scope.role == CLERK:
        conditions.append(_codes_in(Rating.service_code, set(scope.item_codes)))
    return conditions


def _scope_items(catalog: HallCatalog, scope: Scope):
    items = catalog.catalog.items()
    if scope.role == CLERK:
        return [i for i in items if i.code in scope.item_codes]
    return list(items)


# -- the figures -------------------------------------------------------------------------------


def compute(db: Session, scope: Scope, catalog: HallCatalog, period: Period,
            utc_offset_hours: int, with_ratings: bool = True, kiosk_months: bool = True) -> Figures:
    """``kiosk_months``: also each kiosk month by month (``kiosk_by_month``: the downloads); the
    page shows only each kiosk's total, which the roll-ups group in the database."""
    scope.require(scope.sees_applications)
    items = _scope_items(catalog, scope)
    fully = {i.code for i in items if i.fully_online}
    le1 = {i.code for i in items if i.visits_needed <= 1}
    zero = {i.code for i in items if i.visits_needed == 0}
    recorded = records_ecertificates(db)
    summed = None
    usable, in_step = summary.readable(db, utc_offset_hours, fully)
    if usable:
        # the county's page from the roll-ups (a row per kiosk and month) while they counted
        # "finished online" with this catalog; a clerk's (some items) from the summary itself
        summed = (_rolled(db, scope, period, le1, zero, kiosk_months) if in_step and scope.role != CLERK
                  else _summed(db, scope, period, fully, le1, zero))
    if summed is not None:
        app_rows, counter_rows, ecert_rows = summed.app_rows, summed.counter_rows, summed.ecert_rows
    else:  # the summary counts in another offset (the setting changed, no rebuild yet): scan
        app_rows, counter_rows, ecert_rows = _scanned(db, scope, period, utc_offset_hours, fully, le1, zero,
                                                      recorded)
    county_by_month = {m: Tally() for m in period.months}
    kiosk_by_month: dict[str, dict[str, Tally]] = defaultdict(dict)
    kiosk_total: dict[str, Tally] = defaultdict(Tally)
    for device_id, count, done, at_most_one, none, ecert in summed.kiosk_totals if summed else ():
        if count or ecert:
            kiosk_total[device_id] = Tally(kiosk=count, finished_online=done, le1=at_most_one, zero=none,
                                           ecert=ecert)
    for when, count, done, at_most_one, none, ecert in summed.month_totals if summed else ():
        county_by_month.setdefault(when, Tally()).add(
            Tally(kiosk=count, finished_online=done, le1=at_most_one, zero=none, ecert=ecert))
    for device_id, when, count, done, at_most_one, none in app_rows:
        tally = Tally(kiosk=int(count), finished_online=int(done or 0), le1=int(at_most_one or 0),
                      zero=int(none or 0))
        kiosk_by_month[device_id][when] = tally
        kiosk_total[device_id].add(tally)
        county_by_month.setdefault(when, Tally()).add(tally)
    for device_id, when, count in ecert_rows:
        extra = Tally(ecert=int(count))
        kiosk_by_month[device_id].setdefault(when, Tally()).add(extra)
        kiosk_total[device_id].add(extra)
        county_by_month.setdefault(when, Tally()).add(extra)
    for when, count, count_online, mobile, at_most_one, none in counter_rows:
        county_by_month.setdefault(when, Tally()).add(
            Tally(counter=int(count or 0), counter_online=int(count_online or 0), mobile=int(mobile or 0),
                  le1=int(at_most_one or 0), zero=int(none or 0)))
    county_total = Tally()
    for tally in county_by_month.values():
        county_total.add(tally)

    names = summed.names if summed and summed.names is not None else _kiosk_names(db, scope.county)
    figures = Figures(
        county=scope.county, period=period, items=len(items),
        full_online_items=len(fully), mobile_items=sum(1 for i in items if i.mobile_capable),
        county_by_month=dict(sorted(county_by_month.items())), county_total=county_total,
        kiosks={d: names.get(d) or d for d in sorted(kiosk_total)},
        kiosk_by_month=dict(kiosk_by_month), kiosk_total=dict(kiosk_total), ecert_recorded=recorded)
    if with_ratings:
        _add_ratings(db, scope, catalog, period, utc_offset_hours, figures, summed, names)
    return figures


def _kiosk_names(db: Session, county: str) -> dict[str, str]:
    """Every kiosk's name in the county (one query however many kiosks the page lists; a list
    of 200 ids as bound parameters cost more to compile than the rows)."""
    return dict(db.connection().execute(select(Device.id, Device.name).where(Device.county == county)).all())


@dataclass
class SummedGroups:
    """What the page needs from the summary, from one statement."""

    app_rows: list  # (kiosk, month, applications, finished online, ≤ 1 visit, no visit)
    counter_rows: list  # (month, entries, online, mobile, ≤ 1 visit, no visit)
    ecert_rows: list  # (kiosk, month, applications naming an e-certificate)
    ratings_by_item: dict[str, dict[int, int]]
    ratings_by_kiosk: dict[str, dict[int, int]]
    # or, for the page from the roll-ups, the groups it shows (app_rows and ecert_rows empty):
    kiosk_totals: list = field(default_factory=list)  # (kiosk, applications, finished, ≤ 1, none, ecert)
    month_totals: list = field(default_factory=list)  # (month, the same)
    names: dict[str, str] | None = None  # the kiosks' names, read with them


def _summed(db: Session, scope: Scope, period: Period, fully: set[str], le1: set[str],
            zero: set[str]) -> SummedGroups:
    """The same groups as ``_scanned`` and ``_rating_groups``, read from the monthly summary
    (figures_summary.py) in one statement of three ranges of its primary key (county, month …;
    a few rows per kiosk, item and month): kiosk x month with the ratings' scores (summed
    per kiosk here), counter entries by month, ratings by item. (One CTE read once and grouped
    three ways was slower on PostgreSQL: it cannot estimate a CTE's rows and sorts instead of
    hashing.)"""
    s = FiguresMonthly
    where = _summary_where(scope, period)
    kiosk, online = s.channel == KIOSK, s.channel.in_(ONLINE_CHANNELS)
    blank = literal_column("''")

    def total(value, when=None):
        return func.sum(value if when is None else case((when, value), else_=0))

    scores = [total(getattr(s, name)) for name in summary.SCORES]
    groups = union_all(
        select(literal_column("'k'"), s.device_id, s.month, total(s.applications),
               total(s.completed, _codes_in(s.service_code, fully)), total(s.le1), total(s.zero),
               total(s.ecert), *scores).where(*where, kiosk).group_by(s.device_id, s.month),
        select(literal_column("'c'"), blank, s.month, total(s.applications), total(s.applications, online),
               total(s.applications, s.channel == "mobile"),
               total(s.applications, and_(online, _codes_in(s.service_code, le1))),
               total(s.applications, and_(online, _codes_in(s.service_code, zero))),
               *([literal_column("0")] * len(scores)))
        .where(*where, s.channel.in_(tuple(CHANNELS))).group_by(s.month),  # a range, not every row
        select(literal_column("'i'"), s.service_code, blank, *([literal_column("0")] * 5), *scores)
        .where(*where, kiosk).group_by(s.service_code))
    found = SummedGroups([], [], [], {}, {})
    for kind, key, month, *counts in db.connection().execute(groups).all():  # Core rows: cheaper
        numbers = [int(n or 0) for n in counts]
        values, rated = numbers[:5], numbers[5:]
        if kind == "k":
            if values[0]:
                found.app_rows.append((key, month, *values[:4]))
            if values[4]:
                found.ecert_rows.append((key, month, values[4]))
            if any(rated):
                by_score = found.ratings_by_kiosk.setdefault(key, {})
                for score, n in enumerate(rated, 1):
                    if n:
                        by_score[score] = by_score.get(score, 0) + n
        elif kind == "c":
            found.counter_rows.append((month, *values))
        elif any(rated):
            found.ratings_by_item[key] = {score: n for score, n in enumerate(rated, 1) if n}
    return found


def _rolled(db: Session, scope: Scope, period: Period, le1: set[str], zero: set[str],
            kiosk_months: bool = True) -> SummedGroups:
    """The same groups as ``_summed`` for the whole county, from the roll-ups
    (figures_rollups.py) in one statement of index ranges: a row per kiosk and month
    (``kiosk_months``) or, for the page, per kiosk and per month grouped in the database; and
    per item, channel and month. Plain tuples added up here."""
    found = SummedGroups([], [], [], {}, {})
    if kiosk_months:
        rows = figures_rollups.read(db, scope.county, period.first, period.last)
    else:
        found.names = {}
        rows = figures_rollups.read_totals(db, scope.county, period.first, period.last)
    counter: dict[str, list[int]] = {}
    for kind, key, month, channel, *rest in rows:
        if kind == "K":  # a kiosk over the period, with its name
            name, count, finished, at_most_one, none, ecert, *rated = rest
            found.kiosk_totals.append((key, count, finished, at_most_one, none, ecert))
            found.names[key] = name  # type: ignore[index]
        else:
            count, finished, at_most_one, none, ecert, *rated = rest[-10:]
        if kind == "M":
            found.month_totals.append((month, count, finished, at_most_one, none, ecert))
            continue
        if kind == "k":
            if count:
                found.app_rows.append((key, month, count, finished, at_most_one, none))
            if ecert:
                found.ecert_rows.append((key, month, ecert))
        elif kind == "i" and channel != KIOSK:  # counter entries: online, mobile, visits from the catalog
            if count:
                online = channel in ONLINE_CHANNELS
                sums = counter.setdefault(month, [0, 0, 0, 0, 0])
                sums[0] += count
                if online:
                    sums[1] += count
                    sums[2] += count if channel == "mobile" else 0
                    sums[3] += count if key in le1 else 0
                    sums[4] += count if key in zero else 0
            continue
        if any(rated):  # a kiosk's ratings (kind "k" or "K"), or an item's at the kiosks ("i")
            groups = found.ratings_by_item if kind == "i" else found.ratings_by_kiosk
            by_score = groups.setdefault(key, {})
            for score, n in enumerate(rated, 1):
                if n:
                    by_score[score] = by_score.get(score, 0) + n
    found.counter_rows = [(month, *sums) for month, sums in sorted(counter.items())]
    return found


def _scanned(db: Session, scope: Scope, period: Period, utc_offset_hours: int, fully: set[str], le1: set[str],
             zero: set[str], recorded: bool) -> tuple[list, list, list]:
    """The figures' groups from the applications and counter entries themselves (every row of
    the period): the reference the summary is tested against, and the fallback."""
    dialect = db.get_bind().dialect.name
    start, end = period.utc_bounds(utc_offset_hours)
    if dialect == "postgresql":
        # PostgreSQL cannot estimate how many kiosk x month groups there are and, with the
        # default 4 MB, sorts a year's applications on disk to group them (3.8 s for 250,000
        # rows on a busy machine): room to hash them instead, for this transaction only.
        db.execute(text(f"SET LOCAL work_mem = '{WORK_MEM_MB}MB'"))

    # One branch per month, each an index range with its month as a constant: cheaper than
    # computing every row's local month (a third less time at 200,000 rows, benchmarks/figures.py).
    finished = and_(Application.status == "completed", _codes_in(Application.service_code, fully))
    branches = [
        select(Application.device_id, literal_column(f"'{label}'").label("month"), func.count(),
               func.sum(case((finished, 1), else_=0)),
               func.sum(case((Application.visits_needed <= 1, 1), else_=0)),
               func.sum(case((Application.visits_needed == 0, 1), else_=0)))
        .where(*scope.application_filter(), Application.received_at >= month_start,
               Application.received_at < month_end)
        .group_by(Application.device_id)
        for label, month_start, month_end in period.month_bounds(utc_offset_hours)]
    app_rows = db.execute(branches[0] if len(branches) == 1 else union_all(*branches)).all()
    month = local_month(Application.received_at, dialect, utc_offset_hours).label("month")

    c = CounterApplication
    c_month = day_month(c.day, dialect).label("month")
    online = c.channel.in_(ONLINE_CHANNELS)

    def summed(condition):
        return func.sum(case((condition, c.count), else_=0))

    counter_rows = db.execute(
        select(c_month, func.sum(c.count), summed(online), summed(c.channel == "mobile"),
               summed(and_(online, _codes_in(c.service_code, le1))),
               summed(and_(online, _codes_in(c.service_code, zero))))
        .where(*counter_filter(scope), c.day >= period.first_day(), c.day < period.end_day())
        .group_by(c_month)).all()

    ecert_rows: list = []
    if recorded:
        used = APPLICATION_CERTIFICATES.c.application_id
        ecert_rows = list(db.execute(
            select(Application.device_id, month, func.count(func.distinct(Application.id)))
            .join(APPLICATION_CERTIFICATES, used == Application.id)
            .where(*scope.application_filter(), Application.received_at >= start,
                   Application.received_at < end)
            .group_by(Application.device_id, month)).all())

    return app_rows, counter_rows, ecert_rows


def _summary_where(scope: Scope, period: Period) -> list[ColumnElement[bool]]:
    s = FiguresMonthly
    where = [s.county == scope.county, s.month >= period.first, s.month <= period.last]
    if scope.role == CLERK:
        where.append(_codes_in(s.service_code, set(scope.item_codes)))
    return where


def _rating_groups(db: Session, scope: Scope, period: Period, utc_offset_hours: int,
                   by: str) -> dict[str, dict[int, int]]:
    """How many ratings of each score per item (``by`` "item") or kiosk ("kiosk"), grouped from
    the ratings themselves (when the summary is not usable)."""
    out: dict[str, dict[int, int]] = defaultdict(dict)
    start, end = period.utc_bounds(utc_offset_hours)
    column = Rating.service_code if by == "item" else Rating.device_id
    for group, score, count in db.execute(
            select(column, Rating.score, func.count())
            .where(*rating_filter(scope), Rating.rated_at >= start, Rating.rated_at < end)
            .group_by(column, Rating.score)).all():
        out[group][int(score)] = int(count)
    return out


def _add_ratings(db: Session, scope: Scope, catalog: HallCatalog, period: Period, utc_offset_hours: int,
                 figures: Figures, summed: SummedGroups | None, names: dict[str, str]) -> None:
    """Counts by item and by kiosk x score; the latest unhappy reasons from the ratings
    themselves (newest first along ix_ratings_county_rated, ten rows)."""
    start, end = period.utc_bounds(utc_offset_hours)
    where = [*rating_filter(scope), Rating.rated_at >= start, Rating.rated_at < end]

    def grouped(by: str) -> dict[str, dict[int, int]]:
        if summed is not None:
            return summed.ratings_by_item if by == "item" else summed.ratings_by_kiosk
        return _rating_groups(db, scope, period, utc_offset_hours, by)

    def rows(groups: dict[str, dict[int, int]], label) -> list[RatingRow]:
        found = [RatingRow(key, label(key), sum(scores.values()), scores) for key, scores in groups.items()]
        return sorted(found, key=lambda row: (-row.count, row.key))

    by_kiosk = grouped("kiosk")
    figures.ratings_by_item = rows(grouped("item"), catalog.item_name)
    figures.ratings_by_kiosk = rows(by_kiosk, lambda d: names.get(d) or d)
    unhappy = db.connection().execute(  # Core rows: the ORM's cost more than the ten rows
        select(Rating.rated_at, Rating.service_code, Rating.device_id, Rating.score, Rating.reason)
        .where(*where, Rating.score <= 2, Rating.reason != "")
        .order_by(Rating.rated_at.desc(), Rating.id).limit(RECENT_UNHAPPY)).all()
    figures.unhappy = [UnhappyReason(at, catalog.item_name(code), names.get(d) or d, int(score),
                                     REASON_LABELS.get(reason, reason))
                       for at, code, d, score, reason in unhappy]


# -- counter entries ---------------------------------------------------------------------------


def record_counter(db: Session, scope: Scope, catalog: HallCatalog, service_code: str, day_text: str,
                   channel: str, count_text: str, actor: str, utc_offset_hours: int,
                   clock: Clock = system_clock) -> CounterApplication:
    """Record one counter entry; ``InvalidRequest`` (a plain bilingual message) for bad input."""
    scope.require(scope.processes_applications)
    if catalog.item(service_code) is None or (scope.role == CLERK and service_code not in scope.item_codes):
        raise InvalidRequest("请选一个本部门的事项 Choose one of your department's items")
    if channel not in CHANNELS:
        raise InvalidRequest("请选办理渠道 Choose how it was applied for")
    try:
        day = date.fromisoformat(day_text.strip())
    except ValueError as exc:
        raise InvalidRequest("日期格式为 2026-01-31 Dates are written 2026-01-31") from exc
    today = (to_datetime(clock()) + timedelta(hours=utc_offset_hours)).date()
    if day > today or day.year < 2000:
        raise InvalidRequest("日期不能在今天之后 The date cannot be after today")
    try:
        count = int(count_text.strip())
    except ValueError as exc:
        raise InvalidRequest("件数请写数字 Write the number of applications in digits") from exc
    if not 1 <= count <= MAX_COUNT:
        raise InvalidRequest(f"件数在 1 到 {MAX_COUNT} 之间 Between 1 and {MAX_COUNT} applications")
    entry = CounterApplication(county=scope.county, service_code=service_code, day=day, channel=channel,
                               count=count, recorded_by=actor, recorded_at=to_datetime(clock()))
    db.add(entry)
    summary.count_counter_entry(db, entry)
    db.commit()
    return entry


def recent_counter_entries(db: Session, scope: Scope, limit: int = 20) -> list[CounterApplication]:
    return list(db.scalars(select(CounterApplication).where(*counter_filter(scope))
                           .order_by(CounterApplication.id.desc()).limit(limit)))
