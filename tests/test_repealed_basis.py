"""A legal basis repealed on a date (``LegalBasis.repealed_on``), and the shipped sample row it
isolates ``abolish.no-legal-basis`` with (issue 13, finding 8: "no sample row tests it alone").

《个体工商户条例》 was repealed from 2022-11-01 (《促进个体工商户发展条例》). The shipped Zibo rows of
个体工商户登记 cite it alone, so from that day they have no basis in force: the list still marks
them retained, and only ``abolish.no-legal-basis`` abolishes them.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import ZIBO
from ruleset_factory import row, write_ruleset

from nocert_rules import Engine, Method, Ruleset, load_ruleset
from nocert_rules.cli.main import main
from nocert_rules.errors import RulesetError

CASES = Path(ZIBO).parent.parent / "examples" / "cases.jsonl"
RULE = "abolish.no-legal-basis"
ITEM, CERT = "370300-XK-0013", "ZM-CW-0008"


def sample_case() -> dict[str, Any]:
    """The shipped case for the repealed basis (examples/cases.jsonl, HAND_WRITTEN)."""
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines()]
    found = [c for c in cases if c["service_item"] == ITEM and c["certificate"] == CERT and c["requested_at"] >= "2022-11-01"]
    assert len(found) == 1
    return found[0]


def without_rule(tmp_path: Path, rule_id: str = RULE) -> Ruleset:
    folder = tmp_path / "zibo"
    shutil.copytree(ZIBO, folder)
    rules_file = folder / "rules.yaml"
    data = yaml.safe_load(rules_file.read_text(encoding="utf-8"))
    data["rules"] = [r for r in data["rules"] if r["id"] != rule_id]
    rules_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_ruleset(folder)


def as_request(case: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in case.items() if k not in ("case_id", "expected_method")}


def test_removing_the_rule_from_the_shipped_sample_changes_the_sample_case(zibo: Ruleset, tmp_path: Path) -> None:
    case = sample_case()
    assert case["expected_method"] == "ABOLISH"
    with Engine(zibo) as with_rule, Engine(without_rule(tmp_path)) as without:
        kept = with_rule.decide(as_request(case))
        dropped = without.decide(as_request(case))
    assert kept.method is Method.ABOLISH and not kept.applicant_must_submit
    assert [s.rule_id for s in kept.trace if s.effect == "offer"] == [RULE]
    assert dropped.method is not Method.ABOLISH  # no other rule abolishes it: the rule alone does
    assert dropped.method is Method.APPLICANT_PROVIDED and dropped.applicant_must_submit


def test_on_the_sample_the_rule_changes_only_the_rows_of_the_repealed_instrument(zibo: Ruleset, tmp_path: Path) -> None:
    """Over every row of the shipped sample: on a day in 2021 removing the rule changes nothing
    (every row without a basis is also marked abolished); after the repeal it changes exactly
    the rows that cite 《个体工商户条例》 alone."""
    base = {"applicant": {"kind": "person", "id_number": "370399198804160017"}}
    changed: dict[str, list[tuple[str, str]]] = {"2021-05-06T10:00": [], "2022-11-15T10:00": []}
    with Engine(zibo) as a, Engine(without_rule(tmp_path)) as b:
        for at, keys in changed.items():
            for r in zibo.rows_at(date.fromisoformat(at[:10])):
                req = {**base, "service_item": r.service_item_code, "certificate": r.certificate_id, "requested_at": at}
                if a.decide(req).method is not b.decide(req).method:
                    keys.append(r.key)
    assert changed["2021-05-06T10:00"] == []
    assert sorted(changed["2022-11-15T10:00"]) == [(ITEM, "ZM-CW-0008"), (ITEM, "ZM-ZR-0001")]
    assert all("《个体工商户条例》" in (zibo.find_row(*k).legal_basis_text or "") for k in changed["2022-11-15T10:00"])


def test_the_boundary_day_and_what_the_row_shows(zibo: Ruleset) -> None:
    listed = zibo.find_row(ITEM, CERT)
    assert listed is not None and listed.bases[0].repealed_on == date(2022, 11, 1)
    assert zibo.find_row(ITEM, CERT, date(2022, 10, 31)) is listed  # the row itself while the basis holds
    after = zibo.find_row(ITEM, CERT, date(2022, 11, 1))
    assert after is not None and after is not listed and not after.has_legal_basis
    assert after.version == listed.version == "always" and after.status is listed.status
    assert zibo.find_row(ITEM, CERT, date(2023, 5, 1)) is after  # one copy per set of bases
    with Engine(zibo) as engine:
        req = {**as_request(sample_case()), "requested_at": "2022-10-31T16:00"}
        assert engine.decide(req).method is Method.PLEDGE
        assert engine.decide({**req, "requested_at": "2022-11-01T09:00"}).method is Method.ABOLISH


def test_a_dry_run_keeps_the_days_apart(tmp_path: Path) -> None:
    """The dry-run's outcome cache keys on the row the day finds, so the day before and the day of
    the repeal are decided apart (each case with its expected method)."""
    case = sample_case()
    lines = [
        {**case, "case_id": "before", "requested_at": "2022-10-31T10:00", "expected_method": "PLEDGE"},
        {**case, "case_id": "after", "requested_at": "2022-11-01T10:00", "expected_method": "ABOLISH"},
        {**case, "case_id": "before2", "requested_at": "2022-10-30T11:00", "expected_method": "PLEDGE"},
        {**case, "case_id": "after2", "requested_at": "2023-01-03T11:00", "expected_method": "ABOLISH"},
    ]
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in lines), encoding="utf-8")
    result = CliRunner().invoke(main, ["dry-run", str(ZIBO), str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["expected"]["checked"] == 4 and data["expected"]["mismatched"] == 0, data["expected"]
    assert data["methods"]["PLEDGE"] == 2 and data["methods"]["ABOLISH"] == 2


# ---------------------------------------------------------------- tiny rulesets


PERSON = {"kind": "person", "id_number": "37039919900101001X"}


def lint(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["lint", str(path), "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_lint_warns_of_a_repeal_and_refuses_it_when_no_rule_abolishes(tmp_path: Path) -> None:
    rows = [
        row("S1", "gone", methods=["verification"],
            legal_basis=[{"instrument": "《旧条例》", "rank": "行政法规", "repealed_on": "2025-06-01"}]),
        row("S1", "kept", methods=["verification"],  # another basis remains: nothing to say
            legal_basis=[{"instrument": "《旧条例》", "repealed_on": "2025-06-01"}, "《另一条例》"]),
        row("S1", "ended", methods=["verification"], valid_until="2025-05-31",  # the row ends before
            legal_basis=[{"instrument": "《旧条例》", "repealed_on": "2025-06-01"}]),
    ]
    data = lint(write_ruleset(tmp_path / "rs", rows=rows))
    found = [(f["code"], f["message"].split(":")[0]) for f in data["warnings"] + data["errors"] if "repealed" in f["code"]]
    assert found == [("basis-repealed", "S1 / gone 证明gone")]
    assert "2025-06-01" in data["warnings"][0]["message"] and "a.no-basis" in data["warnings"][0]["message"]

    from ruleset_factory import RULES

    no_rule = [r for r in RULES if r["id"] != "a.no-basis"]
    data = lint(write_ruleset(tmp_path / "rs2", rows=rows[:1], rules=no_rule))
    assert [f["code"] for f in data["errors"]] == ["retained-basis-repealed-kept"]


def test_a_successor_basis_is_no_lint_error_and_counts_from_its_day(tmp_path: Path) -> None:
    """Old instrument repealed on the day the new one takes effect: the row is never without a
    basis, lint has no ``basis-not-in-force`` (that stays for a later instrument with no predecessor),
    and each day's decision and pledge form cite what is in force that day."""
    succession = [{"instrument": "《旧条例》", "rank": "行政法规", "repealed_on": "2025-06-01"},
                  {"instrument": "《新条例》", "rank": "行政法规", "effective_from": "2025-06-01"}]
    rows = [
        row("S1", "succ", methods=["verification"], legal_basis=succession),
        row("S1", "early", methods=["verification"],
            legal_basis=[{"instrument": "《新条例》", "effective_from": "2025-06-01"}]),
    ]
    path = write_ruleset(tmp_path / "rs", rows=rows)
    data = lint(path)
    errors = [(f["code"], f["message"].split(":")[0]) for f in data["errors"]]
    assert errors == [("basis-not-in-force", "S1 / early 证明early")]
    assert not [f for f in data["warnings"] if f["code"] == "basis-repealed"]
    rs = load_ruleset(path)
    before, after = rs.find_row("S1", "succ", date(2025, 5, 31)), rs.find_row("S1", "succ", date(2025, 6, 1))
    assert before is not None and before.legal_basis_text == "《旧条例》"
    assert after is not None and after.legal_basis_text == "《新条例》"
    with Engine(rs) as engine:
        for day in ("2025-05-30T10:00", "2025-06-03T10:00"):
            req = {"service_item": "S1", "certificate": "succ", "applicant": PERSON, "requested_at": day}
            assert engine.decide(req).method is Method.VERIFICATION


