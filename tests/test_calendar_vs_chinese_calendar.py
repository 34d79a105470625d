"""WorkCalendar (built on ``holidays``) checked against a second source, ``chinese_calendar``.

``chinese_calendar`` (pip ``chinesecalendar``; 1.11.0 was checked) has data for 2004 through
2026 and raises ``NotImplementedError`` outside that, so every day from 2004-01-01 to 2026-12-31
is compared, which is the whole range asked for.

The two sources disagree on exactly one day, 2005-12-31 (a Saturday):

- ``holidays`` makes it a working day;
- ``chinese_calendar`` makes it an ordinary weekend day.

The 2006 notice, 国务院办公厅关于2006年部分节假日安排的通知 (dated 2005-12-16; the zh.wikisource
transcription, which ``holidays`` cites, numbers it 国办发明电〔2005〕35号; not checked against the
gov.cn gazette), says under 元旦: "1月1日—3日放假，共3天 ... 将12月31日（星期六）、1月1日（星期日）
两个公休日调至1月2日（星期一）、3日（星期二），12月31日（星期六）上班". So ``holidays`` is right and
``chinese_calendar`` misses the cross-year 调休 day (the same report is open upstream:
liriansu-opus/chinese-calendar issue #125, "2005-12-31 应为workday?"). Any other disagreement fails.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, timedelta

import pytest

from nocert_rules.worktime.calendar import CalendarOverrides, OverrideDay, WorkCalendar

cc = pytest.importorskip("chinese_calendar")

FIRST, LAST = date(2004, 1, 1), date(2026, 12, 31)
DISPUTED = date(2005, 12, 31)  # working day per the 2006 notice; chinese_calendar says rest day
N_VALUES = (1, 2, 5, 7, 10, 20)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


ALL_DAYS = _days(FIRST, LAST)


@pytest.fixture(scope="module")
def cc_workdays() -> list[date]:
    return [d for d in ALL_DAYS if cc.is_workday(d)]


def _cc_add(workdays: list[date], start: date, n: int) -> date | None:
    """The n-th chinese_calendar workday after ``start``; None past the end of its data."""
    i = bisect_right(workdays, start) + n - 1
    return workdays[i] if i < len(workdays) else None


def test_chinese_calendar_covers_2004_to_2026() -> None:
    assert cc.is_workday(FIRST) is False  # 元旦
    assert cc.is_workday(date(2026, 10, 10)) is True  # Saturday, 调休 per the 2026 notice
    with pytest.raises(NotImplementedError):
        cc.is_workday(date(2027, 1, 4))
    with pytest.raises(NotImplementedError):
        cc.is_workday(date(2003, 12, 31))


def test_is_working_day_agrees_except_2005_12_31(cc_workdays: list[date]) -> None:
    cal = WorkCalendar()
    theirs = set(cc_workdays)
    disagreements = [d for d in ALL_DAYS if cal.is_working_day(d) != (d in theirs)]
    assert disagreements == [DISPUTED]
    assert cal.is_working_day(DISPUTED) and DISPUTED.weekday() == 5


def test_our_oracle_matches_chinese_calendar_find_workday(cc_workdays: list[date]) -> None:
    """The bisect oracle above is checked against chinese_calendar's own find_workday.

    ``find_workday(k, d)`` rolls ``d`` forward to a workday (inclusive), then moves ``k`` more;
    so the n-th workday after ``start`` is ``find_workday(n - 1, start + 1 day)``. It steps day
    by day and is slow, hence a sample of starts.
    """
    for start in ALL_DAYS[::53]:
        for n in (1, 2, 5):
            ours = _cc_add(cc_workdays, start, n)
            if ours is None:
                continue
            assert cc.find_workday(n - 1, start + timedelta(days=1)) == ours, (start, n)


def test_add_working_days_agrees_once_the_disputed_day_is_aligned(
    cc_workdays: list[date],
) -> None:
    """With 2005-12-31 made a day off by override (chinese_calendar's view), all results agree."""
    aligned = WorkCalendar(
        overrides=CalendarOverrides(
            days_off=[
                OverrideDay(
                    date=DISPUTED, reason="align with chinese_calendar for this test", source="test"
                )
            ]
        )
    )
    mismatches = []
    for start in ALL_DAYS:
        for n in N_VALUES:
            theirs = _cc_add(cc_workdays, start, n)
            if theirs is not None and aligned.add_working_days(start, n) != theirs:
                mismatches.append((start, n))
    assert mismatches == []


def test_add_working_days_differs_only_around_the_disputed_day(cc_workdays: list[date]) -> None:
    """Unaligned, a result may differ only if 2005-12-31 lies in the counted span."""
    cal = WorkCalendar()
    differing = []
    for start in ALL_DAYS:
        for n in N_VALUES:
            theirs = _cc_add(cc_workdays, start, n)
            if theirs is None:
                continue
            ours = cal.add_working_days(start, n)
            if ours != theirs:
                assert start < DISPUTED <= ours < theirs, (start, n, ours, theirs)
                differing.append(start)
    assert differing  # the disputed day does show up
    assert max(differing) == DISPUTED - timedelta(days=1)
