"""Benchmark: the working tree's calendar and deadlines against the same modules at a git revision.

Run: ``python benchmarks/bench_worktime.py [--rev REV] [--n CALLS]`` (not a test; prints a table).

The dry-run's summary calls ``WorkCalendar.working_time_between`` once per case with a deadline,
and new deadlines go through ``verification_due`` / ``add_working_minutes`` /
``add_working_days``. This times those calls, per call, in one process: the revision's
``nocert_rules/worktime/calendar.py`` and ``deadlines.py`` (read with ``git show``, loaded as
separate modules) and the working tree's, alternating, best of 5 rounds each. Default
revision: ``cdcdf62``, the tree before the per-day tables. Every result is checked equal before
anything is timed.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import subprocess
import sys
import tempfile
import timeit
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from nocert_rules import load_ruleset
from nocert_rules.enums import RecordKind
from nocert_rules.worktime import calendar as tree_calendar
from nocert_rules.worktime import deadlines as tree_deadlines

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 5


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def load_revision(rev: str, folder: Path) -> tuple[ModuleType, ModuleType]:
    """The revision's calendar and deadlines modules, the latter importing the former."""
    def show(path: str) -> str:
        return subprocess.run(
            ["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout

    (folder / "rev_calendar.py").write_text(show("nocert_rules/worktime/calendar.py"), encoding="utf-8")
    deadlines = show("nocert_rules/worktime/deadlines.py").replace(
        "from nocert_rules.worktime.calendar import", "from rev_calendar import"
    )
    (folder / "rev_deadlines.py").write_text(deadlines, encoding="utf-8")
    sys.path.insert(0, str(folder))
    return _load("rev_calendar", folder / "rev_calendar.py"), _load("rev_deadlines", folder / "rev_deadlines.py")


def cases(cal_mod: ModuleType, dl_mod: ModuleType) -> dict[str, Callable[[], Any]]:
    """The calls timed, on one module pair (a fresh calendar, its years built before timing)."""
    policy = load_ruleset(ROOT / "rulesets" / "zibo").deadline_policy
    sh = cal_mod.SHANGHAI
    cal = cal_mod.WorkCalendar()
    a, b = datetime(2021, 9, 30, 10, 5, 17, 250, tzinfo=sh), datetime(2021, 10, 12, 11, 0, tzinfo=sh)
    an, bn = a.replace(tzinfo=None), b.replace(tzinfo=None)
    d = date(2021, 10, 12)
    cal.working_time_between(date(2021, 1, 1), date(2022, 12, 31))
    e, p = RecordKind.ELECTRONIC, RecordKind.PAPER
    # the tree words the rule from the ruleset (policy=); an older revision words it itself
    worded = {"policy": policy} if "policy" in inspect.signature(dl_mod.post_check_due).parameters else {}
    return {
        "working_time_between(Shanghai-aware)": lambda: cal.working_time_between(a, b),
        "working_time_between(naive)": lambda: cal.working_time_between(an, bn),
        "add_working_minutes(30)": lambda: cal.add_working_minutes(a, 30),
        "add_working_days(datetime, 3)": lambda: cal.add_working_days(a, 3),
        "close_of_business(date)": lambda: cal.close_of_business(d),
        "warnings_for(a, b)": lambda: cal.warnings_for(a, b),
        "verification_due(30 working minutes)": lambda: dl_mod.verification_due(a, e, cal, policy=policy),
        "verification_due(1 working day)": lambda: dl_mod.verification_due(a, p, cal, policy=policy),
        "post_check_due(20 working days)": lambda: dl_mod.post_check_due(a, 20, cal, clause="c", **worded),
    }


def _same(x: Any) -> Any:
    """A result in comparable form: models as dicts, datetimes with their zone and fold."""
    if hasattr(x, "model_dump"):
        x = x.model_dump()
    return (x, getattr(x, "tzinfo", None), getattr(x, "fold", None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="cdcdf62", help="git revision to compare with (default: cdcdf62)")
    parser.add_argument("--n", type=int, default=50_000, help="calls per round (default: 50,000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rev_cal, rev_dl = load_revision(args.rev, Path(folder))
        old, new = cases(rev_cal, rev_dl), cases(tree_calendar, tree_deadlines)
    for name in old:
        assert _same(old[name]()) == _same(new[name]()), f"{name}: results differ"
    print(f"worktime at {args.rev} vs the working tree: µs per call, best of {ROUNDS} alternating "
          f"rounds of {args.n:,} calls, one process")
    header = f"{'call':38s} | {args.rev + ' µs':>12s} | {'tree µs':>8s} | {'speed-up':>8s}"
    print(header)
    print("-" * len(header))
    for name in old:
        t_old, t_new = [], []
        for _ in range(ROUNDS):
            t_old.append(timeit.timeit(old[name], number=args.n))
            t_new.append(timeit.timeit(new[name], number=args.n))
        o, n = min(t_old) / args.n * 1e6, min(t_new) / args.n * 1e6
        print(f"{name:38s} | {o:12.3f} | {n:8.3f} | {o / n:7.2f}x")


if __name__ == "__main__":
    main()
