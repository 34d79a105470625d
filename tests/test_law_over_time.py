"""Dated row versions and limits, typed legal bases and their ranks (policy/versions.py, policy/legal_basis.py)."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruleset_factory import MANIFEST, RULES, row, write_ruleset

from nocert_rules import Engine, load_ruleset
from nocert_rules.cli.main import main
from nocert_rules.enums import Method
from nocert_rules.errors import RulesetError
from nocert_rules.policy.legal_basis import (
    LegalBasis,
    LegalBasisPolicy,
    LegalRank,
    as_bases,
    sufficient,
)

PERSON = {"kind": "person", "id_number": "37039919900101001X"}


def request(cert: str, when: str = "2025-03-03T10:00", **extra: Any) -> dict[str, Any]:
    return {"service_item": "S1", "certificate": cert, "applicant": PERSON, "requested_at": when, **extra}


def ranked_manifest() -> dict[str, Any]:
    manifest = copy.deepcopy(MANIFEST)
    manifest["legal_basis_policy"] = {"sufficient_ranks": ["法律", "行政法规", "地方性法规"], "clause": "C-abolish"}
    return manifest


BELOW_RANK_RULE = {
    "id": "a.below-rank", "method": "ABOLISH", "effect": "offer",
    "when": {"request.listed": True, "row.has_legal_basis": True, "row.legal_basis_sufficient": False},
    "clause": "C-abolish", "reason": "仅有规章依据",
}


# ---------------------------------------------------------------- dated rows


def versioned_rows() -> list[dict[str, Any]]:
    return [
        row("S1", "v", methods=["verification"], valid_until="2025-02-28"),
        row("S1", "v", methods=["data_sharing"], sharing_source="库", valid_from="2025-03-01"),
    ]


def test_the_version_in_force_on_the_request_day_decides(tmp_path: Path) -> None:
    rs = load_ruleset(write_ruleset(tmp_path / "rs", rows=versioned_rows()))
    with Engine(rs) as engine:
        before = engine.decide(request("v", "2025-02-28T16:00"))
        after = engine.decide(request("v", "2025-03-03T10:00"))
        by_name = engine.decide(request("证明v", "2025-02-28T16:00"))
        asked = engine.decide(request("v", "2025-02-28T16:00"), as_of=date(2025, 3, 1))
    assert before.method is Method.VERIFICATION and before.ruleset.row_version == "..2025-02-28"
    assert before.ruleset.effective_date == date(2025, 2, 28)
    assert after.method is Method.DATA_SHARING and after.ruleset.row_version == "2025-03-01.."
    assert by_name.method is Method.VERIFICATION
    # under the list of 2025-03-01, the request keeping its own time
    assert asked.method is Method.DATA_SHARING and asked.ruleset.effective_date == date(2025, 3, 1)
    assert asked.requested_at.date() == date(2025, 2, 28)
    assert rs.find_row("S1", "v").valid_from == date(2025, 3, 1)  # no day: the latest version
    assert [r.version for r in rs.row_versions("S1", "v")] == ["..2025-02-28", "2025-03-01.."]


def test_a_day_no_version_covers_is_not_listed(tmp_path: Path) -> None:
    rows = [row("S1", "new", methods=["verification"], valid_from="2025-03-01"), row("S1", "other")]
    rs = load_ruleset(write_ruleset(tmp_path / "rs", rows=rows))
    with Engine(rs) as engine:
        early = engine.decide(request("new", "2025-02-28T10:00"))
        late = engine.decide(request("new", "2025-03-01T10:00"))
    assert early.listed is False and early.method is Method.ABOLISH
    assert late.listed is True and late.method is Method.VERIFICATION


def test_overlapping_versions_are_refused_with_both_lines(tmp_path: Path) -> None:
    rows = [row("S1", "v", valid_until="2025-03-01"), row("S1", "v", valid_from="2025-03-01")]
    with pytest.raises(RulesetError) as info:
        load_ruleset(write_ruleset(tmp_path / "rs", rows=rows))
    err = info.value
    assert err.file == "certificates.yaml" and err.line is not None and err.line > 2
    assert "first at line 2" in err.problem and "overlap" in err.problem
    assert "..2025-03-01" in err.problem and "2025-03-01.." in err.problem


def test_undated_duplicates_are_still_refused(tmp_path: Path) -> None:
    with pytest.raises(RulesetError, match="duplicate row"):
        load_ruleset(write_ruleset(tmp_path / "rs", rows=[row("S1", "v"), row("S1", "v")]))


def test_a_window_that_ends_before_it_starts_is_refused(tmp_path: Path) -> None:
    rows = [row("S1", "v", valid_from="2025-03-01", valid_until="2025-02-01")]
    with pytest.raises(RulesetError, match="before valid_from") as info:
        load_ruleset(write_ruleset(tmp_path / "rs", rows=rows))
    assert info.value.line == 2


def test_dated_statutory_limits(tmp_path: Path) -> None:
    limits = [
        {"working_days": 3, "basis": "《旧规定》", "valid_until": "2025-02-28"},
        {"working_days": 5, "basis": "《新规定》", "valid_from": "2025-03-01"},
    ]
    rows = [row("S1", "v", methods=["verification"], verification_limit=limits),
            row("S1", "w", methods=["verification"],
                verification_limit={"working_days": 2, "basis": "《新规》", "valid_from": "2025-03-01"})]
    rs = load_ruleset(write_ruleset(tmp_path / "rs", rows=rows))
    with Engine(rs) as engine:
        old = engine.decide(request("v", "2025-02-24T10:00"))  # a Monday
        new = engine.decide(request("v", "2025-03-03T10:00"))
        plan = engine.decide(request("w", "2025-02-24T10:00"))
    assert "《旧规定》" in old.deadline.rule and old.deadline.due_at.date() == date(2025, 2, 27)
    assert "《新规定》" in new.deadline.rule and new.deadline.due_at.date() == date(2025, 3, 10)
    # before its limit is in force the plan's 30 minutes for electronic records apply
    assert plan.deadline.due_at == datetime.fromisoformat("2025-02-24T10:30:00+08:00")


def test_overlapping_limits_are_refused(tmp_path: Path) -> None:
    limits = [{"working_days": 3, "basis": "a"}, {"working_days": 5, "basis": "b", "valid_from": "2025-03-01"}]
    with pytest.raises(RulesetError, match="same day"):
        load_ruleset(write_ruleset(tmp_path / "rs", rows=[row("S1", "v", verification_limit=limits)]))


def test_dry_run_as_of_uses_the_list_of_that_date(tmp_path: Path) -> None:
    rs = write_ruleset(tmp_path / "rs", rows=versioned_rows())
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"case_id": "a", **request("v", "2025-02-28T16:00")}) + "\n", encoding="utf-8")
    out = {}
    for as_of in ("2025-02-28", "2025-03-03"):
        result = CliRunner().invoke(main, ["dry-run", str(rs), str(cases), "--as-of", as_of, "--json"])
        assert result.exit_code == 0, result.output
        out[as_of] = {k: v for k, v in json.loads(result.stdout)["methods"].items() if v}
    assert out["2025-02-28"] == {"VERIFICATION": 1} and out["2025-03-03"] == {"DATA_SHARING": 1}


# ---------------------------------------------------------------- typed legal bases


def test_plain_string_mapping_and_list_bases() -> None:
    assert as_bases("《某条例》第一条") == (LegalBasis(instrument="《某条例》第一条"),)
    assert as_bases("  ") == () and as_bases(None) == ()
    law = LegalBasis(instrument="《某法》", article="第二条", rank=LegalRank.LAW)
    rule = LegalBasis(instrument="《某办法》", rank=LegalRank.DEPARTMENTAL_RULE)
    policy = LegalBasisPolicy(sufficient_ranks=[LegalRank.LAW], clause="c")
    assert law.text == "《某法》第二条"
    assert sufficient([rule, law], policy) and not sufficient([rule], policy)
    assert sufficient([LegalBasis(instrument="x")], policy)  # unranked counts by default
    strict = LegalBasisPolicy(sufficient_ranks=[LegalRank.LAW], clause="c", unranked_sufficient=False)
    assert not sufficient([LegalBasis(instrument="x")], strict)
    assert sufficient([rule], None) and not sufficient([], None)


def test_a_row_resting_only_on_a_departmental_rule_is_abolished_by_rule(tmp_path: Path) -> None:
    rows = [
        row("S1", "rule-only", methods=["verification"],
            legal_basis=[{"instrument": "《某办法》", "rank": "部门规章"}]),
        row("S1", "law", methods=["verification"],
            legal_basis=[{"instrument": "《某办法》", "rank": "部门规章"},
                         {"instrument": "《某法》", "article": "第三条", "rank": "法律"}]),
        row("S1", "plain", methods=["verification"]),
    ]
    rs = load_ruleset(write_ruleset(tmp_path / "rs", rows=rows, rules=[BELOW_RANK_RULE, *RULES],
                                    manifest=ranked_manifest()))
    assert rs.find_row("S1", "law").legal_basis_text == "《某办法》；《某法》第三条"
    with Engine(rs) as engine:
        gone = engine.decide(request("rule-only"))
        kept = engine.decide(request("law"))
        plain = engine.decide(request("plain"))
    assert gone.method is Method.ABOLISH
    step = next(s for s in gone.trace if s.rule_id == "a.below-rank")
    assert step.citation is not None and step.citation.clause_id == "C-abolish"
    assert kept.method is Method.VERIFICATION and plain.method is Method.VERIFICATION


def test_unknown_rank_is_a_load_error_at_its_line(tmp_path: Path) -> None:
    rows = [row("S1", "x", legal_basis=[{"instrument": "《某法》", "rank": "宪法性文件"}])]
    with pytest.raises(RulesetError) as info:
        load_ruleset(write_ruleset(tmp_path / "rs", rows=rows))
    assert info.value.field is not None and info.value.field.startswith("rows[0].legal_basis")


def lint(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["lint", str(path), "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_lint_reports_ranks_and_dates(tmp_path: Path) -> None:
    rows = [
        row("S1", "early", methods=["verification"],  # in force from the manifest's 2024-01-01
            legal_basis=[{"instrument": "《新法》", "rank": "法律", "effective_from": "2024-06-01"}]),
        row("S1", "dated", methods=["verification"], valid_from="2024-06-01",
            legal_basis=[{"instrument": "《新法》", "rank": "法律", "effective_from": "2024-06-01"}]),
        row("S1", "rule-only", methods=["verification"],
            legal_basis=[{"instrument": "《某办法》", "rank": "部门规章"}]),
        row("S1", "plain", methods=["verification"]),
    ]
    rs = write_ruleset(tmp_path / "rs", rows=rows, rules=[BELOW_RANK_RULE, *RULES], manifest=ranked_manifest())
    data = lint(rs)
    text = (rs / "certificates.yaml").read_text(encoding="utf-8").splitlines()
    errors = [(f["code"], f["message"].split(":")[0]) for f in data["errors"]]
    assert errors == [("basis-not-in-force", "S1 / early 证明early")]
    assert "instrument: 《新法》" in text[data["errors"][0]["line"] - 1]
    warnings = {(f["code"], f["message"].split(":")[0]) for f in data["warnings"]}
    assert ("basis-below-rank", "S1 / rule-only 证明rule-only") in warnings
    assert ("basis-unranked", "S1 / plain 证明plain") in warnings
    assert not any("dated" in m for _, m in warnings | set(errors))

    # without a rule on row.legal_basis_sufficient the row below rank would be kept: an error
    data = lint(write_ruleset(tmp_path / "rs2", rows=rows[2:], manifest=ranked_manifest()))
    assert [f["code"] for f in data["errors"]] == ["retained-below-rank-kept"]
