"""Every problem at once: RulesetError.problems, the CLI listing them all, --json for every error."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner
from ruleset_factory import MANIFEST, RULES, write_ruleset

from nocert_rules import RulesetError, load_ruleset
from nocert_rules.cli.main import main
from nocert_rules.errors import Problem


def broken(tmp_path: Path) -> Path:
    """Problems in three files: two in the manifest, one in the list, one in the rules."""
    manifest = {k: v for k, v in MANIFEST.items() if k not in ("title", "jurisdiction")}
    rules = [dict(RULES[0], clause="C-nope"), *RULES[1:]]
    rs = write_ruleset(tmp_path / "rs", manifest=manifest, rules=rules)
    rows = yaml.safe_load((rs / "certificates.yaml").read_text(encoding="utf-8"))["rows"]
    rows[1]["records"] = "microfilm"
    (rs / "certificates.yaml").write_text(yaml.safe_dump({"rows": rows}, allow_unicode=True), encoding="utf-8")
    return rs


def test_all_problems_of_all_files(tmp_path: Path) -> None:
    rs = broken(tmp_path)
    try:
        load_ruleset(rs)
    except RulesetError as exc:
        err = exc
    else:
        raise AssertionError("loaded")
    found = {(p.file, p.field) for p in err.problems}
    assert ("manifest.yaml", "title") in found and ("manifest.yaml", "jurisdiction") in found
    assert ("certificates.yaml", "rows[1].records") in found
    assert all(isinstance(p, Problem) and p.line for p in err.problems if p.file != "manifest.yaml")
    assert ("rules.yaml", "rules[0].clause") in found  # rules and clauses are valid: checked as well
    assert len(err.problems) == 4
    assert str(err).startswith(str(err.problems[0])) and "(and 3 more problems)" in str(err)
    assert (err.file, err.line, err.field, err.problem) == tuple(err.problems[0].to_dict().values())


def test_cross_references_are_all_reported(tmp_path: Path) -> None:
    rules = [dict(RULES[0], clause="C-nope"), dict(RULES[1], clause="C-abolsh"), *RULES[2:]]
    rs = write_ruleset(tmp_path / "rs", rules=rules)
    try:
        load_ruleset(rs)
    except RulesetError as exc:
        problems = exc.problems
    else:
        raise AssertionError("loaded")
    assert [(p.file, p.field) for p in problems] == [("rules.yaml", "rules[0].clause"), ("rules.yaml", "rules[1].clause")]
    assert "did you mean 'C-abolish'" in problems[1].problem
    assert all(p.line for p in problems)


def test_cli_prints_every_problem_and_json_lists_them(tmp_path: Path) -> None:
    rs = broken(tmp_path)
    runner = CliRunner()
    cases = tmp_path / "c.jsonl"
    cases.write_text("{}\n", encoding="utf-8")
    text = runner.invoke(main, ["dry-run", str(rs), str(cases)])
    assert text.exit_code == 2
    assert "4 个问题 problems" in text.stderr and "title" in text.stderr and "rows[1].records" in text.stderr
    assert text.stderr.count(str(rs)) == 4  # each problem names its file inside the ruleset
    as_json = runner.invoke(main, ["dry-run", str(rs), str(cases), "--json"])
    assert as_json.exit_code == 2 and as_json.stderr == ""
    error = json.loads(as_json.stdout)["error"]
    assert error["exit_code"] == 2 and len(error["problems"]) == 4
    assert {p["field"] for p in error["problems"]} == {"title", "jurisdiction", "rows[1].records", "rules[0].clause"}
    lint = runner.invoke(main, ["lint", str(rs), "--json"])
    assert lint.exit_code == 1 and len(json.loads(lint.stdout)["errors"]) == 4


def test_every_cli_error_honours_json(tmp_path: Path) -> None:
    runner = CliRunner()
    zibo = str(Path(__file__).parent.parent / "rulesets" / "zibo")
    for args in (
        ["decide", zibo, "--request", str(tmp_path / "missing.json"), "--json"],  # unreadable file
        ["decide", str(tmp_path / "nope"), "--request", "x", "--json"],  # no ruleset
        ["calendar", "deadline", "lunch", "2021-09-30", "--ruleset", zibo, "--json"],  # usage error
        ["calendar", "is-working-day", "someday", "--json"],  # bad parameter
        ["calendar", "deadline", "complaint", "2021-09-30", "--extension-days", "9", "--ruleset", zibo, "--json"],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        error = json.loads(result.stdout)["error"]
        assert error["exit_code"] == 2 and error["message"], args
    plain = runner.invoke(main, ["calendar", "is-working-day", "someday"])
    assert plain.exit_code == 2 and plain.stdout == "" and "someday" in plain.stderr
