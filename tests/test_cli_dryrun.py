"""`nocert-rules dry-run`: streaming summary, --jobs, --out, --report, malformed rows, privacy."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruleset_factory import ROWS, row, write_ruleset

from nocert_rules.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
ZIBO = str(ROOT / "rulesets" / "zibo")
CASES = ROOT / "examples" / "cases.jsonl"
ID = "37039919900101001X"


def run(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(main, list(args), input=input)


def summary(*args: str) -> dict[str, Any]:
    result = run("dry-run", *args, "--json")
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.stdout)
    data["_exit"] = result.exit_code
    return data


def case(n: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"case_id": f"T{n}", "service_item": "370300-XK-0001", "certificate": "ZM-SJ-0001",
                            "applicant": {"kind": "person", "id_number": ID}, "requested_at": "2021-05-06T10:00"}
    base.update(fields)
    return base


def write_jsonl(path: Path, lines: list[Any]) -> str:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines),
                    encoding="utf-8")
    return str(path)


def test_sample_cases_summary_is_consistent_and_ok() -> None:
    data = summary(ZIBO, str(CASES))
    assert data["_exit"] == 0
    assert data["rows"] == data["decided"] == 2001 and data["malformed"] == 0
    assert sum(data["methods"].values()) == data["decided"]
    assert sum(e["total"] for e in data["issuers"]) == data["decided"]
    assert set(data["methods"]) == {"ABOLISH", "APPLICANT_PROVIDED", "DATA_SHARING", "PLEDGE", "VERIFICATION", "PROXY"}
    assert data["expected"]["checked"] > 1000 and data["expected"]["mismatched"] == 0
    rules = {b["rule"] for b in data["pledge_blocked"]["by_rule"]}
    assert "pledge.barred-by-risk" in rules and "pledge.untrustworthy" in rules
    kinds = {d["kind"] for d in data["deadlines"]}
    assert kinds == {"verification_reply", "post_check"}
    electronic = [d for d in data["deadlines"] if "30 个工作分钟" in d["rule"]]
    assert electronic and electronic[0]["working_minutes"] == {"min": 30, "median": 30, "max": 30}
    assert any("已过有效期" in w["text"] for w in data["warnings"])  # a few cases after 2022-02-01


def test_default_output_is_a_readable_summary() -> None:
    result = run("dry-run", ZIBO, str(CASES))
    assert result.exit_code == 0, result.output
    out = result.stdout
    for heading in ("处理方式 / Methods", "出具单位 × 处理方式", "告知承诺被阻止", "期限分布", "预期方式核对",
                    "结论 / Result: 通过 OK"):
        assert heading in out
    assert "\x1b[" not in out  # not a terminal: no colour, no progress bar


def test_jobs_2_gives_the_same_summary_as_jobs_1() -> None:
    one = summary(ZIBO, str(CASES), "--jobs", "1", "--chunk-size", "97")
    two = summary(ZIBO, str(CASES), "--jobs", "2", "--chunk-size", "97")
    for data in (one, two):
        for key in ("elapsed_seconds", "cases_per_second", "jobs"):
            data.pop(key)
    assert one == two


def test_malformed_rows_are_reported_with_line_and_do_not_stop_the_run(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", [
        case(1),
        "{not json",
        case(3, applicant={"kind": "person"}),  # missing id_number
        case(4, wants_pledge="sometimes"),  # wrong type
        "",
        case(6, expected_method="ABOLISH"),  # mismatch: it is DATA_SHARING
        "[1, 2]",
        case(8),
    ])
    result = run("dry-run", ZIBO, path)
    assert result.exit_code == 1
    data = summary(ZIBO, path)
    assert data["rows"] == 7 and data["decided"] == 3 and data["malformed"] == 4
    lines = {e["line"]: e["reason"] for e in data["errors"]["rows"]}
    assert set(lines) == {2, 3, 4, 7}
    assert "bad JSON" in lines[2]
    assert "applicant.id_number" in lines[3]
    assert "wants_pledge" in lines[4]
    assert data["expected"]["mismatches"] == [{"line": 6, "case_id": "T6", "expected": "ABOLISH", "got": "DATA_SHARING"}]
    assert "4" in result.stdout and "格式错误的行" in result.stdout and "T6" in result.stdout


def test_no_full_id_number_in_stdout_out_file_or_report(tmp_path: Path) -> None:
    ids = {json.loads(line)["applicant"]["id_number"] for line in CASES.read_text(encoding="utf-8").splitlines()}
    extra = [
        case(1, case_id=ID),  # a case id that is an ID number
        case(2, sharing_online=ID),  # an ID number where a boolean belongs
        case(3, applicant={"kind": "person", "id_number": ID, "credit": ID}),
    ]
    path = tmp_path / "cases.jsonl"
    path.write_text(CASES.read_text(encoding="utf-8") + "".join(json.dumps(c) + "\n" for c in extra), encoding="utf-8")
    out, report = tmp_path / "out.jsonl", tmp_path / "r.html"
    result = run("dry-run", ZIBO, str(path), "--out", str(out), "--report", str(report))
    assert result.exit_code == 1  # the two malformed rows
    as_json = run("dry-run", ZIBO, str(path), "--json")
    texts = [result.output, as_json.output, out.read_text(encoding="utf-8"), report.read_text(encoding="utf-8")]
    for text in texts:
        leaked = [i for i in ids | {ID} if i in text]
        assert not leaked, leaked[:3]
    assert "370*************1X" in texts[2]


def test_out_file_has_one_line_per_case_in_order(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", [case(1), "oops", case(3, certificate="ZM-XX-9999",
                                                                  expected_method="ABOLISH")])
    out = tmp_path / "out.jsonl"
    result = run("dry-run", ZIBO, path, "--out", str(out), "--jobs", "2", "--chunk-size", "1")
    assert result.exit_code == 1
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["line"] for x in lines] == [1, 2, 3]
    assert lines[0]["decision"]["method"] == "DATA_SHARING"
    assert "error" in lines[1]
    assert lines[2]["match"] is True and lines[2]["decision"]["method"] == "ABOLISH"


def test_csv_cases_with_documented_columns(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(
        "\ufeffcase_id,service_item,certificate,applicant_kind,applicant_id_number,applicant_credit,"
        "applicant_blacklisted_since,applicant_credit_repaired_on,applicant_serious_bad_record,requested_at,"
        "wants_pledge,provides_certificate,sharing_online,proxy_authorized,expected_method\n"
        f"A1,370300-XK-0001,ZM-SJ-0001,person,{ID},normal,,,,2021-05-06T10:00,,,,,DATA_SHARING\n"
        f"A2,370300-QR-0002,ZM-MZ-0001,person,{ID},,2020-11-02,2021-03-01,否,2021-06-01 10:00,是,false,0,1,告知承诺\n"
        f"A3,370300-QR-0002,ZM-MZ-0001,person,{ID},,2020-11-02,,,2021-06-01 10:00,,,no,,PROXY\n"
        f"A4,370300-QR-0002,ZM-MZ-0001,person,{ID},,,,maybe,2021-06-01 10:00,,,,,\n",
        encoding="utf-8")
    data = summary(ZIBO, str(path))
    assert data["decided"] == 3 and data["malformed"] == 1
    assert data["expected"]["checked"] == 3 and data["expected"]["mismatched"] == 0
    assert data["errors"]["rows"][0]["line"] == 5 and "applicant_serious_bad_record" in data["errors"]["rows"][0]["reason"]


def test_csv_with_unknown_column_or_not_utf8_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("service_item,certificate,applicant_kind,applicant_id_number,colour\n", encoding="utf-8")
    result = run("dry-run", ZIBO, str(bad))
    assert result.exit_code == 2 and "colour" in result.stderr and "Traceback" not in result.output
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("service_item,certificate,applicant_kind,applicant_id_number\n甲,乙,person,1\n".encode("gbk"))
    result = run("dry-run", ZIBO, str(gbk))
    assert result.exit_code == 2 and f"{gbk}:2" in result.stderr and "UTF-8" in result.stderr


def test_missing_cases_file_and_missing_ruleset_exit_2(tmp_path: Path) -> None:
    result = run("dry-run", ZIBO, str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2 and "case file not found" in result.stderr
    result = run("dry-run", str(tmp_path / "nope"), str(CASES))
    assert result.exit_code == 2 and "ruleset not found" in result.stderr


def test_ruleset_with_yaml_error_names_file_and_line(tmp_path: Path) -> None:
    rs = write_ruleset(tmp_path / "rs")
    text = (rs / "rules.yaml").read_text(encoding="utf-8").splitlines()
    text.insert(3, "  - id: [unclosed")
    (rs / "rules.yaml").write_text("\n".join(text) + "\n", encoding="utf-8")
    result = run("dry-run", str(rs), str(CASES))
    assert result.exit_code == 2
    assert re.search(r"rs/rules\.yaml:\d+: bad YAML", result.stderr), result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_as_of_date_overrides_every_requested_at() -> None:
    data = summary(ZIBO, str(CASES), "--as-of", "2022-03-01")
    expired = [w for w in data["warnings"] if "已过有效期" in w["text"]]
    assert expired and expired[0]["count"] == data["decided"] == 2001
    assert data["as_of"] == "2022-03-01T10:00:00+08:00"
    result = run("dry-run", ZIBO, str(CASES), "--as-of", "yesterday-ish")
    assert result.exit_code == 2 and "--as-of" in result.output


def test_stdin_cases(tmp_path: Path) -> None:
    text = "\n".join(json.dumps(case(i)) for i in range(5)) + "\n"
    result = run("dry-run", ZIBO, "-", "--json", input=text)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["methods"] == {"DATA_SHARING": 5}


def test_report_is_self_contained_and_escapes_text(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>局"
    rows = [*ROWS, row("S1", "evil", methods=["verification"], issuer=evil)]
    rs = write_ruleset(tmp_path / "rs", rows=rows)
    cases = write_jsonl(tmp_path / "c.jsonl", [
        case(1, service_item="S1", certificate="evil", requested_at="2024-05-06T10:00"),
        case(2, service_item="S1", certificate="share", requested_at="2024-05-06T10:00", case_id="<b>x</b>",
             expected_method="PLEDGE"),
    ])
    report = tmp_path / "report.html"
    result = run("dry-run", str(rs), cases, "--report", str(report))
    assert result.exit_code == 1  # the mismatch
    html = report.read_text(encoding="utf-8")
    assert "<svg" in html and "</svg>" in html and "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;局" in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert not re.search(r"(src|href)=\"https?:", html)
    assert "部门核验 VERIFICATION" in html


def test_a_worker_that_cannot_start_fails_fast_with_one_line(tmp_path: Path) -> None:
    from nocert_rules.policy.ruleset import load_ruleset
    from nocert_rules.tools.dryrun import WorkerError, run_dry_run

    rs = load_ruleset(write_ruleset(tmp_path / "rs"))
    (tmp_path / "rs" / "rules.yaml").write_text("rules: [\n", encoding="utf-8")  # workers reload it: broken
    with pytest.raises(WorkerError, match="rules.yaml:2: bad YAML"):
        run_dry_run(rs, str(CASES), jobs=2)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_python_dash_m_dry_run_readme_command(jobs: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "nocert_rules", "dry-run", "rulesets/zibo", "examples/cases.jsonl",
                           "--jobs", jobs], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "结论 / Result: 通过 OK" in proc.stdout
    assert "\r" not in proc.stdout and "\x1b[" not in proc.stdout  # no progress bar when piped
