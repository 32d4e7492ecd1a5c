"""The figures' roll-ups: the monthly summary summed coarser, so that the county's figures page
reads one row per kiosk and month instead of one per kiosk, item and month.

With 200 kiosks and 13 items, six months of ``figures_monthly`` are 15,600 kiosk rows that the
page grouped by kiosk and month, and again by item, on every view (a hash aggregate each:
most of the page's SQL time at 1,000,000 applications). The roll-ups hold those groups:

* ``figures_kiosk_month`` (county, month, kiosk): a kiosk's applications, finished online,
  ≤ 1 visit, no visit, e-certificates and ratings by score, every item summed. "Finished
  online" (completed, and the item is fully online) is counted **at write time** from the
  items in ``figures_rollup_items`` — the catalog's ``fully_online`` when the roll-ups were
  last rebuilt;
* ``figures_item_month`` (county, month, item, channel): the summary without the kiosk (the
  ratings by item and the counter entries), nothing from the catalog.

They change with the summary, in the same transaction and under the same lock
(figures_summary.py's hooks call ``add``), and ``rebuild`` derives them from the summary in
SQL (``county-hall figures rebuild``, migration 0012). When the catalog's fully-online items
are no longer the ones recorded (a catalog changed ``fully_online``), ``in_step`` says so and the
page reads the summary itself, which takes "finished online" from the catalog at read time —
the same numbers, only slower — until the next rebuild.

A clerk's page (her department's items) keeps reading the summary: the roll-ups have no items
per kiosk.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import (
    Connection,
    Insert,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hall.models import (
    FIGURE_SCORES,
    Device,
    FiguresItemMonth,
    FiguresKioskMonth,
    FiguresMonthly,
    FiguresRollupItem,
)

SCORES = FIGURE_SCORES
KIOSK_COUNTS = ("applications", "finished_online", "le1", "zero", "ecert", *SCORES)
ITEM_COUNTS = ("applications", "completed", "le1", "zero", "ecert", *SCORES)
KIOSK_KEY = (FiguresKioskMonth.county, FiguresKioskMonth.month, FiguresKioskMonth.device_id)
ITEM_KEY = (FiguresItemMonth.county, FiguresItemMonth.month, FiguresItemMonth.service_code,
            FiguresItemMonth.channel)

Db = Session | Connection


def _dialect(db: Db) -> str:
    return db.get_bind().dialect.name if isinstance(db, Session) else db.dialect.name


# Built once per table, dialect and set of counted columns, executed with parameters: building
# and compiling the statement anew took 6.6 ms a call on a busy machine, executing it 0.1 ms (and
# an intake runs three of them).
_UPSERTS: dict[tuple, Insert] = {}


def _upsert(dialect: str, model, key: tuple[str, ...], names: tuple[str, ...],
            counted: tuple[str, ...]) -> Insert:
    cache_key = (dialect, model.__tablename__, key, names, counted)
    statement = _UPSERTS.get(cache_key)
    if statement is None:
        upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        insert_ = upsert(model).values({name: bindparam(name) for name in (*key, *names)})
        statement = insert_.on_conflict_do_update(
            index_elements=list(key),
            set_={name: getattr(model, name) + insert_.excluded[name] for name in counted})
        _UPSERTS[cache_key] = statement
    return statement


def upsert_add(db: Db, model, key: dict[str, str], names: tuple[str, ...], counts: dict[str, int]) -> None:
    """``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n`` of ``counts`` into ``model``'s
    row ``key`` (atomic on both backends: two changes at once both count)."""
    statement = _upsert(_dialect(db), model, tuple(key), names, tuple(sorted(counts)))
    conn = db.connection() if isinstance(db, Session) else db  # Core: the ORM's execute costs more
    conn.execute(statement, {**key, **{name: int(counts.get(name, 0)) for name in names}})


def add(db: Db, county: str, month: str, device_id: str, service_code: str, channel: str, kiosk: bool,
        counts: dict[str, int]) -> None:
    """Add what the summary's row just got (``counts``, names of ``ITEM_COUNTS``) to the roll-ups."""
    upsert_add(db, FiguresItemMonth, {"county": county, "month": month, "service_code": service_code,
                                      "channel": channel}, ITEM_COUNTS, counts)
    if not kiosk:
        return
    by_kiosk = {name: n for name, n in counts.items() if name != "completed"}
    if counts.get("completed") and counts_as_finished(db, service_code):
        by_kiosk["finished_online"] = counts["completed"]
    if by_kiosk:
        upsert_add(db, FiguresKioskMonth, {"county": county, "month": month, "device_id": device_id},
                   KIOSK_COUNTS, by_kiosk)


def counts_as_finished(db: Db, service_code: str) -> bool:
    """Whether a completed application of this item counts as finished online in the roll-up."""
    found = db.execute(select(FiguresRollupItem.service_code)
                       .where(FiguresRollupItem.service_code == service_code)).first()
    return found is not None


def recorded_items(db: Db) -> set[str]:
    return set(db.execute(select(FiguresRollupItem.service_code)).scalars())


def in_step(db: Db, fully_online: Iterable[str]) -> bool:
    """Whether ``figures_kiosk_month`` counted "finished online" with these fully-online items."""
    return recorded_items(db) == set(fully_online)


