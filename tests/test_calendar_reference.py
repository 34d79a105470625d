"""WorkCalendar's table lookups against a plain day-by-day reference.

The calendar answers from per-year tables (office time before each day, each working day's
periods as integer microseconds, bisected). The reference here shares none of that: it asks
``holidays.China`` and the overrides whether a day is worked, takes the day's periods from
``OfficeHours.periods_on`` and walks day by day, period by period, in ``timedelta``. Moments are
naive (Shanghai), Shanghai-aware (either fold), in other zones, or dates (00:00), in years the
notices cover, before them and after them, around new year and 调休 days; results must be equal
to the microsecond, with the same zone and fold.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nocert_rules.errors import CalendarError
from nocert_rules.worktime.calendar import (
    SHANGHAI,
    CalendarOverrides,
    OfficeHours,
    OverrideDay,
    WorkCalendar,
    as_shanghai,
)

_CN = holidays.China(years=range(1997, 2034))


def p(start: str, end: str) -> dict[str, str]:
    return {"start": start, "end": end}


# Seasons wrapping the new year, touching periods, periods to the second, and a 02-29 boundary.
ODD_HOURS = OfficeHours.model_validate(
    {
        "periods": [p("08:30:15", "11:45"), p("11:45", "12:10:30"), p("14:00", "18:00")],
        "seasons": [
            {
                "name": "冬季 / winter",
                "from_month_day": "11-15",
                "until_month_day": "02-29",
                "periods": [p("09:00", "12:00"), p("13:00", "16:30")],
            },
            {
                "name": "夏季 / summer",
                "from_month_day": "06-01",
                "until_month_day": "08-31",
                "periods": [p("07:59:59.5", "08:00"), p("09:00", "12:00"), p("13:30", "17:30")],
            },
        ],
    }
)


def _day(d: date, why: str) -> OverrideDay:
    return OverrideDay(date=d, reason=why, source="test")


OVERRIDES = CalendarOverrides(
    days_off=[_day(date(2025, 6, 16), "本地假日"), _day(date(2025, 12, 31), "年终"),
              _day(date(2027, 1, 4), "2027 通知"), _day(date(2024, 2, 29), "闰日")],
    working_days=[_day(date(2025, 6, 21), "补班"), _day(date(2027, 1, 2), "2027 调休"),
                  _day(date(2026, 1, 1), "元旦上班")],
    known_years=[2027],
)

CALENDARS = {
    "default": WorkCalendar(),
    "odd hours": WorkCalendar(office_hours=ODD_HOURS),
    "overrides": WorkCalendar(overrides=OVERRIDES),
    "both": WorkCalendar(office_hours=ODD_HOURS, overrides=OVERRIDES),
}

ZONES = [UTC, timezone(timedelta(hours=-5, minutes=-30)), timezone(timedelta(hours=14)),
         ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata"), ZoneInfo("Asia/Shanghai")]


# -- the reference -----------------------------------------------------------------------------


def ref_local(value: date | datetime) -> datetime:
    """Naive Shanghai wall clock, by the documented rules, with astimezone."""
    if isinstance(value, datetime):
        return value if value.tzinfo is None else value.astimezone(SHANGHAI).replace(tzinfo=None)
    return datetime.combine(value, time())


def ref_worked(cal: WorkCalendar, d: date) -> bool:
    on = {x.date for x in cal.overrides.working_days}
    off = {x.date for x in cal.overrides.days_off}
    return d in on or (d not in off and _CN.is_working_day(d))


def ref_periods(cal: WorkCalendar, d: date) -> list[tuple[datetime, datetime]]:
    """The day's office periods as naive datetimes; none on a day off."""
    if not ref_worked(cal, d):
        return []
    return [(datetime.combine(d, x.start), datetime.combine(d, x.end)) for x in cal.office_hours.periods_on(d)]


def ref_working_time(cal: WorkCalendar, a: date | datetime, b: date | datetime) -> timedelta:
    la, lb = ref_local(a), ref_local(b)
    if la > lb:
        return -ref_working_time(cal, b, a)
    total = timedelta()
    d = la.date()
    while d <= lb.date():
        for s, e in ref_periods(cal, d):
            lo, hi = max(s, la), min(e, lb)
            if lo < hi:
                total += hi - lo
        d += timedelta(days=1)
    return total