def test_a_repeal_not_after_the_start_is_refused_at_its_line(tmp_path: Path) -> None:
    rows = [row("S1", "bad", methods=["verification"],
                legal_basis=[{"instrument": "《条例》", "effective_from": "2025-06-01", "repealed_on": "2025-06-01"}])]
    with pytest.raises(RulesetError) as info:
        load_ruleset(write_ruleset(tmp_path / "rs", rows=rows))
    assert info.value.file == "certificates.yaml" and info.value.line is not None
    assert any("repealed_on 2025-06-01 is not after effective_from" in p.problem for p in info.value.problems)


def test_a_repeal_that_leaves_only_a_lower_rank_is_abolished_by_rank_and_linted(tmp_path: Path) -> None:
    from ruleset_factory import MANIFEST, RULES

    manifest = {**MANIFEST, "legal_basis_policy": {"sufficient_ranks": ["法律", "行政法规"], "clause": "C-abolish"}}
    below = {"id": "a.below-rank", "method": "ABOLISH", "effect": "offer", "clause": "C-abolish", "reason": "仅有规章依据",
             "when": {"request.listed": True, "row.has_legal_basis": True, "row.legal_basis_sufficient": False}}
    rows = [row("S1", "mixed", methods=["verification"], legal_basis=[
        {"instrument": "《旧条例》", "rank": "行政法规", "repealed_on": "2025-06-01"},
        {"instrument": "《部门办法》", "rank": "部门规章"}])]
    path = write_ruleset(tmp_path / "rs", rows=rows, rules=[*RULES, below], manifest=manifest)
    data = lint(path)
    found = [f for f in data["warnings"] if f["code"] == "basis-repealed"]
    assert len(found) == 1 and "2025-06-01" in found[0]["message"] and "a.below-rank" in found[0]["message"]
    assert not data["errors"]
    with Engine(load_ruleset(path)) as engine:
        req = {"service_item": "S1", "certificate": "mixed", "applicant": PERSON}
        assert engine.decide({**req, "requested_at": "2025-05-30T10:00"}).method is Method.VERIFICATION
        after = engine.decide({**req, "requested_at": "2025-06-03T10:00"})
    assert after.method is Method.ABOLISH and [s.rule_id for s in after.trace if s.effect == "offer"] == ["a.below-rank"]
    data = lint(write_ruleset(tmp_path / "rs2", rows=rows, manifest=manifest))  # no rule on the rank
    assert "retained-basis-repealed-kept" in [f["code"] for f in data["errors"]]
