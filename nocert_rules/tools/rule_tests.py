"""YAML test cases kept with a ruleset (``RULESET/tests/*.yaml``), run by ``nocert-rules test``.

Each file is a list of cases::

    - name: 营业执照通过数据共享获取
      request:                      # a DecisionRequest, as host systems send it
        service_item: "370300-XK-0001"
        certificate: ZM-SJ-0001
        applicant: {kind: person, id_number: "370399199001010014"}
        requested_at: "2021-05-06T10:00"
      expect:
        method: DATA_SHARING        # Method name
        applicant_must_submit: false
        issuer: 淄博市市场监督管理局
        listed: true
        blocked: [sharing.channel-offline]   # rule ids that must appear as blocks in the trace
        fired: [sharing.allowed]             # rule ids whose condition held (trace or not)
        not_fired: [pledge.allowed]          # rule ids whose condition must not hold
        warnings_contain: [已过有效期]        # substrings, each in some warning
        no_warnings: true
        deadline_kind: verification_reply    # or post_check, or null for none
        deadline_due_at: "2021-05-06T10:30:00+08:00"
        post_check_waived: true
        awaiting_choice: true                # wants_pledge unset and a pledge on offer
        if_declined_method: VERIFICATION     # the method if the applicant declines (null: none)
        if_declined_deadline_due_at: "2021-05-06T10:30:00+08:00"
        row_version: "2021-09-01.."          # the dated row version used (``always`` if undated)
        row_source: zibo                     # the ruleset (city or district) whose row decided
        effective_date: "2021-09-30"         # the list's date recorded in the stamp
      as_of: "2021-12-31"           # optional: decide under the list of this date (Engine.decide as_of)

Unknown keys are errors. Failures are reported like pytest: file:line, expected vs got.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from nocert_rules.errors import NocertError, RulesetError
from nocert_rules.models import Decision, as_shanghai, parse_request
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.policy.yaml_source import LocatedYaml, load_located_yaml
from nocert_rules.tools.casefile import MethodNames, method_names, parse_method

CASE_KEYS = {"name", "request", "expect", "note", "as_of"}


@dataclass
class CaseResult:
    file: str
    line: int | None
    name: str
    failures: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "name": self.name, "passed": self.passed,
                "failures": self.failures, "error": self.error}


@dataclass
class TestRun:
    results: list[CaseResult]
    elapsed: float
    files: list[str]

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        return sum(not r.passed for r in self.results)


def find_test_files(ruleset: Ruleset) -> list[Path]:
    folder = ruleset.directory / "tests"
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []


# ---------------------------------------------------------------- expectations, one check per key
# Each check takes (what the case expects under its key, the decision, the rules that fired) and
# returns the unmet expectations as lines; ``_CHECKS`` runs them in this order.

Check = Callable[[Any, Decision, list[str]], list[str]]


def _differs(key: str, want: Any, got: Any) -> list[str]:
    return [] if want == got else [f"{key}: 预期 expected {want!r}, 实际 got {got!r}"]


def _same_attribute(key: str) -> Check:
    """``expect[key] == decision.<key>``."""
    return lambda want, decision, fired: _differs(key, want, getattr(decision, key))


def _method(want: Any, decision: Decision, fired: list[str]) -> list[str]:
    return _differs("method", parse_method(want).value, decision.method.value)


def _if_declined_method(want: Any, decision: Decision, fired: list[str]) -> list[str]:
    alt = decision.if_declined
    return _differs("if_declined_method", parse_method(want).value if want is not None else None,
                    alt.method.value if alt is not None else None)


def _if_declined_due(want: Any, decision: Decision, fired: list[str]) -> list[str]:
    alt = decision.if_declined
    got = alt.deadline.due_at if alt is not None and alt.deadline is not None else None
    if want is None or got is None:
        return _differs("if_declined_deadline_due_at", want, got.isoformat() if got else None)
    if as_shanghai(datetime.fromisoformat(str(want))) != got:
        return _differs("if_declined_deadline_due_at", str(want), got.isoformat())
    return []


def _blocked(want: Any, decision: Decision, fired: list[str]) -> list[str]:
    blocks = [s.rule_id for s in decision.trace if s.effect == "block"]
    return [f"blocked: 预期 {rule} 出现为阻止 / expected {rule} as a block, trace blocks: {blocks}"
            for rule in want or [] if rule not in blocks]


def _fired(want: Any, decision: Decision, fired: list[str]) -> list[str]:
    return [f"fired: 预期 {rule} 生效 / expected {rule} to fire, fired: {fired}"
            for rule in want or [] if rule not in fired]


def _not_fired(want: Any, decision: Decision, fired: list[str]) -> list[str]:
    return [f"not_fired: {rule} 不应生效 / should not fire, fired: {fired}" for rule in want or [] if rule in fired]


def _warnings_contain(want: Any, decision: Decision, fired: list[str]) -> list[str]:
    return [f"warnings_contain: 没有包含 {text!r} 的提示 / no warning contains it; warnings: {decision.warnings}"
            for text in want or [] if not any(str(text) in w for w in decision.warnings)]


def _no_warnings(want: Any, decision: Decision, fired: list[str]) -> list[str]:
    if want and decision.warnings:
        return [f"no_warnings: 预期无提示 / expected none, got {decision.warnings}"]
    return []


def _deadline_kind(want: Any, decision: Decision, fired: list[str]) -> list[str]:
    return _differs("deadline_kind", want, decision.deadline.kind if decision.deadline else None)


def _deadline_due_at(want: Any, decision: Decision, fired: list[str]) -> list[str]:
    got = decision.deadline.due_at if decision.deadline else None
    try:
        want_dt = want if isinstance(want, datetime) else datetime.fromisoformat(str(want))
    except ValueError:
        return [f"deadline_due_at: 不是时间 / not a datetime: {want!r}"]
    want_dt = as_shanghai(want_dt)  # naive means Asia/Shanghai
    if got != want_dt:
        return _differs("deadline_due_at", want_dt.isoformat(), got.isoformat() if got else None)
    return []


def _row_version(want: Any, decision: Decision, fired: list[str]) -> list[str]:
    return _differs("row_version", want, decision.ruleset.row_version)


def _effective_date(want: Any, decision: Decision, fired: list[str]) -> list[str]:
    got = decision.ruleset.effective_date
    return _differs("effective_date", str(want), str(got) if got else None)


def _post_check_waived(want: Any, decision: Decision, fired: list[str]) -> list[str]:
    return _differs("post_check_waived", want, decision.post_check.waived if decision.post_check else None)


_CHECKS: tuple[tuple[str, Check], ...] = (
    ("method", _method),
    ("applicant_must_submit", _same_attribute("applicant_must_submit")),
    ("issuer", _same_attribute("issuer")),
    ("listed", _same_attribute("listed")),
    ("awaiting_choice", _same_attribute("awaiting_choice")),
    ("if_declined_method", _if_declined_method),
    ("if_declined_deadline_due_at", _if_declined_due),
    ("blocked", _blocked),
    ("fired", _fired),
    ("not_fired", _not_fired),
    ("warnings_contain", _warnings_contain),
    ("no_warnings", _no_warnings),
    ("deadline_kind", _deadline_kind),
    ("deadline_due_at", _deadline_due_at),
    ("row_version", _row_version),
    ("row_source", _same_attribute("row_source")),
    ("effective_date", _effective_date),
    ("post_check_waived", _post_check_waived),
)
EXPECT_KEYS = {key for key, _ in _CHECKS}
"""The keys of ``expect:``: one check each."""


def _check(expect: dict[str, Any], decision: Decision, fired: list[str], names: MethodNames) -> list[str]:
    """Each unmet expectation as 'key: expected X, got Y'; ``names``: the ruleset's method labels
    (``casefile.method_names``), which ``method`` and ``if_declined_method`` may give."""
    expect = {key: parse_method(want, names).value if key in _METHOD_KEYS and want is not None else want
              for key, want in expect.items()}
    return [line for key, check in _CHECKS if key in expect for line in check(expect[key], decision, fired)]


_METHOD_KEYS = ("method", "if_declined_method")


def _as_of(value: Any) -> date | None:
    """A case's ``as_of``: a date (YAML date or ISO text)."""
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return as_shanghai(value).date()
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"as_of: 不是日期 / not a date: {value!r}") from None


