"""A clerk's inbox: the open applications of their scope, oldest first, with the promised
time limit counting down.

Paginated by keyset (``received_at``, ``id``), never by offset: page 500 costs what page
1 costs, and an application arriving while the clerk reads does not shift the pages.
The index ``ix_applications_inbox`` (county, service_code, status, received_at, id) —
migration 0004 — serves the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from hall.errors import InvalidRequest
from hall.models import Application
from hall.services.catalog import HallCatalog
from hall.services.deadlines import Limit, limit
from hall.services.roles import Scope
from hall.services.status import OPEN

PAGE = 50


@dataclass(frozen=True)
class InboxRow:
    application: Application
    item_name: str
    promised: Limit | None  # None for an item the catalog no longer has
    statutory: Limit | None


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    next_cursor: str  # "" on the last page


def cursor_of(application: Application) -> str:
    return f"{application.received_at.isoformat()}_{application.id}"


def parse_cursor(text: str) -> tuple[datetime, str] | None:
    if not text:
        return None
    moment, _, app_id = text.rpartition("_")
    try:
        return datetime.fromisoformat(moment), app_id[:36]
    except ValueError as exc:
        raise InvalidRequest("not a cursor of this inbox") from exc


def limits(catalog: HallCatalog, application: Application, now: datetime,
           utc_offset_hours: int) -> tuple[Limit | None, Limit | None]:
    item = catalog.item(application.service_code)
    if item is None:
        return None, None
    started = application.accepted_at or application.received_at
    return (limit(catalog.calendar, started, item.promised_days, now, utc_offset_hours),
            limit(catalog.calendar, started, item.statutory_days, now, utc_offset_hours))


def inbox(db: Session, scope: Scope, catalog: HallCatalog, now: datetime, utc_offset_hours: int,
          after: str = "", page: int = PAGE) -> InboxPage:
    query = (select(Application).where(*scope.application_filter(), Application.status.in_(OPEN))
             .order_by(Application.received_at, Application.id).limit(page + 1))
    position = parse_cursor(after)
    if position is not None:
        moment, app_id = position
        query = query.where(or_(Application.received_at > moment,
                                and_(Application.received_at == moment, Application.id > app_id)))
    found = list(db.scalars(query))
    more = len(found) > page
    found = found[:page]
    rows = [InboxRow(a, catalog.item_name(a.service_code), *limits(catalog, a, now, utc_offset_hours))
            for a in found]
    return InboxPage(rows=rows, next_cursor=cursor_of(found[-1]) if more and found else "")
