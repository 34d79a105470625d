"""The fact enumeration lint and lint_law share: every value of the request and applicant facts,
the row facts of each row, and the assignments a condition can meet
(:func:`nocert_rules.policy.conditions.evaluate` over finite domains; see ``tools/lint.py``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from nocert_rules.enums import ApplicantKind
from nocert_rules.models import Applicant, DecisionRequest
from nocert_rules.policy import conditions
from nocert_rules.policy.ruleset import Ruleset

ROW_DERIVED = {name for name in conditions.FACTS if name.startswith("row.")} | {"request.listed"}
FREE_FACTS = [name for name in conditions.FACTS if name not in ROW_DERIVED]


def domain(name: str) -> list[Any]:
    kind = conditions.FACTS[name].kind
    if kind is bool:
        return [True, False]
    if isinstance(kind, tuple):
        return list(kind)
    raise ValueError(f"no finite domain for {name}")  # only row facts are free strings


def free_combinations(names: set[str]) -> Iterator[dict[str, Any]]:
    """Every assignment of the named request/applicant facts over their domains."""
    chosen = [n for n in FREE_FACTS if n in names]
    for values in itertools.product(*(domain(n) for n in chosen)):
        yield dict(zip(chosen, values, strict=True))


def row_facts(ruleset: Ruleset) -> list[dict[str, Any]]:
    """The row-derived facts of every row (as the engine computes them)."""
    from nocert_rules.engine.core import facts_for

    probe = DecisionRequest(
        service_item="-", certificate="-",
        applicant=Applicant(kind=ApplicantKind.PERSON, id_number="lint"),
        requested_at=datetime(2000, 1, 1),
    )
    out = []
    for row in ruleset.rows:
        facts = facts_for(ruleset, probe, row)
        out.append({k: v for k, v in facts.items() if k in ROW_DERIVED})
    return out


def row_contexts(all_row_facts: list[dict[str, Any]], names: set[str]) -> list[dict[str, Any]]:
    """Distinct projections of the rows onto the named row facts, plus the unlisted case."""
    wanted = names & ROW_DERIVED
    seen: dict[tuple[tuple[str, Any], ...], dict[str, Any]] = {}
    for facts in all_row_facts:
        proj = {k: facts[k] for k in sorted(wanted)}
        seen.setdefault(tuple(proj.items()), proj)
    unlisted = {"request.listed": False} if "request.listed" in wanted else {}
    seen.setdefault(tuple(unlisted.items()) + (("__unlisted__", True),), unlisted)
    return list(seen.values())


def literals(when: Mapping[str, Any], name: str) -> set[Any]:
    """Every value a condition compares fact ``name`` with."""
    out: set[Any] = set()
    for key, expected in when.items():
        if key in ("any", "all"):
            for sub in expected:
                out |= literals(sub, name)
        elif key == name:
            operand = next(iter(expected.values())) if isinstance(expected, Mapping) else expected
            out |= set(operand) if isinstance(operand, list) else {operand}
    return out


def abstract_combinations(when: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every assignment of the facts a condition names over their whole domains (row facts
    too; a string fact over the values the condition names plus one other), listed or not."""
    names = conditions.facts_named(when)
    row_names = sorted(n for n in names if n.startswith("row."))
    domains = []
    for n in row_names:
        kind = conditions.FACTS[n].kind
        domains.append(domain(n) if kind is not str else [*sorted(literals(when, n), key=str), "\0other"])
    for combo in free_combinations(names):
        yield {**combo, "request.listed": False}
        for values in itertools.product(*domains):
            yield {**combo, "request.listed": True, **dict(zip(row_names, values, strict=True))}


def describe(facts: Mapping[str, Any]) -> str:
    shown = [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in facts.items()
             if not k.startswith("row.") and k != "request.listed"]
    return ", ".join(shown) or "(任何申请人 / any applicant)"
