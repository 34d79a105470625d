"""Chinese working time: working days, office hours and 调休 (State Council yearly notices).

Working days come from ``holidays.China``, which carries the General Office of the State
Council's yearly holiday notice (放假调休安排), including weekend days made into working days.
A ruleset may add an overrides file (:class:`CalendarOverrides`) for local days off, extra working
days, or a year whose notice is out before ``holidays`` has it.

Periods are counted as the Civil Code counts them (民法典 第二百零一条至第二百零三条): the start
day is not counted; a period in working days ends at the close of business of its last day.
Periods in minutes run only during office hours (附件2 第七条: "30分钟内反馈").

Naive datetimes mean Asia/Shanghai; every datetime returned is aware, in Asia/Shanghai.

Nothing here loops day by day: each year is computed once into a sorted array of working-day
ordinals plus a running total of office time, and per-day tables (office time before each day,
each working day's midnight and close of business), so that a lookup is a list index plus one
short bisect within the day's office periods, in integer microseconds.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any, Self
from zoneinfo import ZoneInfo

import holidays
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nocert_rules.errors import CalendarError, RequestError

__all__ = [
    "SHANGHAI",
    "CalendarOverrides",
    "OfficeHours",
    "OfficeHoursSeason",
    "OfficePeriod",
    "OverrideDay",
    "WorkCalendar",
    "as_moment",
    "as_shanghai",
    "holidays_known_years",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
_US_PER_MINUTE = 60_000_000
_DAY = timedelta(days=1)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _parse_month_day(value: str) -> tuple[int, int]:
    """``"MM-DD"`` -> (month, day); any day of a leap year is allowed (so ``02-29`` is)."""
    m = _MONTH_DAY.match(value)
    if m is None:
        raise ValueError(f"expected 'MM-DD', got {value!r}")
    month, day = int(m.group(1)), int(m.group(2))
    try:
        date(2000, month, day)  # 2000 is a leap year
    except ValueError:
        raise ValueError(f"no such day of the year: {value!r}") from None
    return month, day


def _check_periods(periods: list[OfficePeriod]) -> None:
    if not periods:
        raise ValueError("at least one office period is required")
    for earlier, later in zip(periods, periods[1:], strict=False):
        if later.start < earlier.end:
            raise ValueError(
                f"office periods must be in order and must not overlap: "
                f"{earlier.start:%H:%M}-{earlier.end:%H:%M} then "
                f"{later.start:%H:%M}-{later.end:%H:%M}"
            )


class OfficePeriod(_Frozen):
    """One stretch of office time within a day, local (Asia/Shanghai) wall-clock time."""

    start: time
    end: time

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("office hours are local wall-clock times; give them without a zone")
        if not self.start < self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        return self


def _default_periods() -> list[OfficePeriod]:
    return [OfficePeriod(start=time(9), end=time(12)), OfficePeriod(start=time(13), end=time(17))]


class OfficeHoursSeason(_Frozen):
    """Office periods that apply from ``from_month_day`` to ``until_month_day``, both inclusive.

    A season may wrap around the new year (``from_month_day: "10-01"``, ``until_month_day:
    "04-30"``).
    """

    name: str = Field(min_length=1)
    from_month_day: str
    until_month_day: str
    periods: list[OfficePeriod]

    @field_validator("from_month_day", "until_month_day")
    @classmethod
    def _month_day(cls, value: str) -> str:
        _parse_month_day(value)
        return value

    @model_validator(mode="after")
    def _periods_ok(self) -> Self:
        _check_periods(self.periods)
        return self

    def _covers_month_day(self, md: tuple[int, int]) -> bool:
        lo = _parse_month_day(self.from_month_day)
        hi = _parse_month_day(self.until_month_day)
        return lo <= md <= hi if lo <= hi else (md >= lo or md <= hi)

    def day_keys(self) -> set[tuple[int, int]]:
        """Every (month, day) this season covers, ``(2, 29)`` included when in range."""
        first = date(2000, 1, 1).toordinal()  # 2000 is a leap year: all 366 days
        days = (date.fromordinal(o) for o in range(first, first + 366))
        return {md for d in days if self._covers_month_day(md := (d.month, d.day))}

    def covers(self, d: date) -> bool:
        """Whether day ``d`` falls in this season."""
        return self._covers_month_day((d.month, d.day))


class OfficeHours(_Frozen):
    """Office hours: default 09:00-12:00 and 13:00-17:00, optionally seasonal schedules.

    Civil Code 第二百零三条: where there are business hours, a period's last day ends at the
    close of business. Seasons must not overlap; a day no season covers uses ``periods``.
    """

    periods: list[OfficePeriod] = Field(default_factory=_default_periods)
    seasons: list[OfficeHoursSeason] = Field(default_factory=list)

    @model_validator(mode="after")
    def _valid(self) -> Self:
        _check_periods(self.periods)
        seen: dict[tuple[int, int], str] = {}
        for season in self.seasons:
            for key in season.day_keys():
                if key in seen:
                    raise ValueError(
                        f"seasons {seen[key]!r} and {season.name!r} overlap "
                        f"(both cover {key[0]:02d}-{key[1]:02d})"
                    )
                seen[key] = season.name
        return self

    def periods_on(self, d: date) -> list[OfficePeriod]:
        """The office periods of day ``d``'s schedule (does not check that ``d`` is worked)."""
        for season in self.seasons:
            if season.covers(d):
                return season.periods
        return self.periods


