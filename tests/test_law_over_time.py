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


# ---------------------------------------------------------------- adjustments become versions


def test_a_published_application_becomes_a_dated_version(tmp_path: Path) -> None:
    import shutil

    import yaml

    from nocert_rules.records.adjustments import as_list_adjustment, publish, submit_adjustment

    root = Path(__file__).resolve().parent.parent
    folder = shutil.copytree(root / "rulesets" / "zibo", tmp_path / "zibo")
    zibo = load_ruleset(folder)
    item, cert = "370300-JF-0006", "ZM-FY-0002"  # 宣告死亡判决书: no replacement method, only 干部代办
    app = submit_adjustment(zibo, unit="淄博市民政局", applied_on=date(2021, 5, 10), service_item=item,
                            certificate=cert, type="change", method="verification", basis="《某条例》修订（示例）",
                            cause="change.method", cause_on=date(2021, 5, 6), record_id="adj-1")
    with pytest.raises(Exception, match="published"):
        as_list_adjustment(app)
    published = publish(app, date(2021, 6, 30))
    row = zibo.find_row(item, cert).model_dump(mode="json", exclude_none=True)
    row.update(methods=["verification"])
    (folder / "adjustments.yaml").write_text(
        yaml.safe_dump({"adjustments": [as_list_adjustment(published, row)]}, allow_unicode=True), encoding="utf-8")
    adjusted = load_ruleset(folder)
    assert adjusted.sha256 != zibo.sha256 and "adjustments.yaml" in adjusted.files
    assert [r.version for r in adjusted.row_versions(item, cert)] == ["..2021-06-29", "2021-06-30.."]
    base = {"service_item": item, "certificate": cert, "applicant": PERSON}
    with Engine(adjusted) as engine:
        before = engine.decide({**base, "requested_at": "2021-05-05T10:00"})
        pending = engine.decide({**base, "requested_at": "2021-06-01T10:00"})
        after = engine.decide({**base, "requested_at": "2021-07-01T10:00"})
    assert before.method is Method.PROXY
    assert pending.method is Method.VERIFICATION
    assert any(s.rule_id == "adjustment.pending-unit-verifies" for s in pending.trace)
    assert after.method is Method.VERIFICATION and after.ruleset.row_version == "2021-06-30.."
    assert not any(s.rule_id == "adjustment.pending-unit-verifies" for s in after.trace)


def test_an_adjustment_of_a_row_not_in_force_is_refused_at_its_line(tmp_path: Path) -> None:
    rs = write_ruleset(tmp_path / "rs")
    entry = {"id": "a1", "type": "cancel", "service_item_code": "S1", "certificate_id": "nope",
             "cause_on": "2025-01-02", "published_on": "2025-02-03", "basis": "示例"}
    (rs / "adjustments.yaml").write_text(json.dumps({"adjustments": [entry]}), encoding="utf-8")
    with pytest.raises(RulesetError, match="no row S1 / nope") as info:
        load_ruleset(rs)
    assert info.value.file == "adjustments.yaml" and info.value.line == 1


def test_diff_between_two_dates_of_one_ruleset_lists_what_changed() -> None:
    zibo = str(Path(__file__).resolve().parent.parent / "rulesets" / "zibo")
    result = CliRunner().invoke(main, ["diff", zibo, zibo, "--old-date", "2021-08-31", "--new-date", "2022-01-04",
                                       "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert rows["added"] == [] and rows["cancelled"] == []
    changed = {(r["service_item_code"], r["certificate_id"]): r for r in rows["changed"]}
    assert set(changed) == {("370300-XK-0005", "ZM-GA-0001"), ("370300-QR-0001", "ZM-GA-0001"),
                            ("370300-QR-0002", "ZM-SW-0002")}
    assert "契税法" in json.dumps(changed[("370300-QR-0002", "ZM-SW-0002")], ensure_ascii=False)
    same_day = CliRunner().invoke(main, ["diff", zibo, zibo, "--old-date", "2021-09-01", "--new-date", "2021-12-30",
                                         "--json", "--exit-code"])
    assert same_day.exit_code == 0 and json.loads(same_day.stdout)["rows"]["changed"] == []
