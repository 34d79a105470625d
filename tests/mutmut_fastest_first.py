"""pytest plugin for the mutmut job only (``[tool.mutmut]`` loads it with ``-p``): run a mutant's
tests fastest first.

mutmut passes each mutant's tests to pytest as a set (in no useful order) with ``-x``: a killed
mutant costs the tests run until the first failure. Sorting by the durations mutmut measured in
its stats run puts the slow linear-time and property tests last, where they run only for the
mutants nothing faster kills. Outside a mutmut run (no ``mutmut-stats.json``) it does not sort.
It also runs the linear-time tests on a tenth of their text (``NOCERT_HOSTILE_SCALE``): under
mutmut's trampolines the full texts took 17 s of the 20 s those tests allow.

The tests in ``BOUNDED`` go first of all: they scan in a thread with a time limit or take a bounded
number of finds, so a mutant that loops forever (``i -= 18``, ``find(needle)`` from 0) fails there
in seconds; any other test would hang on it until mutmut's timeout (minutes of CPU).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# test_privacy.py's linear-time tests on a tenth of their text (its note says why)
os.environ.setdefault("NOCERT_HOSTILE_SCALE", "1")

BOUNDED = frozenset({
    "tests/test_privacy_mutants.py::test_id_numbers_side_by_side_in_one_run_are_each_found_once",
    "tests/test_privacy_mutants.py::test_a_long_digit_run_is_scanned_in_bounded_time",
    "tests/test_privacy_mutants.py::test_each_repeat_of_a_known_value_is_found_once",
})


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    stats = Path("mutmut-stats.json")  # mutmut runs pytest inside mutants/
    if not stats.is_file():
        return
    try:
        durations = json.loads(stats.read_text(encoding="utf-8")).get("duration_by_test", {})
    except (OSError, ValueError):
        return
    items.sort(key=lambda item: (item.nodeid not in BOUNDED, durations.get(item.nodeid, 0.0)))