class OverrideDay(_Frozen):
    """One day the overrides file changes, with why and on whose authority."""

    date: date
    reason: str = Field(min_length=1)
    source: str = Field(min_length=1)


class CalendarOverrides(_Frozen):
    """A ruleset's corrections to the national calendar.

    - ``days_off``: dates that are not working days (e.g. a local holiday, or a year's notice
      published before ``holidays`` has it).
    - ``working_days``: dates that are working days (e.g. a 调休 Saturday).
    - ``known_years``: years whose 调休 schedule this file declares complete, so deadlines touching
      them carry no unknown-schedule warning.

    A date in both lists, or twice in one list, is an error.
    """

    days_off: list[OverrideDay] = Field(default_factory=list)
    working_days: list[OverrideDay] = Field(default_factory=list)
    known_years: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for name, days in (("days_off", self.days_off), ("working_days", self.working_days)):
            seen: set[date] = set()
            for day in days:
                if day.date in seen:
                    raise ValueError(f"{name}: {day.date.isoformat()} is listed twice")
                seen.add(day.date)
        both = {d.date for d in self.days_off} & {d.date for d in self.working_days}
        if both:
            listed = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"dates listed both as days_off and as working_days: {listed}")
        for year in self.known_years:
            if not 1 <= year <= 9999:
                raise ValueError(f"known_years: {year} is not a year")
        if len(set(self.known_years)) != len(self.known_years):
            raise ValueError("known_years: a year is listed twice")
        return self


@cache
def holidays_known_years() -> frozenset[int]:
    """Years for which ``holidays.China`` carries the State Council's 调休 schedule.

    ``holidays`` has no public "which years are official" list, so this looks at what it
    publishes: the years that contain a weekend working day (``weekend_workdays``, filled from
    each year's notice). The known span is the contiguous run from the first such year to the
    last; years outside it (before 2001, or after the last notice ``holidays`` carries, 2026 in
    holidays 0.109) are unknown.
    """
    last_probe = max(date.today().year, 2026) + 5
    cn = holidays.China(years=range(1990, last_probe + 1))
    years = {d.year for d in cn.weekend_workdays}
    if not years:
        return frozenset()
    return frozenset(range(min(years), max(years) + 1))


def as_shanghai(value: date | datetime) -> datetime:
    """An aware datetime in Asia/Shanghai. Naive means Shanghai; a date means its 00:00."""
    if isinstance(value, datetime):
        tz = value.tzinfo
        if tz is None:
            return value.replace(tzinfo=SHANGHAI)
        if tz is SHANGHAI:  # what astimezone returns then: the value itself, unchanged
            return value
        return value.astimezone(SHANGHAI)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=SHANGHAI)
    raise CalendarError(f"expected a date or datetime, got {type(value).__name__}")