def rebuild(db: Db, fully_online: Iterable[str]) -> tuple[int, int]:
    """Derive both roll-ups from ``figures_monthly`` (which must be current: the caller rebuilt
    it or holds it under the summary's lock) with ``fully_online`` the items whose completed
    applications are finished online. Returns the kiosk and item rows. The caller commits."""
    db.execute(delete(FiguresRollupItem))
    codes = sorted(set(fully_online))
    if codes:
        db.execute(insert(FiguresRollupItem), [{"service_code": code} for code in codes])
    db.execute(delete(FiguresKioskMonth))
    db.execute(delete(FiguresItemMonth))
    s, fully = FiguresMonthly, FiguresRollupItem
    item_keys = [s.county, s.month, s.service_code, s.channel]
    db.execute(insert(FiguresItemMonth).from_select(
        [c.name for c in ITEM_KEY] + list(ITEM_COUNTS),
        select(*item_keys, *(func.sum(getattr(s, name)) for name in ITEM_COUNTS)).group_by(*item_keys)))
    finished = func.sum(case((fully.service_code.is_not(None), s.completed), else_=0))
    kiosk_keys = [s.county, s.month, s.device_id]
    db.execute(insert(FiguresKioskMonth).from_select(
        [c.name for c in KIOSK_KEY] + list(KIOSK_COUNTS),
        select(*kiosk_keys, func.sum(s.applications), finished,
               *(func.sum(getattr(s, name)) for name in ("le1", "zero", "ecert", *SCORES)))
        .select_from(s).outerjoin(fully, fully.service_code == s.service_code)
        .where(s.channel == "kiosk").group_by(*kiosk_keys)))
    count = func.count()
    return (int(db.execute(select(count).select_from(FiguresKioskMonth)).scalar() or 0),
            int(db.execute(select(count).select_from(FiguresItemMonth)).scalar() or 0))


def snapshot(db: Db) -> dict[tuple, tuple[int, ...]]:
    """Every roll-up row without zeros, keyed ("kiosk", county, month, kiosk) or ("item", county,
    month, item, channel), and the fully-online items: for comparisons with a rebuild."""
    out: dict[tuple, tuple[int, ...]] = {}
    for kind, key, names, model in (("kiosk", KIOSK_KEY, KIOSK_COUNTS, FiguresKioskMonth),
                                    ("item", ITEM_KEY, ITEM_COUNTS, FiguresItemMonth)):
        for row in db.execute(select(*key, *(getattr(model, name) for name in names))).all():
            counts = tuple(int(n) for n in row[len(key):])
            if any(counts):
                out[(kind, *row[:len(key)])] = counts
    out[("fully_online",)] = tuple(sorted(recorded_items(db)))  # type: ignore[assignment]
    return out


def read(db: Db, county: str, first: str, last: str) -> list:
    """The county's roll-up rows of months ``first`` … ``last``, in one statement of two index
    ranges, as plain tuples (kind, kiosk or item, month, channel, applications, finished online,
    ≤ 1 visit, no visit, e-certificates, score1 … score5): kind "k" a kiosk's month (channel
    empty), "i" an item's month in a channel (no finished online, visits or e-certificates:
    the page takes those from the catalog)."""
    k, i = FiguresKioskMonth, FiguresItemMonth
    zero = literal_column("0")
    by_kiosk = (select(literal_column("'k'"), k.device_id, k.month, literal_column("''"),
                       *(getattr(k, name) for name in KIOSK_COUNTS))
                .where(k.county == county, k.month >= first, k.month <= last))
    by_item = (select(literal_column("'i'"), i.service_code, i.month, i.channel, i.applications, zero, zero,
                      zero, zero, *(getattr(i, name) for name in SCORES))
               .where(i.county == county, i.month >= first, i.month <= last))
    # Core rows, not the ORM session's: a third of the time for a thousand rows
    conn = db.connection() if isinstance(db, Session) else db
    return list(conn.execute(union_all(by_kiosk, by_item)).all())


def read_totals(db: Db, county: str, first: str, last: str) -> list:
    """What the page shows (no kiosk's month by month: that is in the downloads), grouped in
    the database so that a few hundred rows come back, in one statement: (kind, key, month,
    channel, kiosk name, applications, finished online, ≤ 1 visit, no visit, e-certificates,
    score1 … score5) with kind "K" a kiosk over the months (key the kiosk, with its name), "M"
    a month over the kiosks, "i" an item's month in a channel as ``read`` gives it."""
    k, i = FiguresKioskMonth, FiguresItemMonth
    zero, blank = literal_column("0"), literal_column("''")
    where = (k.county == county, k.month >= first, k.month <= last)
    sums = [func.sum(getattr(k, name)) for name in KIOSK_COUNTS]
    name = func.coalesce(Device.name, "")
    by_kiosk = (select(literal_column("'K'"), k.device_id, blank, blank, name, *sums)
                .select_from(k).outerjoin(Device, Device.id == k.device_id)
                .where(*where).group_by(k.device_id, Device.name))
    by_month = (select(literal_column("'M'"), blank, k.month, blank, blank, *sums)
                .where(*where).group_by(k.month))
    by_item = (select(literal_column("'i'"), i.service_code, i.month, i.channel, blank, i.applications, zero,
                      zero, zero, zero, *(getattr(i, name) for name in SCORES))
               .where(i.county == county, i.month >= first, i.month <= last))
    conn = db.connection() if isinstance(db, Session) else db
    return list(conn.execute(union_all(by_kiosk, by_month, by_item)).all())
