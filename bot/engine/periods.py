"""ISO weeks and calendar months in a team's time zone, as UTC instants for database ranges.

Weekly metrics are sums of events between local Monday 00:00 and the next Monday 00:00 in the team's
zone (DESIGN.md "Activity and metrics"); the database stores UTC, so every range is converted here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

PeriodKind = Literal["week", "month"]
_WEEK = re.compile(r"^\s*(\d{4})\s*-?\s*[wW]\s*(\d{1,2})\s*$")
_MONTH = re.compile(r"^\s*(\d{4})\s*-\s*(\d{1,2})\s*$")


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    first_day: date  # local, inclusive
    last_day: date  # local, inclusive
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    tz: str

    @property
    def label(self) -> str:
        """2026-W48 for a week, 2026-11 for a month."""
        if self.kind == "week":
            year, week, _ = self.first_day.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first_day.year}-{self.first_day.month:02d}"

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def shift(self, n: int) -> Period:
        """The period n weeks/months later (negative: earlier)."""
        if self.kind == "week":
            return week_of_day(self.first_day + timedelta(weeks=n), self.tz)
        month_index = self.first_day.year * 12 + self.first_day.month - 1 + n
        return month_of(month_index // 12, month_index % 12 + 1, self.tz)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def elapsed_days(self, now: datetime) -> int:
        """Days of the period up to and including today (all of them for a past period)."""
        today = now.astimezone(ZoneInfo(self.tz)).date()
        if today > self.last_day:
            return self.days
        if today < self.first_day:
            return 0
        return (today - self.first_day).days + 1


def _utc(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def local_day(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def week_of_day(day: date, tz: str) -> Period:
    monday = day - timedelta(days=day.weekday())
    sunday = monday + timedelta(days=6)
    return Period("week", monday, sunday, _utc(monday, tz), _utc(monday + timedelta(days=7), tz), tz)


def week_containing(moment: datetime, tz: str) -> Period:
    return week_of_day(local_day(moment, tz), tz)


def iso_week(year: int, week: int, tz: str) -> Period | None:
    """The ISO week, or None when it does not exist (week 53 of most years, week 0, year 1)."""
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        return None
    if not 2000 <= year <= 2100:
        return None
    return week_of_day(monday, tz)


def month_of(year: int, month: int, tz: str) -> Period:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return Period("month", first, following - timedelta(days=1), _utc(first, tz), _utc(following, tz), tz)


def month_containing(moment: datetime, tz: str) -> Period:
    day = local_day(moment, tz)
    return month_of(day.year, day.month, tz)


def parse_week(text: str, tz: str) -> Period | None:
    """`2026-W47`, `2026W47`, `2026-w7` → that week; anything else → None."""
    match = _WEEK.match(text)
    if not match:
        return None
    return iso_week(int(match.group(1)), int(match.group(2)), tz)


def parse_month(text: str, tz: str) -> Period | None:
    """`2026-11` → that month; anything else → None."""
    match = _MONTH.match(text)
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return month_of(year, month, tz)


def weeks_ending(current: Period, count: int) -> list[Period]:
    """`count` consecutive weeks, oldest first, the last one being `current`."""
    return [current.shift(i - count + 1) for i in range(count)]
