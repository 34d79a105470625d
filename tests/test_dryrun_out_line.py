"""``dry-run --out`` lines: laid out as ``json.dumps(..., ensure_ascii=False)`` lays out the head,
then the Decision as ``model_dump_json`` gives it, whatever the case id or error holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nocert_rules import Engine, load_ruleset
from nocert_rules.enums import Method
from nocert_rules.models import Decision
from nocert_rules.tools.casefile import Case, redact, safe_case_id
from nocert_rules.tools.dryrun import _out_line

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def decision() -> Decision:
    engine = Engine(load_ruleset(ROOT / "rulesets" / "zibo"), backend="compiled")
    line = (ROOT / "examples" / "cases.jsonl").read_text(encoding="utf-8").splitlines()[0]
    request = {k: v for k, v in json.loads(line).items() if k not in ("case_id", "expected_method")}
    return engine.decide(request)


def _reference(case: Case, decision: Decision | None, error: str | None) -> str:
    head: dict[str, object] = {"line": case.line, "case_id": safe_case_id(case.case_id)}
    if error is not None:
        head["error"] = redact(error)
        return json.dumps(head, ensure_ascii=False)
    assert decision is not None
    if case.expected_method is not None:
        head["expected_method"] = case.expected_method.value
        head["match"] = case.expected_method is decision.method
    return json.dumps(head, ensure_ascii=False)[:-1] + ',"decision":' + decision.model_dump_json() + "}"


ids = st.none() | st.text(max_size=40) | st.sampled_from(['a"b', "x\\y", "行\n2", "\u2028", "\x00", "C370399199001011234"])


@settings(max_examples=150, deadline=None)
@given(line=st.integers(1, 10**9), case_id=ids, expected=st.none() | st.sampled_from(list(Method)))
def test_a_decided_line_is_laid_out_as_json_dumps_lays_it_out(decision: Decision, line: int, case_id: str | None,
                                                              expected: Method | None) -> None:
    case = Case(line, case_id, expected, {})
    got = _out_line(case, decision, None)
    assert got == _reference(case, decision, None)
    assert json.loads(got)["decision"]["method"] == decision.method.value


@settings(max_examples=150, deadline=None)
@given(line=st.integers(1, 10**9), case_id=ids, error=st.text(max_size=60) | st.just("身份证 370399199001011234 错"))
def test_an_error_line_is_laid_out_as_json_dumps_lays_it_out(line: int, case_id: str | None, error: str) -> None:
    case = Case(line, case_id, None, None, error)
    got = _out_line(case, None, error)
    assert got == _reference(case, None, error)
    assert "370399199001011234" not in got