def _run_case(engine: Any, doc: LocatedYaml, file: str, i: int, case: Any) -> CaseResult:
    line = doc.line_of((i,))
    if not isinstance(case, dict):
        return CaseResult(file, line, f"#{i + 1}", error="用例应为映射 / a case is a mapping {name, request, expect}")
    name = str(case.get("name") or f"#{i + 1}")
    result = CaseResult(file, line, name)
    unknown = sorted(set(case) - CASE_KEYS)
    expect = case.get("expect")
    if unknown:
        result.error = f"未知字段 / unknown keys: {', '.join(unknown)}"
    elif not isinstance(case.get("request"), dict):
        result.error = "缺少 request 映射 / 'request' must be a mapping"
    elif not isinstance(expect, dict) or not expect:
        result.error = "缺少 expect 映射 / 'expect' must be a non-empty mapping"
    elif bad := sorted(set(expect) - EXPECT_KEYS):
        result.line = doc.line_of((i, "expect", bad[0]))
        result.error = f"expect: 未知字段 / unknown keys: {', '.join(bad)}; known: {', '.join(sorted(EXPECT_KEYS))}"
    if result.error:
        return result
    try:
        request = parse_request(case["request"])
        as_of = _as_of(case.get("as_of"))
        decision = engine.decide(request, as_of=as_of)
        row = engine.find_row(request, as_of)
        fired = engine.fire(engine.facts_for(request, row, as_of))
        result.failures = _check(expect, decision, fired, method_names(engine.ruleset.manifest.wording))
    except (NocertError, ValueError) as exc:
        result.line = doc.line_of((i, "request"))
        result.error = str(exc)
    return result


def run_tests(ruleset: Ruleset, files: list[Path] | None = None, keyword: str | None = None) -> TestRun:
    """Run the cases of ``files`` (default: the ruleset's tests/ folder)."""
    from nocert_rules.engine.core import Engine

    started = time.perf_counter()
    paths = find_test_files(ruleset) if files is None else files
    results: list[CaseResult] = []
    engine = Engine(ruleset)
    try:
        for path in paths:
            shown = str(path)
            try:
                doc = load_located_yaml(path, shown)
            except RulesetError as exc:
                results.append(CaseResult(shown, exc.line, "(file)", error=exc.problem))
                continue
            if not isinstance(doc.data, list):
                results.append(CaseResult(shown, 1, "(file)", error="文件应为用例列表 / a test file is a list of cases"))
                continue
            for i, case in enumerate(doc.data):
                if keyword and isinstance(case, dict) and keyword not in str(case.get("name", "")):
                    continue
                results.append(_run_case(engine, doc, shown, i, case))
    finally:
        engine.close()
    return TestRun(results, time.perf_counter() - started, [str(p) for p in paths])


__all__ = ["CaseResult", "TestRun", "find_test_files", "run_tests"]
