"""`nocert-rules lint`: errors and warnings, each at file:line, on small broken rulesets."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from ruleset_factory import MANIFEST, ROWS, RULES, row, write_ruleset

from nocert_rules.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
ZIBO = str(ROOT / "rulesets" / "zibo")

GOOD_ROWS = [r for r in ROWS if r["certificate_id"] != "no-basis"] + [
    row("S1", "no-basis", legal_basis=None, status="abolished", methods=[]),
]


def lint(path: Path | str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["lint", str(path), "--json", *extra])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def codes(findings: list[dict[str, Any]]) -> list[str]:
    return [f["code"] for f in findings]


def line_text(path: Path, finding: dict[str, Any]) -> str:
    return path.read_text(encoding="utf-8").splitlines()[finding["line"] - 1]


def test_zibo_has_no_errors_four_listed_pledges_on_barring_risks_and_seven_rows_below_rank() -> None:
    code, data = lint(ZIBO)
    assert code == 0 and data["errors"] == []
    assert sorted(codes(data["warnings"])) == (
        ["basis-below-rank"] * 7 + ["basis-repealed"] * 2 + ["pledge-listed-on-barring-risk"] * 4
    )
    certificates = Path(ZIBO) / "certificates.yaml"
    for w in data["warnings"]:
        assert w["file"] == str(certificates)
        if w["code"] == "pledge-listed-on-barring-risk":
            assert "methods:" in line_text(certificates, w) and "pledge" in line_text(certificates, w)
        elif w["code"] == "basis-repealed":  # 《个体工商户条例》, repealed 2022-11-01: abolished by rule from then
            assert "legal_basis:" in line_text(certificates, w) and "370300-XK-0013" in w["message"]
            assert "2022-11-01" in w["message"] and "abolish.no-legal-basis" in w["message"]
        else:  # only departmental rules (部门规章): abolished by rule, with its clause
            assert "legal_basis:" in line_text(certificates, w)
            assert "abolish.basis-below-rank" in w["message"] and "二(一)" in w["message"]
    strict = CliRunner().invoke(main, ["lint", ZIBO, "--strict"])
    assert strict.exit_code == 1 and f"certificates.yaml:{data['warnings'][0]['line']}" in strict.stdout


def test_clean_ruleset_passes(tmp_path: Path) -> None:
    rows = [*(r for r in GOOD_ROWS if r["certificate_id"] != "risky"),
            row("S1", "risky", methods=["verification"], risk_categories=["health"], records="paper")]
    code, data = lint(write_ruleset(tmp_path / "rs", rows=rows))
    readings = data.pop("readings")  # the defaults, with no clause behind them (tests/test_readings.py)
    assert {r["field"] for r in readings} >= {"deadlines.publication_schedule", "pledge_policy.false_pledge_bar"}
    assert code == 0 and data == {"ruleset": str(tmp_path / "rs"), "loaded": True, "errors": [], "warnings": [],
                                     "case_mismatches": []}


def test_a_rule_that_matches_no_current_row_is_told_apart(tmp_path: Path) -> None:
    rows = [r for r in GOOD_ROWS if r["certificate_id"] != "risky"]  # no row has a barring risk now
    code, data = lint(write_ruleset(tmp_path / "rs", rows=rows))
    assert code == 0
    assert codes(data["warnings"]) == ["rule-matches-no-row"] and "g.risk" in data["warnings"][0]["message"]


def test_retained_row_without_legal_basis_is_an_error_at_its_line(tmp_path: Path) -> None:
    rs = write_ruleset(tmp_path / "rs")  # the factory's rows include a retained row with no basis
    code, data = lint(rs)
    assert code == 1
    (err,) = [f for f in data["errors"] if f["code"] == "retained-without-basis"]
    assert "no-basis" in err["message"] and "must be abolished" in err["message"]
    assert "legal_basis" in line_text(rs / "certificates.yaml", err)
    human = CliRunner().invoke(main, ["lint", str(rs)])
    assert human.exit_code == 1 and f"{rs}/certificates.yaml:{err['line']}" in human.stdout


def test_duplicate_row_is_reported_as_a_load_error_with_line(tmp_path: Path) -> None:
    rs = write_ruleset(tmp_path / "rs", rows=[*GOOD_ROWS, GOOD_ROWS[0]])
    code, data = lint(rs)
    assert code == 1 and codes(data["errors"]) == ["load"] and data["loaded"] is False
    err = data["errors"][0]
    assert "duplicate row" in err["message"] and err["file"].endswith("certificates.yaml") and err["line"]


def test_data_sharing_without_source_is_an_error(tmp_path: Path) -> None:
    rows = [*GOOD_ROWS, row("S2", "nosrc", methods=["data_sharing"])]
    code, data = lint(write_ruleset(tmp_path / "rs", rows=rows))
    assert code == 1
    assert "sharing_source" in data["errors"][0]["message"]


def test_pledge_on_barring_risk_error_when_no_rule_blocks_it(tmp_path: Path) -> None:
    rules = [r for r in RULES if r["id"] != "g.risk"]
    rs = write_ruleset(tmp_path / "rs", rows=GOOD_ROWS, rules=rules)
    code, data = lint(rs)
    assert code == 1
    (err,) = [f for f in data["errors"] if f["code"] == "pledge-on-barring-risk"]
    assert "risky" in err["message"] and "request.wants_pledge=true" in err["message"]
    assert "methods" in line_text(rs / "certificates.yaml", err)


def test_pledge_on_barring_risk_only_warns_when_rules_block_it(tmp_path: Path) -> None:
    code, data = lint(write_ruleset(tmp_path / "rs", rows=GOOD_ROWS))
    assert code == 0
    assert codes(data["warnings"]) == ["pledge-listed-on-barring-risk"]


def test_rule_that_can_never_match_is_a_warning_at_its_line(tmp_path: Path) -> None:
    rules = [*copy.deepcopy(RULES),
             {"id": "z.contradiction", "method": "PROXY", "effect": "offer", "clause": "C-proxy", "reason": "x",
              "when": {"all": [{"request.sharing_online": True}, {"request.sharing_online": False}]}},
             {"id": "z.no-such-row", "method": "PROXY", "effect": "offer", "clause": "C-proxy", "reason": "x",
              "when": {"row.certificate_id": "does-not-exist"}},
             {"id": "z.unlisted-row-fact", "method": "PROXY", "effect": "offer", "clause": "C-proxy", "reason": "x",
              "when": {"request.listed": False, "row.status": "retained"}}]
    rs = write_ruleset(tmp_path / "rs", rows=GOOD_ROWS, rules=rules)
    code, data = lint(rs)
    assert code == 0  # warnings only
    never = [f for f in data["warnings"] if f["code"] == "rule-never-matches"]
    assert [f["message"].split()[1] for f in never] == ["z.contradiction", "z.unlisted-row-fact"]
    no_row = [f for f in data["warnings"] if f["code"] == "rule-matches-no-row"]
    assert [f["message"].split()[1] for f in no_row] == ["z.no-such-row"]
    assert "when" in line_text(rs / "rules.yaml", never[0])
    assert lint(rs, "--strict")[0] == 1


def test_offer_always_blocked_is_a_warning(tmp_path: Path) -> None:
    rules = [*copy.deepcopy(RULES),
             {"id": "g.never", "method": "PLEDGE", "effect": "block", "clause": "C-pledge", "reason": "never",
              "when": {"row.allows_pledge": True}}]
    code, data = lint(write_ruleset(tmp_path / "rs", rows=GOOD_ROWS, rules=rules))
    shadowed = [f for f in data["warnings"] if f["code"] == "offer-always-blocked"]
    assert len(shadowed) == 1 and "g.allowed" in shadowed[0]["message"] and "g.never" in shadowed[0]["message"]


def test_bad_service_item_code_and_differing_names(tmp_path: Path) -> None:
    manifest = {**MANIFEST, "service_item_code_pattern": r"^S\d$"}
    rows = [*GOOD_ROWS, row("BAD-1", "x1", methods=["verification"]),
            row("S3", "share", certificate_name="另一个名字", methods=["verification"]),  # id "share" renamed
            row("S1", "x2", methods=["verification"], service_item_name="另一个事项名")]  # item S1 renamed
    rs = write_ruleset(tmp_path / "rs", rows=rows, manifest=manifest)
    code, data = lint(rs)
    assert code == 1
    bad = [f for f in data["errors"] if f["code"] == "bad-service-item-code"]
    assert len(bad) == 1 and "BAD-1" in bad[0]["message"]
    assert "service_item_code" in line_text(rs / "certificates.yaml", bad[0])
    assert sorted(codes(data["warnings"])) == ["certificate-name-differs", "pledge-listed-on-barring-risk",
                                               "service-item-name-differs"]
    differs = [f for f in data["warnings"] if f["code"] == "certificate-name-differs"][0]
    assert "另一个名字" in differs["message"] and "certificate_name" in line_text(rs / "certificates.yaml", differs)


def test_yaml_error_in_a_ruleset_file_names_file_and_line(tmp_path: Path) -> None:
    rs = write_ruleset(tmp_path / "rs", rows=GOOD_ROWS)
    (rs / "certificates.yaml").write_text("rows:\n  - service_item_code: S1\n    methods: [a, b\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["lint", str(rs)])
    assert result.exit_code == 1
    assert f"{rs}/certificates.yaml:" in result.stdout and "[load]" in result.stdout
    assert "Traceback" not in result.output


def test_missing_ruleset_exits_2_and_subprocess(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["lint", str(tmp_path / "none")])
    assert result.exit_code == 2 and "ruleset not found" in result.stderr
    proc = subprocess.run([sys.executable, "-m", "nocert_rules", "lint", ZIBO], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and "0 个错误 errors, 13 个警告 warnings" in proc.stdout