MAX_MOMENT_TEXT = 64
"""An ISO date or datetime is never longer; longer text is refused without being parsed or echoed."""


def as_moment(value: object, field: str = "time") -> date | datetime:
    """A date or datetime from what ``decide()`` accepts: a date, a datetime or ISO-8601 text.

    ``"2021-09-30"`` is a date, ``"2021-09-30T10:05"`` a naive datetime (Asia/Shanghai),
    ``"2021-09-30T10:05+08:00"`` an aware one. Anything else (numbers, booleans, other text)
    raises :class:`~nocert_rules.errors.RequestError` naming ``field``.
    """
    if isinstance(value, date):  # datetime is a date too
        return value
    if isinstance(value, str) and len(value) <= MAX_MOMENT_TEXT:
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromisoformat(text)
        except ValueError:
            pass
        raise RequestError([(field, "不是 ISO 8601 日期或时间 / not an ISO 8601 date or datetime")])
    if isinstance(value, str):
        raise RequestError([(field, f"过长（超过 {MAX_MOMENT_TEXT} 个字符） / too long for a date or datetime")])
    raise RequestError(
        [(field, f"须为日期、时间或 ISO 8601 文本，不是 {type(value).__name__} / expected a date, "
                 "datetime or ISO 8601 text")]
    )


def _wall(value: date | datetime) -> datetime:
    """A datetime whose fields are the Asia/Shanghai wall clock: naive, or aware in Asia/Shanghai.

    Only its fields are read (year, ordinal, time of day), so the common cases, naive or already
    in Asia/Shanghai, are taken as they are; anything else goes through :func:`as_shanghai`.
    """
    if type(value) is datetime:
        tz = value.tzinfo
        if tz is None or tz is SHANGHAI:
            return value
    return as_shanghai(value)


def _local_date(value: date | datetime) -> date:
    if type(value) is date:
        return value
    return _wall(value).date()


