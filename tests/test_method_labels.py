"""Every output names a method by the ruleset's label (manifest ``wording.methods.labels``), not by
a Python copy of them: a copy of Zibo whose PLEDGE label is changed shows the changed label in
``decide``, the dry-run summary and its HTML report, ``export-list``'s rules sheet, ``lint``'s
message and the records' messages, and accepts it as an ``expected_method`` (case files, rule
tests) — in Chinese and in English."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, ZIBO

from nocert_rules import Engine, Method, load_ruleset
from nocert_rules.cli.main import main
from nocert_rules.errors import RecordError
from nocert_rules.records.pledge import pledge_values
from nocert_rules.tools.casefile import RawCase, method_names, parse_method, parse_raw
from nocert_rules.tools.lint import lint_ruleset
from nocert_rules.tools.rule_tests import run_tests

ZH, EN = "承诺制测试", "PLEDGE-TEST"
ZIBO_PLEDGE = "PLEDGE: {zh: 告知承诺, en: PLEDGE}"
PLEDGE_REQUEST = json.loads((ROOT / "examples" / "requests" / "pledge.json").read_text(encoding="utf-8"))


def _relabelled(tmp_path: Path, label: str = ZIBO_PLEDGE, new: str = f"PLEDGE: {{zh: {ZH}, en: {EN}}}") -> Path:
    """A copy of Zibo whose ``label`` line (PLEDGE's) reads ``new`` (``ZH`` / ``EN``); its tests/ left out."""
    folder = tmp_path / "zibo"
    shutil.copytree(ZIBO, folder, ignore=shutil.ignore_patterns("tests"))
    manifest = folder / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8")
    assert text.count(label) == 1
    manifest.write_text(text.replace(label, new), encoding="utf-8")
    return folder


@pytest.fixture
def relabelled(tmp_path: Path) -> Path:
    return _relabelled(tmp_path)


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _cases(tmp_path: Path, expected: str) -> str:
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps({"case_id": "p1", "expected_method": expected, **PLEDGE_REQUEST}, ensure_ascii=False)
                    + "\n", encoding="utf-8")
    return str(path)


def test_the_relabelled_copy_still_decides_the_pledge(relabelled: Path) -> None:
    engine = Engine(load_ruleset(relabelled))
    try:
        assert engine.decide(PLEDGE_REQUEST).method is Method.PLEDGE
    finally:
        engine.close()


def test_decide_shows_the_rulesets_label(relabelled: Path, tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps(PLEDGE_REQUEST), encoding="utf-8")
    code, out = _invoke("decide", str(relabelled), "--request", str(request))
    assert code == 0, out
    method_line = next(line for line in out.splitlines() if line.startswith("处理方式 / Method:"))
    assert f"{ZH} PLEDGE" in method_line and "告知承诺 PLEDGE" not in out


def test_dry_run_summary_shows_the_rulesets_label(relabelled: Path, tmp_path: Path) -> None:
    code, out = _invoke("dry-run", str(relabelled), _cases(tmp_path, "PLEDGE"), "--no-progress")
    assert code == 0, out
    assert f"{ZH} PLEDGE" in out  # the methods table
    issuers_head = next(line for line in out.splitlines() if "出具单位 issuer" in line)
    assert ZH in issuers_head  # the issuer x method table's column


