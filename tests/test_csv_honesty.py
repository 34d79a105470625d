"""CSV honesty (issue 14): a stray quote is reported with the lines it swallowed, and the summary
accounts for every line of the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from nocert_rules.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
ZIBO = str(ROOT / "rulesets" / "zibo")
ID = "37039919900101001X"
HEADER = "case_id,service_item,certificate,applicant_kind,applicant_id_number,applicant_name,requested_at"


def row(n: int, name: str = "张三") -> str:
    return f"C{n},370300-XK-0001,ZM-SJ-0001,person,{ID},{name},2021-05-06T10:00"


def dry_run(path: Path) -> tuple[dict[str, Any], str]:
    result = CliRunner().invoke(main, ["dry-run", ZIBO, str(path), "--json"])
    assert result.exit_code == 1, result.output
    text = CliRunner().invoke(main, ["dry-run", ZIBO, str(path)]).stdout
    return json.loads(result.stdout), text


def adds_up(data: dict[str, Any]) -> None:
    n = data["lines"]
    assert n["total"] == n["header"] + n["cases"] + n["blank"] + n["continued"] + n["swallowed"]
    assert n["cases"] == data["rows"] == data["decided"] + data["malformed"]


def test_a_stray_quote_to_the_end_of_the_file(tmp_path: Path) -> None:
    rows = [row(i) for i in range(1, 5001)]
    rows[99] = row(100, '"张三')  # line 101 opens a quote that nothing closes
    path = tmp_path / "cases.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    data, text = dry_run(path)
    adds_up(data)
    swallowed = data["lines"]["swallowed"]
    assert data["lines"]["total"] == 5001 and swallowed > 1000  # up to the CSV cell size limit (128 KiB)
    assert data["malformed"] == 1 and data["decided"] == 99 + (5000 - 100 - swallowed)  # then reading resumes
    [error] = data["errors"]["rows"]
    assert error["line"] == 101 and "stray quote" in error["reason"]
    assert f"lines 102-{101 + swallowed}" in error["reason"]
    assert "文件共 5,001 行 lines" in text and f"swallowed {swallowed:,}" in text


def test_reading_resumes_after_the_quote_that_closes_it(tmp_path: Path) -> None:
    rows = [row(i) for i in range(1, 5001)]
    rows[99] = row(100, '"张三')
    rows[199] = row(200, '李四"')  # line 201's quote closes the cell opened on line 101
    rows.insert(300, "")  # a blank line (line 302)
    path = tmp_path / "cases.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    data, _ = dry_run(path)
    adds_up(data)
    assert data["lines"] == {"total": 5002, "header": 1, "cases": 4900, "blank": 1, "continued": 0, "swallowed": 100}
    assert data["decided"] == 4899 and data["malformed"] == 1
    assert "lines 102-201" in data["errors"]["rows"][0]["reason"]


def test_a_quoted_line_break_in_a_name_is_still_a_case(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("\n".join([HEADER, row(1, '"张\n三"'), row(2), "", row(3)]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["dry-run", ZIBO, str(path), "--json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["decided"] == 3
    assert data["lines"] == {"total": 6, "header": 1, "cases": 3, "blank": 1, "continued": 1, "swallowed": 0}


def test_jsonl_lines_add_up_too(tmp_path: Path) -> None:
    good = json.dumps({"service_item": "370300-XK-0001", "certificate": "ZM-SJ-0001",
                       "applicant": {"kind": "person", "id_number": ID}, "requested_at": "2021-05-06T10:00"})
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join([good, "", "{bad", good, "   "]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["dry-run", ZIBO, str(path), "--json"])
    data = json.loads(result.stdout)
    adds_up(data)
    assert data["lines"] == {"total": 5, "header": 0, "cases": 3, "blank": 2, "continued": 0, "swallowed": 0}
