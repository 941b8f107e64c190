"""Clocks for time rules and SLA targets: calendar time, or a tenant's business calendar.

A business calendar is the tenant's working days and hours in its time zone, minus its holidays
(``settings.business_hours: {days, start, end, holidays}``). Each working day's interval is built
in local wall time and converted to UTC through ``zoneinfo``, so a daylight-saving change between
two working days is counted right (Festum: Friday 15:00 + 2 working hours = Monday 09:00, whatever
the clocks did on Sunday).

Both clocks offer the same three operations on aware UTC datetimes and seconds of *their* time:
``add(start, seconds)``, ``subtract(end, seconds)`` and ``between(a, b)``.

Durations are ISO 8601 (``P1M``, ``P7D``, ``PT72H``). On the calendar clock a month is a calendar
month (``dateutil.relativedelta``); on the business clock a day (``P2D``) is a working day, i.e.
the length of the tenant's working day in working time, a week is as many working days as the
calendar has per week, and hours/minutes/seconds are working time; months and years are refused
there (the validator says so).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from app.tenancy.settings import tenant_settings

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DURATION_RE = re.compile(
    r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$"
)
# How far the business clock looks for working time before it gives up (a calendar without any).
MAX_DAYS = 3700


@dataclass(frozen=True)
class Duration:
    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0

    @property
    def has_months(self) -> bool:
        return bool(self.years or self.months)

    def relativedelta(self) -> relativedelta:
        return relativedelta(
            years=self.years,
            months=self.months,
            weeks=self.weeks,
            days=self.days,
            hours=self.hours,
            minutes=self.minutes,
            seconds=self.seconds,
        )

    def clock_seconds(self) -> int:
        """Hours, minutes and seconds only (what every clock counts the same way)."""
        return self.hours * 3600 + self.minutes * 60 + self.seconds


def parse_duration(text: str) -> Duration:
    match = DURATION_RE.match(text or "")
    if not match:
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    return Duration(*(int(g) if g else 0 for g in match.groups()))


class CalendarClock:
    """Wall-clock time, 24/7."""

    kind = "calendar"

    def add(self, start: datetime, seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)

    def subtract(self, end: datetime, seconds: float) -> datetime:
        return end - timedelta(seconds=seconds)

    def between(self, a: datetime, b: datetime) -> float:
        return (b - a).total_seconds()

    def seconds_of(self, duration: Duration) -> int | None:
        """The duration in this clock's seconds; None when it has months (use ``ago``)."""
        if duration.has_months:
            return None
        return (duration.weeks * 7 + duration.days) * 86400 + duration.clock_seconds()

    def ago(self, end: datetime, duration: Duration) -> datetime:
        """The latest moment from which ``duration`` has passed by ``end``."""
        return end - duration.relativedelta()

    def later(self, start: datetime, duration: Duration) -> datetime:
        return start + duration.relativedelta()


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days and hours in a time zone, minus holidays."""

    tz: ZoneInfo
    days: frozenset  # weekday numbers, 0 = Monday
    start: time
    end: time
    holidays: frozenset = frozenset()
    kind: str = "business"

    @classmethod
    def from_settings(cls, business_hours: Mapping, tz_name: str) -> "BusinessCalendar":
        days = business_hours.get("days") or list(DAY_NAMES[:5])
        return cls(
            tz=ZoneInfo(tz_name or "UTC"),
            days=frozenset(DAY_NAMES.index(d) for d in days),
            start=time.fromisoformat(business_hours.get("start") or "08:00"),
            end=time.fromisoformat(business_hours.get("end") or "16:00"),
            holidays=frozenset(date.fromisoformat(h) for h in business_hours.get("holidays") or ()),
        )

    @property
    def day_seconds(self) -> int:
        """A working day's length (in wall time, which is what the people working it see)."""
        return (datetime.combine(date(2000, 1, 3), self.end) - datetime.combine(date(2000, 1, 3), self.start)).seconds

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    def interval(self, day: date) -> tuple[datetime, datetime] | None:
        """The working hours of ``day`` (local date) in UTC, or None on a day off."""
        if not self.is_working_day(day):
            return None
        opens = datetime.combine(day, self.start, tzinfo=self.tz).astimezone(timezone.utc)
        closes = datetime.combine(day, self.end, tzinfo=self.tz).astimezone(timezone.utc)
        return opens, closes

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment when ``seconds`` of working time have passed since ``start``."""
        remaining = max(float(seconds), 0.0)
        day = self._local_date(start)
        for _ in range(MAX_DAYS):
            hours = self.interval(day)
            if hours is not None:
                opens, closes = max(hours[0], start), hours[1]
                if opens <= closes:
                    available = (closes - opens).total_seconds()
                    if remaining <= available:
                        return opens + timedelta(seconds=remaining)
                    remaining -= available
            day += timedelta(days=1)
        raise ValueError("the business calendar has no working time")

    def subtract(self, end: datetime, seconds: float) -> datetime:
        """The latest moment from which ``seconds`` of working time have passed by ``end``."""
        remaining = max(float(seconds), 0.0)
        day = self._local_date(end)
        for _ in range(MAX_DAYS):
            hours = self.interval(day)
            if hours is not None:
                opens, closes = hours[0], min(hours[1], end)
                if opens < closes:
                    available = (closes - opens).total_seconds()
                    if remaining <= available:
                        return closes - timedelta(seconds=remaining)
                    remaining -= available
            day -= timedelta(days=1)
        raise ValueError("the business calendar has no working time")

    def between(self, a: datetime, b: datetime) -> float:
        """Working seconds from ``a`` to ``b`` (negative when ``b`` is earlier)."""
        if b < a:
            return -self.between(b, a)
        total = 0.0
        day, last = self._local_date(a), self._local_date(b)
        while day <= last:
            hours = self.interval(day)
            if hours is not None:
                opens, closes = max(hours[0], a), min(hours[1], b)
                if opens < closes:
                    total += (closes - opens).total_seconds()
            day += timedelta(days=1)
        return total

    def seconds_of(self, duration: Duration) -> int | None:
        if duration.has_months:
            return None
        working_days = duration.weeks * len(self.days) + duration.days
        return working_days * self.day_seconds + duration.clock_seconds()

    def ago(self, end: datetime, duration: Duration) -> datetime:
        return self.subtract(end, self.seconds_of(duration) or 0)

    def later(self, start: datetime, duration: Duration) -> datetime:
        return self.add(start, self.seconds_of(duration) or 0)


CALENDAR = CalendarClock()


def tenant_calendar(tenant) -> BusinessCalendar | None:
    """The tenant's business calendar, or None when it has no business hours."""
    hours = tenant_settings(tenant).business_hours
    if not hours:
        return None
    return BusinessCalendar.from_settings(hours, getattr(tenant, "timezone", None) or "UTC")


def clock_for(tenant, kind: str | None):
    """The clock named ``kind`` (``calendar`` or ``business``) for the tenant; a tenant without
    business hours counts business time as calendar time (the validator refuses that combination
    in definitions, this only guards data edited by hand)."""
    if kind == "business":
        return tenant_calendar(tenant) or CALENDAR
    return CALENDAR