def ref_add_minutes(cal: WorkCalendar, start: date | datetime, minutes: float) -> datetime:
    local = ref_local(start)
    left = timedelta(microseconds=round(minutes * 60_000_000))
    if not left:
        return local.replace(tzinfo=SHANGHAI)
    d = local.date()
    while True:
        for s, e in ref_periods(cal, d):
            s = max(s, local)
            if s >= e:
                continue
            if left <= e - s:
                return (s + left).replace(tzinfo=SHANGHAI)
            left -= e - s
        d += timedelta(days=1)


def ref_add_days(cal: WorkCalendar, start: date | datetime, n: int) -> date:
    d = ref_local(start).date()
    while n:
        d += timedelta(days=1)
        n -= ref_worked(cal, d)
    return d


def ref_close(cal: WorkCalendar, d: date) -> datetime:
    return ref_periods(cal, d)[-1][1].replace(tzinfo=SHANGHAI)


def same_moment(got: datetime, want: datetime) -> None:
    """Equal wall clock, zone object and fold (== alone ignores fold within one zone)."""
    assert (got.replace(tzinfo=None), got.tzinfo, got.fold) == (want.replace(tzinfo=None), want.tzinfo, want.fold)


# -- moments -----------------------------------------------------------------------------------

# Days near which the tables have edges: new year, 春节 and 国庆 with their 调休 days, the overrides,
# the first and last years the notices cover, leap days, and years past the notices.
EDGES = [date(y, 1, 1) for y in (2000, 2001, 2002, 2016, 2024, 2025, 2026, 2027, 2028, 2031)] + [
    date(2005, 12, 31), date(2024, 2, 29), date(2025, 9, 28), date(2025, 10, 11), date(2026, 2, 14),
    date(2026, 2, 28), date(2026, 1, 4), date(2025, 6, 16), date(2025, 6, 21), date(2023, 6, 1),
    date(2023, 8, 31), date(2023, 11, 15), date(2024, 3, 1),
]

naive_moments = st.one_of(
    st.datetimes(min_value=datetime(1999, 1, 1), max_value=datetime(2031, 12, 31)),
    st.builds(
        lambda d, days, us: datetime.combine(d, time()) + timedelta(days=days, microseconds=us),
        st.sampled_from(EDGES),
        st.integers(min_value=-6, max_value=5),
        st.integers(min_value=0, max_value=86_400_000_000 - 1),
    ),
)


@st.composite
def moments(draw: st.DrawFn) -> date | datetime:
    """A naive, Shanghai-aware (fold 0 or 1), other-zone datetime, or a date."""
    local = draw(naive_moments)
    kind = draw(st.sampled_from(["naive", "shanghai", "zone", "date"]))
    if kind == "naive":
        return local
    if kind == "shanghai":
        return local.replace(tzinfo=SHANGHAI, fold=draw(st.integers(0, 1)))
    if kind == "zone":  # the same instant shown in another zone
        return local.replace(tzinfo=SHANGHAI).astimezone(draw(st.sampled_from(ZONES)))
    return local.date()


def later(draw: st.DrawFn, a: date | datetime) -> date | datetime:
    """A moment within ~40 days of ``a``, either side, of any kind."""
    base = ref_local(a) + timedelta(microseconds=draw(st.integers(-40 * 86_400_000_000, 40 * 86_400_000_000)))
    kind = draw(st.sampled_from(["naive", "shanghai", "zone", "date"]))
    if kind == "naive":
        return base
    if kind == "shanghai":
        return base.replace(tzinfo=SHANGHAI)
    if kind == "zone":
        return base.replace(tzinfo=SHANGHAI).astimezone(draw(st.sampled_from(ZONES)))
    return base.date()


calendars = st.sampled_from(sorted(CALENDARS))


# -- properties --------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(name=calendars, data=st.data())
def test_working_time_between_matches_the_reference(name: str, data: st.DataObject) -> None:
    cal = CALENDARS[name]
    a = data.draw(moments())
    b = later(data.draw, a)
    got = cal.working_time_between(a, b)
    assert type(got) is timedelta
    assert got == ref_working_time(cal, a, b)
    assert cal.working_time_between(b, a) == -got


