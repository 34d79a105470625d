"""The size of rule set durable_rules' C core survives, measured, and the budget kept below it.

durable-rules 2.0.28 compiles each condition to a network of nodes with fixed-size tables
(``src/rules/rules.h``, ``rete.h``). Measured here, each probe in a child process
(``nocert_rules.engine.durable_probe``, ``benchmarks/durable_limits.py``, ``tests/test_budget.py``),
on Python 3.11, durable-rules 2.0.28:

- one node may have at most 511 children (a 512-entry hash set, linear probing): ``in:`` over
  511 values fails at the first fact (error 303), over 512 to 1000 values ``createRuleset`` spins
  for ever; 260 rules each ``in:`` 2 values (520 tests of one fact) spin too; with other rules
  beside them the process can also die (SIGSEGV, SIGABRT ``free(): invalid pointer``);
- one node may end at most 256 paths (beta list): 256 rules with the same condition compile,
  260 fail (error 108; the C code reads past the list before it says so);
- an ``$or``/``$and`` expression may be nested at most 15 deep (32-entry expression sequence):
  16 levels of ``any:`` fail (error 113).

Every ``$or`` alternative is a separate path through the network (which is also why a rule
whose two alternatives hold fires twice). So the number of paths of a rule set, its
alternatives multiplied out (``paths``), bounds how many children or ends any node has,
and the nesting of its expressions bounds the expression sequences. The budget keeps both
at half of the smallest limit measured: at most ``MAX_PATHS`` paths in all, ``MAX_DEPTH``
levels of nesting. A rule set over budget is decided by the compiled backend under
``backend="auto"``; ``backend="durable"`` refuses it with a ``RulesetError`` at its rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_PATHS = 128
"""Paths (alternatives multiplied out) in a whole rule set; the C core failed at 256 and at 512."""

MAX_DEPTH = 8
"""Nesting of ``$or``/``$and`` in one condition as compiled for durable_rules; failed at 16."""

MAX_FACTS = 128
"""Facts one rule set may read (a durable fact holds at most 255 properties)."""

_CAP = 1 << 62  # paths are counted up to this, never expanded: ``all`` of 40 ``in``s is 2**40


def paths(when: Mapping[str, Any]) -> int:
    """How many ``$or`` alternatives ``when`` multiplies out to (capped at 2**62)."""
    count = 1
    for key, expected in when.items():
        if key == "any":
            term = min(_CAP, sum(paths(sub) for sub in expected))
        elif key == "all":
            term = 1
            for sub in expected:
                term = min(_CAP, term * paths(sub))
        elif isinstance(expected, Mapping) and next(iter(expected)) == "in":
            term = len(next(iter(expected.values())))
        else:
            term = 1
        count = min(_CAP, count * term)
    return count


def depth(expression: Any) -> int:
    """How deep ``$or``/``$and`` nest in a durable_rules expression (``conditions.to_durable``)."""
    if not isinstance(expression, Mapping):
        return 0
    deepest = 0
    for key, value in expression.items():
        if key in ("$or", "$and"):
            deepest = max(deepest, 1 + max((depth(sub) for sub in value), default=0))
        else:
            deepest = max(deepest, depth(value))
    return deepest


@dataclass(frozen=True)
class OverBudget:
    """Why a rule set is not given to durable_rules: the rule (its index) and the limit."""

    index: int | None
    problem: str


@dataclass(frozen=True)
class Usage:
    paths: int
    depth: int
    facts: int

    def describe(self) -> str:
        return (
            f"{self.paths} paths of {MAX_PATHS}, nesting {self.depth} of {MAX_DEPTH}, "
            f"{self.facts} facts of {MAX_FACTS}"
        )


def usage(rules: Sequence[tuple[str, Mapping[str, Any]]]) -> Usage:
    """What ``rules`` use of durable_rules' budget."""
    from nocert_rules.policy import conditions

    total = 0
    deepest = 0
    facts: set[str] = set()
    for _, when in rules:
        total = min(_CAP, total + paths(when))
        deepest = max(deepest, _safe_depth(when))
        facts |= conditions.facts_named(when)
    return Usage(total, deepest, len(facts))


def check(rules: Sequence[tuple[str, Mapping[str, Any]]]) -> OverBudget | None:
    """None when durable_rules may compile ``rules``; else the first rule over budget."""
    from nocert_rules.policy import conditions

    total = 0
    facts: set[str] = set()
    for index, (rule_id, when) in enumerate(rules):
        d = _safe_depth(when)
        if d > MAX_DEPTH:
            return OverBudget(
                index,
                f"rule {rule_id}: conditions nest {d} deep for durable_rules; its budget is {MAX_DEPTH} "
                f"(it fails at 16) / 条件嵌套过深",
            )
        total = min(_CAP, total + paths(when))
        if total > MAX_PATHS:
            return OverBudget(
                index,
                f"rule {rule_id}: the rules up to here have {total} alternatives (paths) in all; "
                f"durable_rules' budget is {MAX_PATHS} (it hangs or crashes from 256 to 512) / 备选条件过多",
            )
        facts |= conditions.facts_named(when)
        if len(facts) > MAX_FACTS:
            return OverBudget(index, f"rule {rule_id}: more than {MAX_FACTS} facts read in all")
    return None


def _safe_depth(when: Mapping[str, Any]) -> int:
    from nocert_rules.policy import conditions

    return depth(conditions.to_durable(when))
