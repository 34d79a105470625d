"""The ruleset's policy rules as a GoRules zen-engine decision table (for benchmarks only).

``build_table(ruleset)`` turns ``rules.yaml`` into a JDM graph (the JSON the GoRules editor
writes): input node -> one decision table with hit policy ``collect`` -> output node. The
table has one input column per fact the rules read and one output column, ``rule``; each
policy rule is one table row (a rule whose condition has ``any:`` becomes one row per
disjunct, same ``rule`` output; duplicates are dropped when reading the result). So the
table answers exactly what ``Engine.fire`` answers: which rules match these facts.

Facts are passed nested (``{"row": {"allows_pledge": true}}``), which is how zen reads the
dotted column fields. Cells follow the engine's semantics: an absent fact matches nothing,
including ``not``/``not_in`` (hence the ``$ != null and ...`` cells).

Run ``python benchmarks/zen_table.py [ruleset]`` to print the table JSON.

Needs ``zen-engine`` (``pip install zen-engine``); it is not a dependency of the library.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nocert_rules.policy import conditions
from nocert_rules.policy.ruleset import Ruleset, load_ruleset

Conjunction = list[tuple[str, Any]]


def dnf(when: Mapping[str, Any]) -> list[Conjunction]:
    """A validated condition as a disjunction of conjunctions of (fact, expected)."""
    out: list[Conjunction] = [[]]
    for key, expected in when.items():
        if key == "all":
            for sub in expected:
                out = [a + b for a in out for b in dnf(sub)]
        elif key == "any":
            alternatives = [conj for sub in expected for conj in dnf(sub)]
            out = [a + b for a in out for b in alternatives]
        else:
            out = [a + [(key, expected)] for a in out]
    return out


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def _dollar_expr(expected: Any) -> str:
    """A unary cell in ``$`` form (always explicit about null, like the engine)."""
    if not isinstance(expected, Mapping):
        return f"$ == {_literal(expected)}"
    op, operand = next(iter(expected.items()))
    if op == "not":
        return f"$ != null and $ != {_literal(operand)}"
    values = ", ".join(_literal(v) for v in operand)
    if op == "in":
        return f"$ in [{values}]"
    return f"$ != null and not ($ in [{values}])"


def _cell(constraints: list[Any]) -> str:
    """The unary cell for every constraint one table row puts on one fact."""
    if len(constraints) == 1:
        expected = constraints[0]
        if not isinstance(expected, Mapping):
            return _literal(expected)  # the plain form people write: true, "retained"
        op, operand = next(iter(expected.items()))
        if op == "in":
            return ", ".join(_literal(v) for v in operand)
        return _dollar_expr(expected)
    return " and ".join(f"({_dollar_expr(c)})" for c in constraints)


def build_table(ruleset: Ruleset) -> dict[str, Any]:
    """The JDM decision graph for ``ruleset``'s policy rules (see the module doc)."""
    read: list[str] = []
    for rule in ruleset.rules:
        for fact in sorted(conditions.facts_named(rule.when)):
            if fact not in read:
                read.append(fact)
    columns = {fact: f"in{i}" for i, fact in enumerate(read)}
    rows: list[dict[str, str]] = []
    for rule in ruleset.rules:
        for n, conj in enumerate(dnf(rule.when)):
            by_fact: dict[str, list[Any]] = {}
            for fact, expected in conj:
                by_fact.setdefault(fact, []).append(expected)
            row = {"_id": f"{rule.id}#{n}", "out_rule": json.dumps(rule.id)}
            for fact, column in columns.items():
                row[column] = _cell(by_fact[fact]) if fact in by_fact else ""
            rows.append(row)
    table = {
        "hitPolicy": "collect",
        "inputs": [{"id": column, "name": fact, "field": fact} for fact, column in columns.items()],
        "outputs": [{"id": "out_rule", "name": "rule", "field": "rule"}],
        "rules": rows,
        "passThrough": False,
        "inputField": None,
        "outputPath": None,
        "executionMode": "single",
    }
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "input", "type": "inputNode", "name": "facts", "position": {"x": 0, "y": 0}},
            {
                "id": "rules",
                "type": "decisionTableNode",
                "name": f"{ruleset.name} policy rules",
                "position": {"x": 300, "y": 0},
                "content": table,
            },
            {"id": "output", "type": "outputNode", "name": "fired", "position": {"x": 600, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "sourceId": "input", "targetId": "rules", "type": "edge"},
            {"id": "e2", "sourceId": "rules", "targetId": "output", "type": "edge"},
        ],
    }


def nest(facts: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"row.status": "retained"}`` -> ``{"row": {"status": "retained"}}`` (zen's input)."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in facts.items():
        group, _, field = name.partition(".")
        out.setdefault(group, {})[field] = value
    return out


class ZenRules:
    """``fire(facts) -> rule ids`` on a zen-engine decision table, like ``Engine.fire``."""

    def __init__(self, ruleset: Ruleset) -> None:
        import zen  # benchmark-only dependency

        self.content = build_table(ruleset)
        self._order = {rule.id: i for i, rule in enumerate(ruleset.rules)}
        self._engine = zen.ZenEngine()
        self._decision = self._engine.create_decision(json.dumps(self.content, ensure_ascii=False))

    def evaluate(self, context: dict[str, Any]) -> Any:
        """One synchronous zen evaluation of an already nested context; zen's raw result."""
        return self._decision.evaluate(context)["result"]

    def fire(self, facts: Mapping[str, Any]) -> list[str]:
        return self.rule_ids(self.evaluate(nest(facts)))

    def rule_ids(self, result: Any) -> list[str]:
        """Rule ids from a ``collect`` result, deduplicated, in ruleset (priority) order."""
        hits = result if isinstance(result, list) else [result] if result else []
        return sorted({hit["rule"] for hit in hits}, key=self._order.__getitem__)


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "rulesets" / "zibo"
    print(json.dumps(build_table(load_ruleset(path)), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
