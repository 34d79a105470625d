"""``dryrun.bulk_gc``: the cycle collector tuned for the length of a run, and put back after."""

from __future__ import annotations

import gc
import weakref

from conftest import ROOT

from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.tools import dryrun


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_the_collector_is_tuned_while_running_and_put_back_after() -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with dryrun.bulk_gc():
        assert gc.isenabled()
        assert gc.get_threshold()[0] == max(before[0], dryrun.GC_GEN0_THRESHOLD)
        assert gc.get_threshold()[1:] == before[1:]
        assert gc.get_freeze_count() >= frozen
        a, b = _Node(), _Node()
        a.other, b.other = b, a  # a cycle made during the run is still collected
        ref = weakref.ref(a)
        del a, b
        gc.collect()
        assert ref() is None
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_run_leaves_the_collector_as_it_found_it(zibo: Ruleset) -> None:
    before = gc.get_threshold()
    result = dryrun.run_dry_run(zibo, str(ROOT / "examples" / "cases.jsonl"))
    assert result.summary.rows > 1000
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