@settings(max_examples=400, deadline=None)
@given(
    name=calendars,
    start=moments(),
    minutes=st.one_of(
        st.integers(min_value=0, max_value=12_000),
        st.floats(min_value=0, max_value=3_000, allow_nan=False),
        st.sampled_from([1e-9, 0.5 / 60_000_000, 1 / 60_000_000, 30, 180, 240, 420, 480]),
    ),
)
def test_add_working_minutes_matches_the_reference(
    name: str, start: date | datetime, minutes: float
) -> None:
    cal = CALENDARS[name]
    same_moment(cal.add_working_minutes(start, minutes), ref_add_minutes(cal, start, minutes))


@settings(max_examples=300, deadline=None)
@given(name=calendars, start=moments(), n=st.integers(min_value=0, max_value=30))
def test_add_working_days_and_close_of_business_match_the_reference(
    name: str, start: date | datetime, n: int
) -> None:
    cal = CALENDARS[name]
    last = cal.add_working_days(start, n)
    assert type(last) is date and last == ref_add_days(cal, start, n)
    day = ref_local(start).date()
    assert cal.is_working_day(start) is ref_worked(cal, day)
    if n:
        same_moment(cal.close_of_business(last), ref_close(cal, last))
    if ref_worked(cal, day):
        same_moment(cal.close_of_business(start), ref_close(cal, day))
        got = cal.office_periods(day)
        want = [(s.replace(tzinfo=SHANGHAI), e.replace(tzinfo=SHANGHAI)) for s, e in ref_periods(cal, day)]
        assert got == want
    else:
        with pytest.raises(CalendarError, match="not a working day"):
            cal.close_of_business(start)
        assert cal.office_periods(day) == []


@settings(max_examples=300, deadline=None)
@given(value=moments())
def test_as_shanghai_matches_astimezone(value: date | datetime) -> None:
    got = as_shanghai(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        want = value.astimezone(SHANGHAI)
        if value.tzinfo is SHANGHAI:  # astimezone gives the value itself then
            assert got is value
    else:
        want = ref_local(value).replace(tzinfo=SHANGHAI)
    same_moment(got, want)


def test_spans_of_years_match_the_reference() -> None:
    """Long spans cross whole years (the tables' yearly totals), known and unknown ones."""
    for cal in CALENDARS.values():
        for a, b in [
            (datetime(2025, 12, 31, 16, 0), datetime(2026, 1, 5, 9, 30)),
            (date(2000, 6, 1), datetime(2003, 2, 1, 10, 0, tzinfo=UTC)),
            (datetime(2024, 2, 29, 11, 0, tzinfo=SHANGHAI), date(2028, 3, 1)),
        ]:
            assert cal.working_time_between(a, b) == ref_working_time(cal, a, b)
            assert cal.working_time_between(b, a) == -ref_working_time(cal, a, b)
        start = datetime(2025, 12, 20, 15, 0)
        for minutes in (60 * 7 * 300, 60 * 7 * 800 + 17):
            same_moment(cal.add_working_minutes(start, minutes), ref_add_minutes(cal, start, minutes))
        assert cal.add_working_days(date(2024, 12, 1), 700) == ref_add_days(cal, date(2024, 12, 1), 700)


def test_errors_are_unchanged() -> None:
    cal = CALENDARS["default"]
    with pytest.raises(CalendarError, match="expected a date or datetime, got str"):
        cal.working_time_between("2025-01-02", datetime(2025, 1, 3))  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="negative number of minutes"):
        cal.add_working_minutes(datetime(2025, 1, 2), -1)
    with pytest.raises(CalendarError, match="negative number of working days"):
        cal.add_working_days(datetime(2025, 1, 2, tzinfo=UTC), -1)
    with pytest.raises(CalendarError, match="outside the calendar"):
        cal.add_working_minutes(datetime(9999, 12, 30, 10, 0), 60 * 24 * 3)
    with pytest.raises(CalendarError, match="outside the calendar"):
        cal.add_working_days(date(9999, 12, 30), 5)
