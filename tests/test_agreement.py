"""The compiled backend fires exactly the rules durable_rules fires (issue #9).

For every ruleset in ``rulesets/`` (policy and complaint rules), the test factory's rules and
each variant of them the other tests write, the two backends are asked the same facts:

- per rule, every combination of the values of the facts that rule reads (a truth table of
  its condition; the other facts take seeded random values), and
- for the whole rule set, every combination of the values of every fact the rules read when
  there are at most ``EXHAUSTIVE`` of them; else ``EXHAUSTIVE`` combinations drawn with a fixed
  seed (the Zibo ruleset reads 15 facts: 3**15 combinations, so it is sampled; the per-rule
  tables are still complete).

A fact's values: ``true``/``false`` or every value of its enum; for an open fact (codes,
departments) every value the rule set mentions plus one it does not; and absent (an unlisted
certificate has no ``row.*`` facts). Then hypothesis writes random rule sets (within
durable_rules' budget) and facts. The fired lists (ids, in order) must be equal.
"""

from __future__ import annotations

import copy
import itertools
import random
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruleset_factory import RULES

from nocert_rules.engine import budget
from nocert_rules.engine.compiled import CompiledPredicates
from nocert_rules.policy import conditions
from nocert_rules.policy.complaint_rules import COMPLAINT_FACTS, load_complaint_rules
from nocert_rules.policy.conditions import FACTS, Fact
from nocert_rules.policy.ruleset import load_ruleset

durable_host = pytest.importorskip("nocert_rules.engine.durable_host", reason="durable_rules does not import here")

ROOT = Path(__file__).resolve().parent.parent
EXHAUSTIVE = 4096
ABSENT = object()
OTHER = "__not-in-the-ruleset__"

Rules = list[tuple[str, dict[str, Any]]]


def _tiny_variants() -> dict[str, Rules]:
    """The factory's rules and the variants other tests write (named after the test)."""
    base = copy.deepcopy(RULES)

    def pairs(rules: list[dict[str, Any]]) -> Rules:
        return [(r["id"], r["when"]) for r in rules]

    extra = lambda *rules: pairs([*copy.deepcopy(RULES), *rules])  # noqa: E731
    rule = lambda rid, when: {"id": rid, "when": when}  # noqa: E731
    return {
        "factory": pairs(base),
        "test_cli_diff": pairs([r for r in base if r["id"] != "x.no-auth"]) + [("s.never", {"request.listed": False})],
        "test_cli_guide": extra(rule("x.nobody", {"row.status": "retained"})),
        "test_cli_lint-no-risk": pairs([r for r in base if r["id"] != "g.risk"]),
        "test_cli_lint-never": extra(
            rule("z.contradiction", {"all": [{"request.sharing_online": True}, {"request.sharing_online": False}]}),
            rule("z.no-such-row", {"row.certificate_id": "does-not-exist"}),
            rule("z.unlisted-row-fact", {"request.listed": False, "row.status": "retained"}),
        ),
        "test_cli_lint-shadowed": extra(rule("g.never", {"row.allows_pledge": True})),
        "test_fault-no-catch-all": pairs([r for r in base if r["id"] != "x.retained"]),
        "test_records_complaints-accept": [
            ("accept.specific", {"complaint.specific": True}),
            ("reject.litigation", {"complaint.belongs_to_litigation": True}),
        ],
    }


def _bundled() -> dict[str, tuple[Rules, Mapping[str, Fact]]]:
    out: dict[str, tuple[Rules, Mapping[str, Fact]]] = {}
    for folder in sorted(p.parent for p in (ROOT / "rulesets").glob("*/manifest.yaml")):
        rs = load_ruleset(folder)
        out[f"{folder.name}-rules"] = ([(r.id, r.when) for r in rs.rules], FACTS)
        if rs.manifest.files.complaint_rules or (folder / "complaint_rules.yaml").is_file():
            complaints = load_complaint_rules(rs).content.rules
            out[f"{folder.name}-complaints"] = ([(r.id, r.when) for r in complaints], COMPLAINT_FACTS)
    return out


def _all_rulesets() -> dict[str, tuple[Rules, Mapping[str, Fact]]]:
    out = _bundled()
    for name, rules in _tiny_variants().items():
        out[f"tiny-{name}"] = (rules, COMPLAINT_FACTS if name.startswith("test_records") else FACTS)
    return out


RULESETS = _all_rulesets()


def mentioned(rules: Rules) -> dict[str, set[Any]]:
    """Every value each fact is compared with in ``rules``."""
    out: dict[str, set[Any]] = {}

    def walk(when: Mapping[str, Any]) -> None:
        for key, expected in when.items():
            if key in ("any", "all"):
                for sub in expected:
                    walk(sub)
                continue
            values = out.setdefault(key, set())
            if isinstance(expected, Mapping):
                operand = next(iter(expected.values()))
                values.update(operand if isinstance(operand, list) else [operand])
            else:
                values.add(expected)

    for _, when in rules:
        walk(when)
    return out


