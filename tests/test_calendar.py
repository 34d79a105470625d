"""WorkCalendar: working days, office time, seasons, overrides, unknown years.

Expected dates are read off the State Council notices as quoted in the comments (2025: 国庆节、
中秋节 10月1日至8日放假调休，9月28日（周日）、10月11日（周六）上班; 2026: 元旦 1月1日至3日放假，
1月4日（周日）上班; 春节 2月15日至23日放假，2月14日（周六）、2月28日（周六）上班; 国庆节 10月1日至7日
放假，9月20日（周日）、10月10日（周六）上班), not copied from the code's output.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from nocert_rules.errors import CalendarError
from nocert_rules.worktime.calendar import (
    SHANGHAI,
    CalendarOverrides,
    OfficeHours,
    OfficeHoursSeason,
    OfficePeriod,
    OverrideDay,
    WorkCalendar,
    as_shanghai,
    holidays_known_years,
)

REPO = Path(__file__).resolve().parents[1]
CAL = WorkCalendar()


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def p(start: str, end: str) -> dict[str, str]:
    return {"start": start, "end": end}


SUMMER = OfficeHours.model_validate(
    {
        "seasons": [
            {
                "name": "夏季作息 / summer",
                "from_month_day": "05-01",
                "until_month_day": "09-30",
                "periods": [p("09:00", "12:00"), p("13:30", "17:30")],
            },
            {
                "name": "冬季作息 / winter",
                "from_month_day": "11-01",
                "until_month_day": "02-28",
                "periods": [p("09:00", "12:00"), p("13:00", "16:30")],
            },
        ]
    }
)


# -- models ------------------------------------------------------------------------------------


def test_default_office_hours() -> None:
    hours = OfficeHours()
    assert [(x.start, x.end) for x in hours.periods] == [(time(9), time(12)), (time(13), time(17))]
    assert hours.seasons == []


@pytest.mark.parametrize(
    "periods",
    [
        [p("12:00", "09:00")],  # start after end
        [p("09:00", "09:00")],  # empty
        [p("09:00", "12:00"), p("11:00", "14:00")],  # overlap
        [p("13:00", "17:00"), p("09:00", "12:00")],  # out of order
        [],  # no office time at all
    ],
)
def test_bad_periods_are_refused(periods: list[dict[str, str]]) -> None:
    with pytest.raises(ValidationError):
        OfficeHours.model_validate({"periods": periods})


def test_touching_periods_are_allowed() -> None:
    hours = OfficeHours.model_validate({"periods": [p("09:00", "12:00"), p("12:00", "13:00")]})
    assert len(hours.periods) == 2


@pytest.mark.parametrize("md", ["13-01", "02-30", "2-01", "0501", "00-10"])
def test_bad_month_day_is_refused(md: str) -> None:
    with pytest.raises(ValidationError):
        OfficeHoursSeason(
            name="x",
            from_month_day=md,
            until_month_day="12-31",
            periods=[OfficePeriod(start=time(9), end=time(17))],
        )


def test_overlapping_seasons_are_refused_even_across_new_year() -> None:
    winter = {
        "name": "winter",
        "from_month_day": "11-01",
        "until_month_day": "02-28",
        "periods": [p("09:00", "16:00")],
    }
    new_year = {**winter, "name": "new year", "from_month_day": "01-01", "until_month_day": "01-10"}
    with pytest.raises(ValidationError, match="overlap"):
        OfficeHours.model_validate({"seasons": [winter, new_year]})


def test_models_forbid_extra_fields_and_are_frozen() -> None:
    with pytest.raises(ValidationError):
        OfficeHours.model_validate({"periods": [p("09:00", "17:00")], "lunch": "12:00"})
    with pytest.raises(ValidationError):
        CalendarOverrides.model_validate({"days_of": []})
    hours = OfficeHours()
    with pytest.raises(ValidationError):
        hours.seasons = []  # type: ignore[misc]


def _day(d: str) -> dict[str, str]:
    return {"date": d, "reason": "test", "source": "test"}


def test_date_in_both_override_lists_is_refused() -> None:
    with pytest.raises(ValidationError, match="both"):
        CalendarOverrides.model_validate(
            {"days_off": [_day("2025-06-16")], "working_days": [_day("2025-06-16")]}
        )


def test_date_twice_in_one_list_and_repeated_year_are_refused() -> None:
    with pytest.raises(ValidationError, match="twice"):
        CalendarOverrides.model_validate({"days_off": [_day("2025-06-16"), _day("2025-06-16")]})
    with pytest.raises(ValidationError, match="twice"):
        CalendarOverrides.model_validate({"known_years": [2027, 2027]})


def test_override_day_needs_reason_and_source() -> None:
    with pytest.raises(ValidationError):
        OverrideDay.model_validate({"date": "2025-06-16", "reason": "", "source": "x"})
    with pytest.raises(ValidationError):
        OverrideDay.model_validate({"date": "2025-06-16", "reason": "x"})


def test_from_config_builds_from_plain_dicts_and_wraps_errors() -> None:
    cal = WorkCalendar.from_config(
        {"periods": [p("08:30", "12:00"), p("14:00", "17:30")]},
        {"days_off": [_day("2025-06-16")], "known_years": [2027]},
    )
    assert cal.close_of_business(date(2025, 6, 17)) == sh(2025, 6, 17, 17, 30)
    assert not cal.is_working_day(date(2025, 6, 16))
    assert 2027 in cal.known_years
    with pytest.raises(CalendarError):
        WorkCalendar.from_config({"periods": [p("17:00", "09:00")]})


def test_example_overrides_file_is_valid() -> None:
    data = yaml.safe_load((REPO / "rulesets/zibo/calendar_overrides.yaml").read_text("utf-8"))
    overrides = CalendarOverrides.model_validate(data or {})
    WorkCalendar(overrides=overrides).is_working_day(date(2025, 1, 2))


# -- working days ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 9, 26), True),  # Friday
        (date(2025, 9, 27), False),  # Saturday
        (date(2025, 9, 28), True),  # Sunday, 调休 working day (2025 notice)
        (date(2025, 10, 1), False),
        (date(2025, 10, 6), False),  # 中秋节
        (date(2025, 10, 8), False),  # last day of the 8-day break
        (date(2025, 10, 9), True),
        (date(2025, 10, 11), True),  # Saturday, 调休 working day
        (date(2025, 10, 12), False),  # Sunday
        (date(2026, 1, 2), False),  # Friday, 元旦 break
        (date(2026, 1, 4), True),  # Sunday, 调休 working day (2026 notice)
        (date(2026, 2, 14), True),  # Saturday, 调休
        (date(2026, 2, 23), False),  # Monday, last day of 春节 break
        (date(2026, 2, 28), True),  # Saturday, 调休
        (date(2026, 9, 20), True),  # Sunday, 调休
        (date(2026, 10, 7), False),
        (date(2026, 10, 10), True),  # Saturday, 调休
    ],
)
def test_is_working_day_follows_the_notices(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


def test_is_working_day_uses_the_shanghai_date() -> None:
    # 2025-09-27 20:00 UTC is 2025-09-28 04:00 in Shanghai: a 调休 Sunday, a working day.
    assert CAL.is_working_day(datetime(2025, 9, 27, 20, 0, tzinfo=UTC))
    assert not CAL.is_working_day(datetime(2025, 9, 27, 15, 59, tzinfo=UTC))  # 23:59 Saturday
    assert CAL.is_working_day(datetime(2025, 9, 28, 4, 0))  # naive: Shanghai


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Saturday, not counted; Sunday 09-28 (调休) is day 1, Monday 09-29 day 2.
        (date(2025, 9, 27), 2, date(2025, 9, 29)),
        (date(2025, 9, 30), 1, date(2025, 10, 9)),  # over the 10-01..10-08 break
        (date(2025, 10, 3), 1, date(2025, 10, 9)),  # start on a holiday: still not counted
        (date(2025, 10, 9), 2, date(2025, 10, 11)),  # Thursday: 10-10, then Saturday 10-11
        (date(2025, 6, 13), 1, date(2025, 6, 16)),  # Friday -> Monday
        (date(2025, 12, 31), 1, date(2026, 1, 4)),  # over new year to the 调休 Sunday
        (date(2026, 9, 30), 5, date(2026, 10, 13)),  # 10-08, 09, 10 (Sat), 12, 13
        (date(2026, 2, 13), 7, date(2026, 3, 2)),  # 02-14 (Sat), 24, 25, 26, 27, 28 (Sat), 03-02
    ],
)
def test_add_working_days(start: date, n: int, expected: date) -> None:
    assert CAL.add_working_days(start, n) == expected


def test_add_working_days_zero_and_negative() -> None:
    assert CAL.add_working_days(date(2025, 9, 27), 0) == date(2025, 9, 27)  # returned unchanged
    assert CAL.add_working_days(datetime(2025, 10, 1, 10), 0) == date(2025, 10, 1)
    with pytest.raises(CalendarError):
        CAL.add_working_days(date(2025, 9, 27), -1)


def test_add_working_days_dates_and_datetimes_agree() -> None:
    for start in (
        date(2025, 9, 30),
        datetime(2025, 9, 30, 0, 0),
        datetime(2025, 9, 30, 23, 59),
        sh(2025, 9, 30, 10, 0),
        datetime(2025, 9, 30, 2, 0, tzinfo=UTC),  # 10:00 Shanghai
        datetime(2025, 9, 29, 17, 0, tzinfo=UTC),  # 2025-09-30 01:00 Shanghai
    ):
        assert CAL.add_working_days(start, 1) == date(2025, 10, 9), start
    # 2025-09-30 16:30 UTC is 10-01 00:30 in Shanghai: the count starts from 10-01.
    assert CAL.add_working_days(datetime(2025, 9, 30, 16, 30, tzinfo=UTC), 2) == date(2025, 10, 10)


def test_add_working_days_beyond_the_calendar_is_an_error() -> None:
    with pytest.raises(CalendarError):
        CAL.add_working_days(date(9999, 12, 20), 30)


def test_working_days_between_is_half_open() -> None:
    assert CAL.working_days_between(date(2025, 9, 27), date(2025, 9, 29)) == 2  # 28, 29
    assert CAL.working_days_between(date(2025, 9, 30), date(2025, 10, 9)) == 1
    assert CAL.working_days_between(date(2025, 6, 16), date(2025, 6, 17)) == 1  # b, not a
    assert CAL.working_days_between(date(2025, 6, 16), date(2025, 6, 16)) == 0
    assert CAL.working_days_between(date(2025, 9, 29), date(2025, 9, 27)) == -2
    assert CAL.working_days_between(date(2025, 12, 31), date(2026, 1, 4)) == 1


def _step_working_days(cal: WorkCalendar, start: date, n: int) -> date:
    """Oracle: walk day by day with is_working_day."""
    d = start
    while n:
        d += timedelta(days=1)
        if cal.is_working_day(d):
            n -= 1
    return d


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(min_value=date(2002, 1, 1), max_value=date(2026, 10, 1)),
    n=st.integers(min_value=1, max_value=60),
)
def test_add_working_days_matches_day_by_day_walk(start: date, n: int) -> None:
    due = CAL.add_working_days(start, n)
    assert due == _step_working_days(CAL, start, n)
    assert CAL.is_working_day(due)
    assert CAL.working_days_between(start, due) == n


def test_many_working_days_over_several_years() -> None:
    start = date(2010, 3, 3)
    assert CAL.add_working_days(start, 1000) == _step_working_days(CAL, start, 1000)


# -- office time -------------------------------------------------------------------------------


def test_close_of_business() -> None:
    cob = CAL.close_of_business(date(2025, 10, 9))
    assert cob == sh(2025, 10, 9, 17, 0)
    assert cob.utcoffset() == timedelta(hours=8)
    assert cob.tzinfo == SHANGHAI
    assert CAL.close_of_business(date(2025, 9, 28)) == sh(2025, 9, 28, 17, 0)  # 调休 Sunday
    with pytest.raises(CalendarError):
        CAL.close_of_business(date(2025, 10, 1))


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (datetime(2025, 6, 16, 10, 0), 30, sh(2025, 6, 16, 10, 30)),
        (datetime(2025, 6, 16, 11, 50), 30, sh(2025, 6, 16, 13, 20)),  # across lunch
        (datetime(2025, 6, 16, 12, 30), 30, sh(2025, 6, 16, 13, 30)),  # start at lunch
        (datetime(2025, 6, 16, 7, 0), 30, sh(2025, 6, 16, 9, 30)),  # before opening
        (datetime(2025, 6, 16, 16, 30), 30, sh(2025, 6, 16, 17, 0)),  # ends exactly at close
        (datetime(2025, 6, 16, 9, 0), 180, sh(2025, 6, 16, 12, 0)),  # ends exactly at lunch
        (datetime(2025, 6, 13, 16, 50), 30, sh(2025, 6, 16, 9, 20)),  # Friday -> Monday
        (datetime(2025, 6, 14, 10, 0), 30, sh(2025, 6, 16, 9, 30)),  # starts on a Saturday
        (datetime(2025, 9, 26, 16, 50), 30, sh(2025, 9, 28, 9, 20)),  # to the 调休 Sunday
        (datetime(2025, 9, 30, 16, 50), 30, sh(2025, 10, 9, 9, 20)),  # across the holiday
        (datetime(2025, 10, 3, 10, 0), 30, sh(2025, 10, 9, 9, 30)),  # starts in the holiday
        (datetime(2025, 12, 31, 16, 50), 30, sh(2026, 1, 4, 9, 20)),  # across the new year
        (datetime(2025, 6, 16, 9, 0), 3 * 420, sh(2025, 6, 18, 17, 0)),  # three 7-hour days
        (datetime(2025, 6, 16, 9, 0), 3 * 420 + 1, sh(2025, 6, 19, 9, 1)),
        (datetime(2025, 6, 16, 10, 0, 30), 30, sh(2025, 6, 16, 10, 30, 30)),  # seconds kept
        (date(2025, 6, 16), 30, sh(2025, 6, 16, 9, 30)),  # a date means 00:00
    ],
)
def test_add_working_minutes(start: datetime | date, minutes: int, expected: datetime) -> None:
    due = CAL.add_working_minutes(start, minutes)
    assert due == expected
    assert due.tzinfo == SHANGHAI


def test_add_working_minutes_naive_and_aware_agree() -> None:
    naive = CAL.add_working_minutes(datetime(2025, 6, 13, 16, 50), 30)
    aware_utc = CAL.add_working_minutes(datetime(2025, 6, 13, 8, 50, tzinfo=UTC), 30)
    other = CAL.add_working_minutes(
        datetime(2025, 6, 13, 17, 50, tzinfo=timezone(timedelta(hours=9))), 30
    )
    assert naive == aware_utc == other == sh(2025, 6, 16, 9, 20)
    assert aware_utc.tzinfo == SHANGHAI


def test_add_working_minutes_zero_and_negative() -> None:
    assert CAL.add_working_minutes(datetime(2025, 6, 16, 12, 30), 0) == sh(2025, 6, 16, 12, 30)
    with pytest.raises(CalendarError):
        CAL.add_working_minutes(datetime(2025, 6, 16, 12, 30), -1)


def test_working_time_between() -> None:
    assert CAL.working_time_between(
        datetime(2025, 6, 16, 11, 0), datetime(2025, 6, 16, 14, 0)
    ) == timedelta(hours=2)
    # Tuesday 16:00 -> the holiday -> Thursday 10:00: one hour each side.
    assert CAL.working_time_between(
        datetime(2025, 9, 30, 16, 0), datetime(2025, 10, 9, 10, 0)
    ) == timedelta(hours=2)
    assert CAL.working_time_between(
        datetime(2025, 10, 9, 10, 0), datetime(2025, 9, 30, 16, 0)
    ) == -timedelta(hours=2)
    # whole year 2025: every working day has 7 office hours
    n_days = CAL.working_days_between(date(2024, 12, 31), date(2025, 12, 31))
    assert CAL.working_time_between(date(2025, 1, 1), date(2026, 1, 1)) == timedelta(
        hours=7 * n_days
    )


def _step_minutes(cal: WorkCalendar, start: datetime, minutes: int) -> datetime:
    """Oracle: walk day by day through office_periods."""
    left = timedelta(minutes=minutes)
    day = start.date()
    while True:
        for a, b in cal.office_periods(day):
            a = max(a, start)
            if a >= b:
                continue
            if left <= b - a:
                return a + left
            left -= b - a
        day += timedelta(days=1)


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2004, 1, 1), max_value=datetime(2026, 11, 30)),
    minutes=st.integers(min_value=1, max_value=3000),
    seasonal=st.booleans(),
)
def test_add_working_minutes_matches_walk(start: datetime, minutes: int, seasonal: bool) -> None:
    cal = WorkCalendar(office_hours=SUMMER) if seasonal else CAL
    aware = start.replace(tzinfo=SHANGHAI)
    due = cal.add_working_minutes(start, minutes)
    assert due == _step_minutes(cal, aware, minutes)
    assert cal.working_time_between(start, due) == timedelta(minutes=minutes)


# -- seasons -----------------------------------------------------------------------------------


def test_seasonal_office_hours() -> None:
    cal = WorkCalendar(office_hours=SUMMER)
    assert cal.close_of_business(date(2025, 6, 16)) == sh(2025, 6, 16, 17, 30)  # summer
    assert cal.close_of_business(date(2025, 9, 30)) == sh(2025, 9, 30, 17, 30)  # last summer day
    assert cal.close_of_business(date(2025, 10, 9)) == sh(2025, 10, 9, 17, 0)  # default
    assert cal.close_of_business(date(2025, 4, 30)) == sh(2025, 4, 30, 17, 0)  # default
    assert cal.close_of_business(date(2025, 12, 1)) == sh(2025, 12, 1, 16, 30)  # winter
    assert cal.close_of_business(date(2026, 1, 5)) == sh(2026, 1, 5, 16, 30)  # winter, wrapped
    assert cal.close_of_business(date(2026, 3, 2)) == sh(2026, 3, 2, 17, 0)  # default
    # summer lunch is 12:00-13:30: 10 minutes before, 20 after
    assert cal.add_working_minutes(datetime(2025, 6, 16, 11, 50), 30) == sh(2025, 6, 16, 13, 50)
    # winter day ends 16:30: 10 minutes on Friday 2025-12-05, 20 on Monday 12-08
    assert cal.add_working_minutes(datetime(2025, 12, 5, 16, 20), 30) == sh(2025, 12, 8, 9, 20)


# -- overrides ---------------------------------------------------------------------------------


def test_override_days_off_and_working_days() -> None:
    overrides = CalendarOverrides(
        days_off=[OverrideDay(date=date(2025, 6, 16), reason="本地假日", source="test")],
        working_days=[OverrideDay(date=date(2025, 6, 21), reason="补班", source="test")],
    )
    cal = WorkCalendar(overrides=overrides)
    assert not cal.is_working_day(date(2025, 6, 16))  # a Monday made a day off
    assert cal.is_working_day(date(2025, 6, 21))  # a Saturday made a working day
    assert cal.add_working_days(date(2025, 6, 13), 1) == date(2025, 6, 17)
    assert cal.add_working_days(date(2025, 6, 20), 1) == date(2025, 6, 21)
    assert cal.add_working_minutes(datetime(2025, 6, 13, 16, 50), 30) == sh(2025, 6, 17, 9, 20)
    assert cal.close_of_business(date(2025, 6, 21)) == sh(2025, 6, 21, 17, 0)
    # the default calendar is untouched
    assert CAL.is_working_day(date(2025, 6, 16)) and not CAL.is_working_day(date(2025, 6, 21))


# -- unknown years -----------------------------------------------------------------------------


def test_known_years_of_holidays() -> None:
    from holidays.countries.china import ChinaStaticHolidays

    known = holidays_known_years()
    data_years = ChinaStaticHolidays.special_public_holidays.keys()
    assert known == frozenset(range(min(data_years), max(data_years) + 1))
    assert min(known) == 2001 and 2026 in known


def test_unknown_years_between() -> None:
    last = max(holidays_known_years())
    assert CAL.unknown_years_between(date(last, 12, 1), date(last + 2, 1, 5)) == [
        last + 1,
        last + 2,
    ]
    assert CAL.unknown_years_between(date(last + 1, 1, 5), date(last, 12, 1)) == [last + 1]
    assert CAL.unknown_years_between(date(2025, 1, 1), date(2026, 12, 31)) == []
    assert CAL.unknown_years_between(date(1999, 6, 1), date(2001, 6, 1)) == [1999, 2000]


def test_unknown_year_warning_until_declared_known() -> None:
    last = max(holidays_known_years())
    warnings = CAL.warnings_for(date(last, 12, 20), date(last + 1, 1, 10))
    assert len(warnings) == 1
    assert str(last + 1) in warnings[0] and "known_years" in warnings[0]
    zh, en = warnings[0].split(" / ", 1)
    assert "调休" in zh and "State Council" in en
    declared = WorkCalendar(overrides=CalendarOverrides(known_years=[last + 1]))
    assert declared.warnings_for(date(last, 12, 20), date(last + 1, 1, 10)) == []


def test_2027_is_unknown_with_holidays_0_109() -> None:
    if 2027 in holidays_known_years():
        pytest.skip("holidays now carries the 2027 notice; the generic test above still runs")
    assert CAL.unknown_years_between(date(2026, 12, 28), date(2027, 1, 8)) == [2027]
    assert (
        WorkCalendar(overrides=CalendarOverrides(known_years=[2027])).unknown_years_between(
            date(2026, 12, 28), date(2027, 1, 8)
        )
        == []
    )


def test_as_shanghai() -> None:
    assert as_shanghai(date(2025, 1, 2)) == sh(2025, 1, 2, 0, 0)
    assert as_shanghai(datetime(2025, 1, 2, 3, 4)) == sh(2025, 1, 2, 3, 4)
    assert as_shanghai(datetime(2025, 1, 2, 0, 0, tzinfo=UTC)) == sh(2025, 1, 2, 8, 0)
    assert as_shanghai(datetime(2025, 1, 2, 0, 0, tzinfo=UTC)).tzinfo == SHANGHAI
    with pytest.raises(CalendarError):
        as_shanghai("2025-01-02")  # type: ignore[arg-type]
