"""Two backends behind one Engine (issue #9): the choice, the stamp, the budget, typed errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from ruleset_factory import RULES, write_ruleset

from nocert_rules import Engine, EngineClosedError, RulesetError, load_ruleset
from nocert_rules.engine import backend as backends
from nocert_rules.engine import budget
from nocert_rules.records.complaints import ComplaintEngine, ComplaintFacts

ROOT = Path(__file__).resolve().parent.parent
DURABLE = backends.durable_available()[0]
needs_durable = pytest.mark.skipif(not DURABLE, reason="durable_rules does not import here")


def cases() -> list[dict[str, Any]]:
    lines = (ROOT / "examples" / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        case = json.loads(line)
        out.append({k: v for k, v in case.items() if k not in ("case_id", "expected_method")})
    return out


def wide_in(n: int) -> list[dict[str, Any]]:
    """The factory rules with ``a.unlisted`` widened to ``row.certificate_id in [n ids]`` (issue #9)."""
    rules = copy.deepcopy(RULES)
    rules[0]["when"] = {"row.certificate_id": {"in": [f"ZM-{i:05d}" for i in range(n)] + ["gone"]}}
    return rules


@needs_durable
def test_compiled_decides_every_example_exactly_as_durable(zibo) -> None:
    with Engine(zibo, backend="durable") as durable, Engine(zibo, backend="compiled") as compiled:
        assert (durable.backend, compiled.backend) == ("durable", "compiled")
        for case in cases():
            d, c = durable.decide(case), compiled.decide(case)
            assert d.ruleset.backend == "durable" and c.ruleset.backend == "compiled"
            assert c.model_dump(exclude={"ruleset"}) == d.model_dump(exclude={"ruleset"})
            assert c.ruleset.sha256 == d.ruleset.sha256


def test_auto_takes_durable_within_budget_and_says_why(zibo) -> None:
    engine = Engine(zibo)
    assert engine.backend == ("durable" if DURABLE else "compiled")
    assert engine.backend_reason.startswith("auto:")
    if DURABLE:
        assert "within budget" in engine.backend_reason and f"of {budget.MAX_PATHS}" in engine.backend_reason
    else:
        assert "does not import" in engine.backend_reason
    engine.close()


def test_unknown_backend_is_refused(zibo) -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        Engine(zibo, backend="drools")


@pytest.mark.parametrize("n", [495, 800])
def test_over_budget_auto_is_compiled_and_durable_is_a_ruleset_error_at_the_rule(tmp_path: Path, n: int) -> None:
    rs = load_ruleset(write_ruleset(tmp_path / "rs", rules=wide_in(n)))
    auto = Engine(rs)
    assert auto.backend == "compiled"
    if DURABLE:
        assert "over durable_rules' budget at rules.yaml:" in auto.backend_reason
        assert f"budget is {budget.MAX_PATHS}" in auto.backend_reason
    decision = auto.decide({"service_item": "S1", "certificate": "gone", "requested_at": "2025-03-03T10:00:00",
                            "applicant": {"kind": "person", "id_number": "370399199001011234"}})
    assert decision.ruleset.backend == "compiled"
    assert "a.unlisted" in [s.rule_id for s in decision.trace]  # the widened rule fired
    with pytest.raises(RulesetError) as info:
        Engine(rs, backend="durable")
    err = info.value
    assert err.file == "rules.yaml" and err.line is not None
    if DURABLE:
        text = (tmp_path / "rs" / "rules.yaml").read_text(encoding="utf-8").splitlines()
        assert text[err.line - 1].strip().startswith("when:")  # the widened rule's condition
        assert f"budget is {budget.MAX_PATHS}" in str(err)


def test_budget_counts_alternatives_multiplied_out_and_nesting() -> None:
    assert budget.paths({"a": {"in": [1, 2, 3]}, "b": {"in": [1, 2]}}) == 6
    assert budget.paths({"any": [{"a": 1}, {"b": {"in": [1, 2]}}], "c": True}) == 3
    assert budget.paths({"all": [{"a": {"in": list(range(4))}}] * 40}) == 1 << 62  # capped, not expanded
    deep: dict[str, Any] = {"request.listed": True}
    for _ in range(budget.MAX_DEPTH + 1):
        deep = {"any": [deep]}
    over = budget.check([("ok", {"request.listed": True}), ("deep", deep)])
    assert over is not None and over.index == 1 and "nest" in over.problem
    many = [(f"r{i}", {"row.certificate_id": {"in": ["a", "b"]}}) for i in range(budget.MAX_PATHS // 2 + 1)]
    over = budget.check(many)
    assert over is not None and over.index == budget.MAX_PATHS // 2 and "paths" in over.problem
    assert budget.check(many[:-1]) is None


def test_compiled_engine_close_is_typed(zibo) -> None:
    engine = Engine(zibo, backend="compiled")
    request = cases()[0]
    assert engine.decide(request).method
    engine.close()
    with pytest.raises(EngineClosedError):
        engine.decide(request)


@pytest.mark.parametrize("backend", ["compiled", pytest.param("durable", marks=needs_durable)])
def test_complaint_engine_uses_the_backend_choice(zibo, backend: str) -> None:
    with ComplaintEngine(zibo, backend=backend) as eng:
        assert eng.backend == backend
        decision = eng.decide_acceptance(ComplaintFacts(specific=False, verifiable=False))
        assert decision.outcome == "reject" and decision.ruleset.backend == backend
        assert eng.decide_acceptance(ComplaintFacts(specific=True, verifiable=True)).outcome == "accept"
