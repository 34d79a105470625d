"""`nocert-rules diff`: rows 新增/变更/取消, rules, and decisions that change over cases."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from ruleset_factory import MANIFEST, ROWS, RULES, row, write_ruleset

from nocert_rules.cli.main import main

ID = "37039919900101001X"


def cases_file(path: Path) -> str:
    lines = []
    for n, cert in enumerate(["share", "pledge", "risky", "verify", "proxy-only", "gone", "share"], start=1):
        lines.append({"case_id": f"K{n}", "service_item": "S1", "certificate": cert,
                      "applicant": {"kind": "person", "id_number": ID}, "requested_at": "2024-05-06T10:00",
                      "sharing_online": n != 7})
    lines.append("{broken")
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return str(path)


def two_rulesets(tmp_path: Path) -> tuple[Path, Path]:
    old = write_ruleset(tmp_path / "old")
    rows: list[dict[str, Any]] = copy.deepcopy(ROWS)
    rows = [r for r in rows if r["certificate_id"] != "verify"]  # 取消
    rows.append(row("S2", "new", methods=["verification"]))  # 新增
    for r in rows:
        if r["certificate_id"] == "pledge":  # 变更: pledge no longer allowed
            r["methods"] = ["verification"]
            r["issuer"] = "新测试局"
    rules = [r for r in copy.deepcopy(RULES) if r["id"] != "x.no-auth"]
    rules.append({"id": "s.never", "method": "DATA_SHARING", "effect": "block", "when": {"request.listed": False},
                  "clause": "C-share", "reason": "新规则"})
    new = write_ruleset(tmp_path / "new", rows=rows, rules=rules, manifest={**MANIFEST, "version": "t2"})
    return old, new


def test_rows_rules_and_manifest_differences(tmp_path: Path) -> None:
    old, new = two_rulesets(tmp_path)
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(r["service_item_code"], r["certificate_id"]) for r in data["rows"]["added"]] == [("S2", "new")]
    assert [(r["service_item_code"], r["certificate_id"]) for r in data["rows"]["cancelled"]] == [("S1", "verify")]
    (changed,) = data["rows"]["changed"]
    assert (changed["service_item_code"], changed["certificate_id"]) == ("S1", "pledge")
    fields = {f["field"]: (f["old"], f["new"]) for f in changed["fields"]}
    assert fields == {"methods": (["pledge", "verification"], ["verification"]), "issuer": ("测试局", "新测试局")}
    assert [r["id"] for r in data["rules"]["added"]] == ["s.never"]
    assert [r["id"] for r in data["rules"]["removed"]] == ["x.no-auth"]
    assert data["manifest"] == [{"field": "version", "old": "t1", "new": "t2"}]

    human = CliRunner().invoke(main, ["diff", str(old), str(new)])
    assert human.exit_code == 0
    for text in ("+ 新增 S2 / new", "~ 变更 S1 / pledge", 'methods: ["pledge", "verification"] → ["verification"]',
                 "- 取消 S1 / verify", "+ s.never", "- x.no-auth"):
        assert text in human.stdout


def test_cases_show_which_decisions_change(tmp_path: Path) -> None:
    old, new = two_rulesets(tmp_path)
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--cases", cases_file(tmp_path / "c.jsonl"),
                                       "--json"])
    assert result.exit_code == 0, result.output
    cases = json.loads(result.stdout)["cases"]
    assert cases["cases"] == 7 and cases["malformed"] == 1
    transitions = {(t["old"], t["new"]): (t["count"], t["sample_case_ids"]) for t in cases["transitions"]}
    # K2: pledge -> verification (row changed); K4: the row was cancelled -> ABOLISH
    assert transitions == {("PLEDGE", "VERIFICATION"): (1, ["K2"]), ("VERIFICATION", "ABOLISH"): (1, ["K4"])}
    assert cases["changed"] == 2
    human = CliRunner().invoke(main, ["diff", str(old), str(new), "--cases", str(tmp_path / "c.jsonl")])
    assert "PLEDGE → VERIFICATION: 1" in human.stdout and ID not in human.stdout


def test_exit_code_flag(tmp_path: Path) -> None:
    old, new = two_rulesets(tmp_path)
    same = CliRunner().invoke(main, ["diff", str(old), str(old), "--exit-code"])
    assert same.exit_code == 0 and "无差异 / no differences" in same.stdout
    assert CliRunner().invoke(main, ["diff", str(old), str(new), "--exit-code"]).exit_code == 1
    assert CliRunner().invoke(main, ["diff", str(old), str(new)]).exit_code == 0


def test_missing_or_broken_ruleset_exits_2(tmp_path: Path) -> None:
    old, _ = two_rulesets(tmp_path)
    result = CliRunner().invoke(main, ["diff", str(old), str(tmp_path / "nope")])
    assert result.exit_code == 2 and "ruleset not found" in result.stderr
    (old / "manifest.yaml").write_text("name: [x\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["diff", str(old), str(old)])
    assert result.exit_code == 2 and f"{old}/manifest.yaml:" in result.stderr and "Traceback" not in result.output