def _us(td: timedelta) -> int:
    return (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds


@dataclass(frozen=True, slots=True)
class _DayShape:
    """One day's office periods as integer microseconds since midnight, for bisecting."""

    bounds: tuple[int, ...]  # start0, end0, start1, end1, ... ascending
    done: tuple[int, ...]  # done[k]: office time up to bounds[k - 1] (0 for k = 0)
    cum: tuple[int, ...]  # cum[p]: office time in periods 0..p, inclusive
    offset: tuple[int, ...]  # offset[p]: start of period p minus the office time before it
    total_us: int

    @classmethod
    def of(cls, periods: tuple[tuple[timedelta, timedelta], ...]) -> _DayShape:
        bounds: list[int] = []
        done = [0]
        cum: list[int] = []
        offset: list[int] = []
        total = 0
        for s, e in periods:
            start, end = _us(s), _us(e)
            bounds += (start, end)
            offset.append(start - total)
            done.append(total)  # up to this period's start
            total += end - start
            done.append(total)
            cum.append(total)
        return cls(tuple(bounds), tuple(done), tuple(cum), tuple(offset), total)


@dataclass(frozen=True, slots=True)
class _Year:
    first: int  # ordinal of 1 January
    days: list[int]  # ordinals of the year's working days, ascending
    cum_us: list[int]  # cum_us[i]: office microseconds on days[0..i], inclusive
    total_us: int
    dates: list[date]  # the same working days as date objects
    after: dict[date, int]  # every date of the year -> index in days of the first working day after it
    # Per working day i (aligned with days):
    shapes: list[_DayShape]  # its office periods
    midnights: list[datetime]  # its 00:00, aware
    closes: list[datetime]  # its close of business, aware
    # Per day of the year (index: ordinal - first):
    slot: list[int]  # index in days, or -1 for a day off
    before_us: list[int]  # office microseconds on the year's working days before that day
    shape_on: list[_DayShape | None]  # the day's office periods, None for a day off


class WorkCalendar:
    """Working days and office time in mainland China, per the State Council's notices.

    ``office_hours`` defaults to 09:00-12:00 and 13:00-17:00. ``overrides`` adds days off,
    working days and years declared complete (see :class:`CalendarOverrides`).
    """

    def __init__(
        self,
        office_hours: OfficeHours | None = None,
        overrides: CalendarOverrides | None = None,
    ) -> None:
        self.office_hours = office_hours if office_hours is not None else OfficeHours()
        self.overrides = overrides if overrides is not None else CalendarOverrides()
        self._off = {d.date for d in self.overrides.days_off}
        self._on = {d.date for d in self.overrides.working_days}
        self._known = holidays_known_years() | frozenset(self.overrides.known_years)
        self._years: dict[int, _Year] = {}
        # (month, day) -> ((start, end), ...) as offsets from midnight
        self._schedule: dict[tuple[int, int], tuple[tuple[timedelta, timedelta], ...]] = {}
        for month_day in ((m, d) for m in range(1, 13) for d in range(1, 32)):
            try:
                day = date(2000, *month_day)
            except ValueError:
                continue
            self._schedule[month_day] = tuple(
                (_since_midnight(p.start), _since_midnight(p.end))
                for p in self.office_hours.periods_on(day)
            )
        # The same shape object for every day with the same periods.
        shapes: dict[tuple[tuple[timedelta, timedelta], ...], _DayShape] = {}
        self._shapes: dict[tuple[int, int], _DayShape] = {}
        for month_day, periods in self._schedule.items():
            shape = shapes.get(periods)
            if shape is None:
                shape = shapes[periods] = _DayShape.of(periods)
            self._shapes[month_day] = shape

    @classmethod
    def from_config(
        cls,
        office_hours: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> WorkCalendar:
        """Build from plain dicts (as parsed from a ruleset's YAML).

        Raises :class:`CalendarError` (with pydantic's message) if either is invalid.
        """
        try:
            hours = OfficeHours.model_validate(office_hours) if office_hours is not None else None
            extra = CalendarOverrides.model_validate(overrides) if overrides is not None else None
        except ValidationError as exc:
            raise CalendarError(str(exc)) from exc
        return cls(office_hours=hours, overrides=extra)

    def __repr__(self) -> str:
        return f"WorkCalendar(office_hours={self.office_hours!r}, overrides={self.overrides!r})"

    # -- years -------------------------------------------------------------------------------

    @property
    def known_years(self) -> frozenset[int]:
        """Years whose schedule is known: those ``holidays`` carries plus ``known_years``."""
        return self._known

    def _year(self, year: int) -> _Year:
        data = self._years.get(year)
        if data is None:
            data = self._years[year] = self._build_year(year)
        return data

    def _build_year(self, year: int) -> _Year:
        if not 1 <= year <= 9999:
            raise CalendarError(f"year {year} is outside the calendar (1-9999)")
        # A year's last days can be moved by the next year's notice (2005-12-31 was made a
        # working day by the 2006 notice). holidays 0.109 records such cross-year days whatever
        # years are asked for; the neighbours are loaded too for releases that only do so when
        # the next year is populated.
        cn = holidays.China(years=[y for y in (year - 1, year, year + 1) if 1 <= y <= 9999])
        days: list[int] = []
        cum: list[int] = []
        total = 0
        shapes: list[_DayShape] = []
        midnights: list[datetime] = []
        closes: list[datetime] = []
        after: dict[date, int] = {}
        slot: list[int] = []
        before_us: list[int] = []
        shape_on: list[_DayShape | None] = []
        first = date(year, 1, 1).toordinal()
        for o in range(first, date(year, 12, 31).toordinal() + 1):
            d = date.fromordinal(o)
            before_us.append(total)
            if d in self._on or (d not in self._off and cn.is_working_day(d)):
                shape = self._shapes[(d.month, d.day)]
                slot.append(len(days))
                shape_on.append(shape)
                days.append(o)
                total += shape.total_us
                cum.append(total)
                shapes.append(shape)
                midnight = datetime.combine(d, time())
                midnights.append(midnight.replace(tzinfo=SHANGHAI))
                closes.append((midnight + self._schedule[(d.month, d.day)][-1][1]).replace(tzinfo=SHANGHAI))
            else:
                slot.append(-1)
                shape_on.append(None)
            after[d] = len(days)  # the first working day after d: d itself is never counted
        return _Year(
            first=first,
            days=days,
            cum_us=cum,
            total_us=total,
            dates=[date.fromordinal(o) for o in days],
            after=after,
            shapes=shapes,
            midnights=midnights,
            closes=closes,
            slot=slot,
            before_us=before_us,
            shape_on=shape_on,
        )

    def unknown_years_between(self, a: date | datetime, b: date | datetime) -> list[int]:
        """Years from ``a``'s to ``b``'s (either order, inclusive) whose 调休 schedule is unknown."""
        ya, yb = _local_date(a).year, _local_date(b).year
        if ya == yb:  # the common case
            return [] if ya in self._known else [ya]
        lo, hi = min(ya, yb), max(ya, yb)
        return [y for y in range(lo, hi + 1) if y not in self._known]

    def warnings_for(self, a: date | datetime, b: date | datetime) -> list[str]:
        """One warning (Chinese, then English) per unknown year between ``a`` and ``b``."""
        unknown = self.unknown_years_between(a, b)
        return [_unknown_year_warning(y) for y in unknown] if unknown else []

    # -- days --------------------------------------------------------------------------------

    def is_working_day(self, d: date | datetime) -> bool:
        """Whether ``d`` (its Shanghai date, for a datetime) is a working day."""
        day = _local_date(d)
        data = self._years.get(day.year) or self._year(day.year)
        return data.slot[day.toordinal() - data.first] >= 0

    def add_working_days(self, start: date | datetime, n: int) -> date:
        """The ``n``-th working day after ``start``'s date (民法典 第二百零一条).

        The start day is never counted, whatever it is: the first counted day is the next working
        day after it. ``n == 0`` returns ``start``'s own date unchanged (no period at all).
        ``n < 0`` raises :class:`CalendarError`.
        """
        d = start if type(start) is date else _local_date(start)
        if n > 0:  # fast path: one dict lookup, one list index
            data = self._years.get(d.year)
            if data is not None:
                i = data.after[d] + n - 1
                if i < len(data.dates):
                    return data.dates[i]
        if n < 1:
            if n == 0:
                return d
            raise CalendarError(f"a period cannot be a negative number of working days: {n}")
        year = d.year
        data = self._years.get(year) or self._year(year)
        days = data.days
        i = bisect_right(days, d.toordinal()) + n - 1
        while i >= len(days):
            i -= len(days)
            year += 1
            days = self._year(year).days
        return date.fromordinal(days[i])

    def working_days_between(self, a: date | datetime, b: date | datetime) -> int:
        """The number of working days in the half-open interval (a, b] of dates.

        So ``add_working_days(a, n)`` is the first date ``b`` with ``working_days_between(a, b)
        == n``. If ``a`` is after ``b`` the result is ``-working_days_between(b, a)``.
        """
        da, db = _local_date(a), _local_date(b)
        if da > db:
            return -self.working_days_between(db, da)
        count = 0
        for year in range(da.year, db.year):
            count += len(self._year(year).days)
        count -= bisect_right(self._year(da.year).days, da.toordinal())
        count += bisect_right(self._year(db.year).days, db.toordinal())
        return count

    # -- office time -------------------------------------------------------------------------

    def office_periods(self, d: date) -> list[tuple[datetime, datetime]]:
        """The office periods on ``d`` as aware datetimes; empty if ``d`` is not a working day."""
        day = _local_date(d)
        if not self.is_working_day(day):
            return []
        midnight = datetime.combine(day, time())
        return [
            ((midnight + s).replace(tzinfo=SHANGHAI), (midnight + e).replace(tzinfo=SHANGHAI))
            for s, e in self._schedule[(day.month, day.day)]
        ]

    def close_of_business(self, d: date | datetime) -> datetime:
        """End of the last office period on working day ``d``, aware (民法典 第二百零三条).

        Raises :class:`CalendarError` if ``d`` is not a working day (there is no business then).
        """
        day = _local_date(d)
        data = self._years.get(day.year) or self._year(day.year)
        i = data.slot[day.toordinal() - data.first]
        if i < 0:
            raise CalendarError(
                f"{day.isoformat()} is not a working day; it has no close of business"
            )
        return data.closes[i]

    def _office_us_before(self, wall: datetime) -> int:
        """Office microseconds in the year before the Shanghai wall-clock moment ``wall``
        (see :func:`_wall`)."""
        data = self._years.get(wall.year) or self._year(wall.year)
        i = wall.toordinal() - data.first
        shape = data.shape_on[i]
        if shape is None:
            return data.before_us[i]
        # Office time of the day before t microseconds after midnight:
        t = (wall.hour * 3600 + wall.minute * 60 + wall.second) * 1_000_000 + wall.microsecond
        k = bisect_right(shape.bounds, t)
        if k & 1:  # inside period k // 2
            return data.before_us[i] + shape.done[k] + t - shape.bounds[k - 1]
        return data.before_us[i] + shape.done[k]

    def working_time_between(self, a: date | datetime, b: date | datetime) -> timedelta:
        """Office time from ``a`` to ``b`` (working days, office periods only).

        Negative if ``b`` is before ``a``. Dates mean 00:00; naive means Asia/Shanghai.
        """
        wa, wb = _wall(a), _wall(b)
        # Office time before b minus office time before a, both counted from a's year.
        us = self._office_us_before(wb) - self._office_us_before(wa)
        ya, yb = wa.year, wb.year
        if ya != yb:
            years = sum(self._year(year).total_us for year in range(min(ya, yb), max(ya, yb)))
            us += years if ya < yb else -years
        return timedelta(0, 0, us)  # positional: (days, seconds, microseconds), twice as fast

    def add_working_minutes(self, start: date | datetime, minutes: int | float) -> datetime:
        """The moment when ``minutes`` of office time have run from ``start`` (附件2 第七条).

        Only office periods on working days count: lunch breaks, nights, weekends, holidays are
        skipped and 调休 working days count. A limit that runs out exactly at the end of a period
        ends then (16:30 + 30 min is 17:00 the same day). ``minutes == 0`` returns ``start``;
        negative raises :class:`CalendarError`. Naive means Asia/Shanghai; the result is aware.
        """
        if minutes < 0:
            raise CalendarError(f"a period cannot be a negative number of minutes: {minutes}")
        wall = _wall(start)
        add_us = round(minutes * _US_PER_MINUTE)
        if add_us == 0:
            return wall.replace(tzinfo=SHANGHAI)
        year = wall.year
        target = self._office_us_before(wall) + add_us
        while True:
            data = self._years.get(year) or self._year(year)
            if target <= data.total_us:
                break
            target -= data.total_us
            year += 1
        j = bisect_left(data.cum_us, target)
        remaining = target - (data.cum_us[j - 1] if j else 0)  # 0 < remaining <= the day's office time
        shape = data.shapes[j]
        # The period in which it runs out; exactly at a period's end is that period, not the next.
        p = bisect_left(shape.cum, remaining)
        return data.midnights[j] + timedelta(0, 0, shape.offset[p] + remaining)


def _since_midnight(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _unknown_year_warning(year: int) -> str:
    return (
        f"{year} 年的放假调休安排（国务院办公厅通知）本日历尚未收录：本期限只按周末和法定节假日"
        f"（落在周末的顺延补休）推算，未计调休上班日，可能不准确。通知发布后，请在规则集的日历覆盖"
        f"文件（calendar_overrides.yaml）的 days_off / working_days 中补录与推算不同的日期，"
        f"并将 {year} 加入 known_years。"
        f" / The {year} holiday schedule (State Council notice, including 调休 weekend working "
        f"days) is not known to this calendar: this deadline assumes weekends and statutory "
        f"holidays only (moved to the next weekday when they fall on a weekend), with no 调休 "
        f"working days, and may be wrong. Once the notice is out, list the days that differ under "
        f"days_off / working_days in the ruleset's calendar overrides file "
        f"(calendar_overrides.yaml) and add {year} to known_years."
    )
