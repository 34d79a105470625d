"""tools/rule_tests: each key of a YAML case's ``expect:`` is checked, and reports its own failure."""

from __future__ import annotations

from pathlib import Path

import yaml

from nocert_rules import Engine, load_ruleset
from nocert_rules.tools.rule_tests import EXPECT_KEYS, run_tests

ROOT = Path(__file__).resolve().parent.parent
REQUEST = {"service_item": "370300-XK-0001", "certificate": "ZM-SJ-0001",
           "applicant": {"kind": "person", "id_number": "37039919900101001X"},
           "requested_at": "2022-03-01T10:00"}  # after the ruleset's validity: a warning

# An expectation under every key that the DATA_SHARING decision of REQUEST does not meet.
WRONG = {
    "method": "PLEDGE",
    "applicant_must_submit": True,
    "issuer": "某局",
    "listed": False,
    "awaiting_choice": True,
    "if_declined_method": "VERIFICATION",
    "if_declined_deadline_due_at": "2021-05-06T10:30:00+08:00",
    "blocked": ["pledge.blacklisted"],
    "fired": ["pledge.allowed"],
    "not_fired": ["sharing.allowed"],
    "warnings_contain": ["没有这条提示"],
    "no_warnings": True,
    "deadline_kind": "post_check",
    "deadline_due_at": "2021-05-07T10:00",
    "row_version": "2099-01-01..",
    "row_source": "elsewhere",
    "effective_date": "2099-01-01",
    "post_check_waived": True,
}


def _run(tmp_path: Path, expect: dict[str, object]) -> list[str]:
    rs = load_ruleset(ROOT / "rulesets" / "zibo")
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump([{"name": "c", "request": REQUEST, "expect": expect}], allow_unicode=True),
                    encoding="utf-8")
    run = run_tests(rs, [case], None)
    assert len(run.results) == 1 and run.results[0].error is None, run.results[0].error
    return run.results[0].failures


def test_every_key_reports_its_own_failure_in_order(tmp_path: Path) -> None:
    assert set(WRONG) == EXPECT_KEYS  # a new key needs a wrong value here too
    failures = _run(tmp_path, WRONG)
    assert [f.split(":", 1)[0] for f in failures] == list(WRONG)
    assert failures[0] == "method: 预期 expected 'PLEDGE', 实际 got 'DATA_SHARING'"
    assert failures[8] == "fired: 预期 pledge.allowed 生效 / expected pledge.allowed to fire, fired: " + \
        failures[8].split("fired: ")[-1]


def test_the_decision_s_own_values_pass(tmp_path: Path) -> None:
    rs = load_ruleset(ROOT / "rulesets" / "zibo")
    with Engine(rs) as engine:
        d = engine.decide(REQUEST)
    right = {
        "method": d.method.name, "applicant_must_submit": d.applicant_must_submit, "issuer": d.issuer,
        "listed": d.listed, "awaiting_choice": d.awaiting_choice, "if_declined_method": None,
        "if_declined_deadline_due_at": None, "blocked": [], "fired": ["sharing.allowed"],
        "not_fired": ["pledge.blacklisted"], "warnings_contain": ["规则集已过有效期"], "no_warnings": False,
        "deadline_kind": d.deadline.kind if d.deadline else None,
        "row_version": d.ruleset.row_version, "row_source": d.row_source,
        "effective_date": str(d.ruleset.effective_date) if d.ruleset.effective_date else None,
        "post_check_waived": None,
    }
    assert d.if_declined is None and d.post_check is None and d.warnings
    assert _run(tmp_path, right) == []
    # and a wrong value under one key fails that key alone
    assert [f.split(":", 1)[0] for f in _run(tmp_path, {**right, "listed": not d.listed})] == ["listed"]
