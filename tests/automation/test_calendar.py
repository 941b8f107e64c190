"""Business calendars: Festum's support hours (weekdays 08:00–16:00 Finnish time), holidays, DST."""

from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.automation.calendar import CALENDAR, BusinessCalendar, parse_duration, tenant_calendar
from app.tenancy.definition import load_definition

HELSINKI = ZoneInfo("Europe/Helsinki")
TENANTS = Path(__file__).resolve().parents[2] / "tenants"


@pytest.fixture(scope="module")
def festum():
    definition = load_definition(TENANTS / "festum")

    class T:
        settings = definition["settings"]
        timezone = definition["timezone"]

    return tenant_calendar(T)


def local(*args):
    return datetime(*args, tzinfo=HELSINKI)


def test_friday_15_00_plus_two_working_hours_is_monday_09_00(festum):
    # 2026-03-27 is a Friday; the clocks go forward on Sunday the 29th (EET -> EEST).
    due = festum.add(local(2026, 3, 27, 15, 0), 2 * 3600)
    assert due.astimezone(HELSINKI) == local(2026, 3, 30, 9, 0)
    assert due == datetime(2026, 3, 30, 6, 0, tzinfo=timezone.utc)  # 09:00 EEST, not 08:00
    assert festum.between(local(2026, 3, 27, 15, 0), due) == 2 * 3600


def test_an_ordinary_weekend_too():
    calendar = BusinessCalendar.from_settings(
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "16:00"}, "Europe/Helsinki"
    )
    assert calendar.add(local(2026, 2, 6, 15, 0), 7200).astimezone(HELSINKI) == local(2026, 2, 9, 9, 0)


def test_holidays_are_skipped(festum):
    # Thursday before Easter 2026: Good Friday (3.4.) and Easter Monday (6.4.) are days off.
    due = festum.add(local(2026, 4, 2, 15, 0), 2 * 3600)
    assert due.astimezone(HELSINKI) == local(2026, 4, 7, 9, 0)
    # Christmas 2026: 24th (Thu), 25th (Fri) off; Monday the 28th is a working day.
    assert festum.add(local(2026, 12, 23, 15, 30), 3600).astimezone(HELSINKI) == local(2026, 12, 28, 8, 30)


def test_daylight_saving_ends_in_october(festum):
    # Clocks go back on Sunday 2026-10-25: the working day stays 08:00–16:00 local.
    due = festum.add(local(2026, 10, 23, 14, 0), 4 * 3600)
    assert due.astimezone(HELSINKI) == local(2026, 10, 26, 10, 0)
    assert due == datetime(2026, 10, 26, 8, 0, tzinfo=timezone.utc)


def test_outside_hours_counts_from_the_next_opening(festum):
    assert festum.add(local(2026, 3, 3, 20, 0), 1800).astimezone(HELSINKI) == local(2026, 3, 4, 8, 30)
    assert festum.between(local(2026, 3, 3, 16, 0), local(2026, 3, 4, 8, 0)) == 0
    assert festum.between(local(2026, 3, 4, 9, 0), local(2026, 3, 3, 9, 0)) == -8 * 3600


def test_subtract_is_the_inverse_of_add(festum):
    end = local(2026, 3, 30, 9, 0)
    start = festum.subtract(end, 2 * 3600)
    assert start.astimezone(HELSINKI) == local(2026, 3, 27, 15, 0)
    assert festum.add(start, 2 * 3600) == end


def test_business_days_are_working_days(festum):
    assert festum.seconds_of(parse_duration("P1D")) == 8 * 3600
    assert festum.seconds_of(parse_duration("P1W")) == 5 * 8 * 3600
    assert festum.seconds_of(parse_duration("PT90M")) == 5400
    assert festum.later(local(2026, 3, 27, 10, 0), parse_duration("P1D")).astimezone(HELSINKI) == local(
        2026, 3, 30, 10, 0
    )


def test_a_calendar_month_on_the_calendar_clock():
    now = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)
    assert CALENDAR.ago(now, parse_duration("P1M")) == datetime(2026, 2, 15, 12, 0, tzinfo=timezone.utc)
    assert CALENDAR.ago(now, parse_duration("PT72H")) == datetime(2026, 3, 12, 12, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        parse_duration("1 month")