def test_dry_run_report_shows_the_rulesets_label(relabelled: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    code, out = _invoke("dry-run", str(relabelled), _cases(tmp_path, "PLEDGE"), "--report", str(report), "--json")
    assert code == 0, out
    html = report.read_text(encoding="utf-8")
    assert f"{ZH} PLEDGE" in html and "告知承诺 PLEDGE" not in html


@pytest.mark.parametrize("expected", [ZH, EN, EN.lower(), f" {ZH} "])
def test_a_case_file_may_expect_the_rulesets_label(relabelled: Path, tmp_path: Path, expected: str) -> None:
    code, out = _invoke("dry-run", str(relabelled), _cases(tmp_path, expected), "--json", "--no-progress")
    assert code == 0, out
    summary = json.loads(out)
    assert summary["malformed"] == 0 and summary["expected"] == {**summary["expected"], "checked": 1, "matched": 1}


def test_a_case_file_reads_labels_with_the_rulesets_names(relabelled: Path) -> None:
    names = method_names(load_ruleset(relabelled).manifest.wording)
    raw = RawCase(1, json.dumps({"expected_method": ZH, **PLEDGE_REQUEST}, ensure_ascii=False))
    assert parse_raw(raw, names).expected_method is Method.PLEDGE
    assert parse_method(EN, names) is Method.PLEDGE and parse_method("pledge", names) is Method.PLEDGE
    # the bundled default's label is not this ruleset's any more; without names the default applies
    assert parse_raw(raw).error is not None and "unknown method" in str(parse_raw(raw).error)
    with pytest.raises(ValueError, match="unknown method"):
        parse_method("告知承诺", names)
    assert parse_method("告知承诺") is Method.PLEDGE


def test_a_rule_test_may_expect_the_rulesets_label(relabelled: Path) -> None:
    tests = relabelled / "tests"
    tests.mkdir()
    case = {"name": "label", "request": PLEDGE_REQUEST, "expect": {"method": ZH}}
    (tests / "labels.yaml").write_text(json.dumps([case], ensure_ascii=False), encoding="utf-8")
    run = run_tests(load_ruleset(relabelled))
    assert [(r.error, r.failures) for r in run.results] == [(None, [])]


def test_export_list_rules_sheet_shows_the_rulesets_label(relabelled: Path, tmp_path: Path) -> None:
    import openpyxl

    sheet = tmp_path / "list.xlsx"
    code, out = _invoke("export-list", str(relabelled), "--out", str(sheet))
    assert code == 0, out
    cells = [str(c.value) for ws in openpyxl.load_workbook(sheet).worksheets for r in ws.iter_rows() for c in r
             if c.value is not None]
    assert f"{ZH} PLEDGE" in cells and "告知承诺 PLEDGE" not in cells


def test_lint_names_the_blocked_method_by_the_rulesets_label(relabelled: Path) -> None:
    rules = relabelled / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + """
  - id: pledge.never
    method: PLEDGE
    effect: block
    when: {row.allows_pledge: true}
    clause: 三(三)2
    reason: 测试 / test
""", encoding="utf-8")
    found = [f for f in lint_ruleset(relabelled).findings if f.code == "offer-always-blocked"]
    assert found and all(f"永远不会采用{ZH} /" in f.message for f in found), found


def test_a_records_message_names_the_method_by_the_rulesets_label(relabelled: Path) -> None:
    ruleset = load_ruleset(relabelled)
    request = json.loads((ROOT / "examples" / "requests" / "verification-statutory.json").read_text(encoding="utf-8"))
    engine = Engine(ruleset)
    try:
        decision = engine.decide(request)
    finally:
        engine.close()
    assert decision.method is Method.VERIFICATION
    with pytest.raises(RecordError, match=f"不是{ZH} /"):
        pledge_values(ruleset, decision)


def test_check_guide_names_the_method_by_the_rulesets_label(tmp_path: Path) -> None:
    folder = _relabelled(tmp_path, "DATA_SHARING: {zh: 数据共享, en: DATA_SHARING}",
                         "DATA_SHARING: {zh: 共享测试, en: DATA_SHARING}")
    result = CliRunner().invoke(main, ["check-guide", str(folder), str(ROOT / "examples" / "guide.yaml"),
                                       "--as-of", "2021-06-01", "--json"])
    assert result.exit_code == 1, result.output
    reasons = [m["reason"] for m in json.loads(result.stdout)["materials"] if m["method"] == "DATA_SHARING"]
    assert reasons and all("共享测试 DATA_SHARING" in r for r in reasons if r.startswith("改为")), reasons
    assert any(r.startswith("改为共享测试 DATA_SHARING") for r in reasons)
