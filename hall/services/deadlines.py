"""Time limits in working days (法定时限 statutory, 承诺时限 promised).

A limit of N working days ends on the N-th working day after the day the clock starts
(that day itself does not count), in the county's local time. Working days are Monday
to Friday, minus the listed holidays, plus the listed weekend workdays (调休), from
``config/holidays.toml``. The clock starts when the application is accepted; before
that, on the day it was received (the kiosk's application is the request to accept).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from kiosk.errors import ConfigError


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date]
    workdays: frozenset[date]

    def is_working(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The day a limit of ``days`` working days started on ``start`` ends."""
        day, left = start, days
        while left > 0:
            day += timedelta(days=1)
            if self.is_working(day):
                left -= 1
        return day

    def working_days_left(self, today: date, due: date) -> int:
        """Working days after ``today`` up to ``due`` (0: due today; negative: overdue by as many)."""
        if due >= today:
            return sum(1 for n in range(1, (due - today).days + 1) if self.is_working(today + timedelta(n)))
        return -sum(1 for n in range(0, (today - due).days) if self.is_working(today - timedelta(n)))


def local_day(moment: datetime, utc_offset_hours: int) -> date:
    return moment.astimezone(timezone(timedelta(hours=utc_offset_hours))).date()


@dataclass(frozen=True)
class Limit:
    due: date
    days_left: int

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def limit(calendar: WorkCalendar, started: datetime, days: int, now: datetime,
          utc_offset_hours: int) -> Limit:
    due = calendar.add_working_days(local_day(started, utc_offset_hours), days)
    return Limit(due=due, days_left=calendar.working_days_left(local_day(now, utc_offset_hours), due))


def _dates(path: Path, data: dict, key: str) -> frozenset[date]:
    values = data.get(key, [])
    if not isinstance(values, list):
        raise ConfigError(f"{path.name}: {key}", "must be a list of dates")
    out = set()
    for value in values:
        try:
            out.add(date.fromisoformat(str(value)))
        except ValueError as exc:
            raise ConfigError(f"{path.name}: {key}", f"{value!r} is not a date") from exc
    return frozenset(out)


def load_calendar(path: Path) -> WorkCalendar:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(path.name, f"cannot be read: {exc}") from exc
    return WorkCalendar(holidays=_dates(path, data, "holidays"), workdays=_dates(path, data, "workdays"))
