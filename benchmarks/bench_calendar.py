"""Benchmark: WorkCalendar.add_working_days vs holidays' get_nth_working_day vs numpy.

Run: ``python benchmarks/bench_calendar.py`` (not a test; prints a table).

All three answer "the n-th working day after ``start``" (start not counted):

- ``WorkCalendar.add_working_days(start, n)``: bisect into a per-year array of working days.
- ``holidays.China.get_nth_working_day(start, n)`` (``HolidayBase.get_nth_working_day(key, n)``
  in holidays 0.109): steps day by day through ``is_working_day``. Same answer as ours.
- ``numpy.busday_offset(start, n, roll="backward", busdaycal=...)`` with China's weekday
  holidays as the holiday list. numpy's weekmask is the same every week, so it cannot express
  调休 weekend working days: they count as days off, and numpy's answer is wrong whenever the
  counted span includes one. The mismatch rate is printed.

Workload: random start dates 2004-2026 (seeded), per n; the 2005-2027 years are built before
timing so one-off per-year setup (about 1 ms a year) is not measured.
"""

from __future__ import annotations

import argparse
import random
import timeit
from datetime import date, timedelta

import holidays
import numpy as np

from nocert_rules.worktime.calendar import WorkCalendar

N_VALUES = (1, 2, 5, 10, 20, 60)
STARTS = 2000
REPEAT = 5


def _best_per_call(fn, calls: int) -> float:  # type: ignore[no-untyped-def]
    return min(timeit.repeat(fn, number=1, repeat=REPEAT)) / calls


def main(argv: list[str] | None = None) -> None:
    global STARTS, REPEAT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 starts, 1 repeat (a check that it runs)")
    if parser.parse_args(argv).quick:
        STARTS, REPEAT = 100, 1
    rng = random.Random(20250927)
    first, last = date(2004, 1, 1), date(2026, 9, 30)
    span = (last - first).days
    starts = [first + timedelta(days=rng.randrange(span)) for _ in range(STARTS)]

    cal = WorkCalendar()
    cn = holidays.China(years=range(2003, 2029))
    for y in range(2003, 2029):  # warm both caches
        cal.is_working_day(date(y, 6, 1))
    # numpy: China's non-working weekdays as holidays; weekend working days cannot be given.
    weekday_holidays = [d for d in cn if d.weekday() < 5 and not cn.is_working_day(d)]
    busdaycal = np.busdaycalendar(weekmask="1111100", holidays=sorted(weekday_holidays))
    starts_np = np.array(starts, dtype="datetime64[D]")

    print(f"holidays {holidays.__version__}, numpy {np.__version__}; {STARTS} random starts")
    header = (
        f"{'n':>3} | {'ours µs':>8} | {'holidays µs':>11} | {'numpy µs':>8} | "
        f"{'numpy vec µs':>12} | {'vs holidays':>11} | {'vs numpy':>8} | {'numpy wrong':>11}"
    )
    print(header)
    print("-" * len(header))
    totals = {"ours": 0.0, "hol": 0.0, "np": 0.0}
    for n in N_VALUES:
        ours = [cal.add_working_days(s, n) for s in starts]
        theirs = [cn.get_nth_working_day(s, n) for s in starts]
        assert ours == theirs, f"holidays disagrees for n={n}"
        np_res = np.busday_offset(starts_np, n, roll="backward", busdaycal=busdaycal)
        wrong = sum(a != b for a, b in zip(np_res.astype(object), ours, strict=True))

        t_ours = _best_per_call(lambda n=n: [cal.add_working_days(s, n) for s in starts], STARTS)
        t_hol = _best_per_call(lambda n=n: [cn.get_nth_working_day(s, n) for s in starts], STARTS)
        t_np = _best_per_call(
            lambda n=n: [
                np.busday_offset(s, n, roll="backward", busdaycal=busdaycal) for s in starts
            ],
            STARTS,
        )
        t_vec = _best_per_call(
            lambda n=n: np.busday_offset(starts_np, n, roll="backward", busdaycal=busdaycal), STARTS
        )
        totals["ours"] += t_ours
        totals["hol"] += t_hol
        totals["np"] += t_np
        print(
            f"{n:>3} | {t_ours * 1e6:>8.2f} | {t_hol * 1e6:>11.2f} | {t_np * 1e6:>8.2f} | "
            f"{t_vec * 1e6:>12.3f} | {t_hol / t_ours:>10.1f}x | {t_np / t_ours:>7.1f}x | "
            f"{wrong / STARTS:>10.1%}"
        )
    print(
        f"all n (equal weight): ours {totals['ours'] / len(N_VALUES) * 1e6:.2f} µs/call, "
        f"{totals['hol'] / totals['ours']:.1f}x faster than get_nth_working_day, "
        f"{totals['np'] / totals['ours']:.1f}x faster than scalar numpy.busday_offset"
    )
    print(
        "numpy vec = one vectorised busday_offset over all starts, per element; its answers "
        "ignore 调休 working days (see 'numpy wrong')."
    )


if __name__ == "__main__":
    main()