def domain(fact: Fact, seen: set[Any]) -> list[Any]:
    """The values to try for ``fact``: its finite domain, or what is mentioned plus one more; and absent."""
    if fact.kind is bool:
        values: list[Any] = [True, False]
    elif isinstance(fact.kind, tuple):
        values = list(fact.kind)
    else:
        values = sorted(v for v in seen if isinstance(v, str)) + [OTHER]
    return [*values, ABSENT]


def assignments(names: Sequence[str], domains: Mapping[str, list[Any]], limit: int, seed: int) -> Iterator[dict[str, Any]]:
    """Every combination of ``names``' values (or ``limit`` of them, seeded, if there are more)."""
    sizes = [len(domains[n]) for n in names]
    total = 1
    for s in sizes:
        total *= s
    if total <= limit:
        combos: Iterator[tuple[Any, ...]] = itertools.product(*(domains[n] for n in names))
    else:
        rng = random.Random(seed)
        combos = (tuple(rng.choice(domains[n]) for n in names) for _ in range(limit))
    for combo in combos:
        yield {n: v for n, v in zip(names, combo, strict=True) if v is not ABSENT}


def compare(rules: Rules, facts_iter: Iterator[dict[str, Any]]) -> int:
    durable = durable_host.CompiledRules("agree", rules)
    compiled = CompiledPredicates("agree", rules)
    n = 0
    try:
        for facts in facts_iter:
            expected = durable.fire(facts)
            assert compiled.fire(facts) == expected, (facts, expected)
            n += 1
    finally:
        durable.close()
    return n


@pytest.mark.parametrize("name", sorted(RULESETS))
def test_every_combination_fires_the_same_rules(name: str) -> None:
    rules, facts_table = RULESETS[name]
    assert budget.check(rules) is None  # else durable could not be the reference
    seen = mentioned(rules)
    read = sorted(set().union(*(conditions.facts_named(w) for _, w in rules)))
    domains = {f: domain(facts_table[f], seen.get(f, set())) for f in read}
    rng = random.Random(name)

    def per_rule() -> Iterator[dict[str, Any]]:
        for _, when in rules:
            own = sorted(conditions.facts_named(when))
            for facts in assignments(own, domains, EXHAUSTIVE, 0):
                for other in read:
                    if other not in own:
                        value = rng.choice(domains[other])
                        if value is not ABSENT:
                            facts[other] = value
                yield facts

    checked = compare(rules, per_rule())
    checked += compare(rules, assignments(read, domains, EXHAUSTIVE, 20261201))
    assert checked > len(rules)


def test_a_rule_with_two_true_alternatives_fires_once_on_both() -> None:
    # durable_rules itself fires such a rule once per alternative that holds; both backends say once.
    rules: Rules = [("r", {"any": [{"request.listed": True}, {"request.wants_pledge": True}]})]
    facts = {"request.listed": True, "request.wants_pledge": True}
    assert compare(rules, iter([facts])) == 1
    assert CompiledPredicates("x", rules).fire(facts) == ["r"]


# ---------------------------------------------------------------- hypothesis

_STR_POOL = ["A", "B", "C"]
_FACT_NAMES = sorted(FACTS)


def _value(fact: Fact) -> st.SearchStrategy[Any]:
    if fact.kind is bool:
        return st.booleans()
    if isinstance(fact.kind, tuple):
        return st.sampled_from(fact.kind)
    return st.sampled_from(_STR_POOL)


@st.composite
def _test(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from(_FACT_NAMES))
    fact = FACTS[name]
    op = draw(st.sampled_from(["eq", "not", "in", "not_in"]))
    if op == "eq":
        return {name: draw(_value(fact))}
    if op == "not":
        return {name: {"not": draw(_value(fact))}}
    values = draw(st.lists(_value(fact), min_size=1, max_size=3, unique=True))
    return {name: {op: values}}


def _condition(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    if depth == 0:
        return _test()
    sub = _condition(depth - 1)
    return st.one_of(
        _test(),
        st.lists(_test(), min_size=2, max_size=3).map(_merge),
        st.lists(sub, min_size=1, max_size=3).map(lambda subs: {"any": subs}),
        st.lists(sub, min_size=1, max_size=3).map(lambda subs: {"all": subs}),
        st.tuples(_test(), st.lists(sub, min_size=1, max_size=2)).map(lambda t: {**t[0], "any": t[1]}),
    )


def _merge(tests: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for t in tests:
        out.update(t)
    return out


_FACTS_USED = st.lists(st.sampled_from(_FACT_NAMES), max_size=len(_FACT_NAMES), unique=True)


@st.composite
def _facts(draw: st.DrawFn) -> dict[str, Any]:
    return {name: draw(_value(FACTS[name])) for name in draw(_FACTS_USED)}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    whens=st.lists(_condition(2), min_size=1, max_size=6),
    facts=st.lists(_facts(), min_size=1, max_size=8),
)
def test_hypothesis_rulesets_fire_the_same_rules(whens: list[dict[str, Any]], facts: list[dict[str, Any]]) -> None:
    rules: Rules = [(f"h.r{i}", when) for i, when in enumerate(whens)]
    for _, when in rules:
        conditions.validate(when)
    if budget.check(rules) is not None:
        return
    compare(rules, iter(facts))
