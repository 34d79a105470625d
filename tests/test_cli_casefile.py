"""Case files and requests that used to crash the CLI (exit 3) and must not: hostile rows, line
endings, extreme --as-of values, ID numbers echoed in a request error."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from nocert_rules.cli.main import main
from nocert_rules.tools import casefile
from nocert_rules.tools.casefile import RawCase, chunked, iter_raw

ROOT = Path(__file__).resolve().parent.parent
ZIBO = str(ROOT / "rulesets" / "zibo")
ID = "37039919900101001X"
CSV_HEADER = "case_id,service_item,certificate,applicant_kind,applicant_id_number,requested_at"


def run(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(main, list(args), input=input)


def good(case_id: str) -> str:
    return json.dumps({"case_id": case_id, "service_item": "370300-XK-0001", "certificate": "ZM-SJ-0001",
                       "applicant": {"kind": "person", "id_number": ID}, "requested_at": "2021-05-06T10:00"})


def csv_row(case_id: str) -> str:
    return f"{case_id},370300-XK-0001,ZM-SJ-0001,person,{ID},2021-05-06T10:00"


def dry_run_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = run("dry-run", ZIBO, *args, "--json")
    assert result.exit_code in (0, 1), result.output  # never 3 ("internal error")
    return result.exit_code, json.loads(result.stdout)


def reasons(data: dict[str, Any]) -> dict[int, str]:
    return {e["line"]: e["reason"] for e in data["errors"]["rows"]}


# ---------------------------------------------------------------- bug 1: rows that crashed the run


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_hostile_jsonl_rows_are_malformed_rows_not_internal_errors(tmp_path: Path, jobs: str) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join([
        good("G1"),
        "[" * 100_000 + "]" * 100_000,  # RecursionError in json
        '{"case_id": ' + "9" * 5000 + "}",  # ValueError: int digits limit
        '{"case_id": "\\ud800"}',  # a lone surrogate: no UTF-8 output could hold it
        good("G5"),
    ]) + "\n", encoding="utf-8")
    code, data = dry_run_json(str(path), "--jobs", jobs, "--out", str(tmp_path / "out.jsonl"))
    assert code == 1
    assert data["rows"] == 5 and data["decided"] == 2 and data["malformed"] == 3
    why = reasons(data)
    assert set(why) == {2, 3, 4}
    assert "nested too deeply" in why[2] and "too many digits" in why[3] and "surrogate" in why[4]
    out = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [x["line"] for x in out] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_csv_cell_over_the_field_limit_is_a_malformed_row(tmp_path: Path, jobs: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text("\n".join([CSV_HEADER, csv_row("A1"), csv_row("A2").replace("ZM-SJ-0001", "x" * 200_000),
                               csv_row("A3")]) + "\n", encoding="utf-8")
    code, data = dry_run_json(str(path), "--jobs", jobs)
    assert code == 1
    assert data["rows"] == 3 and data["decided"] == 2 and data["malformed"] == 1
    assert "bad CSV" in reasons(data)[3]


def test_lines_and_records_over_the_limit_are_malformed_rows(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(casefile, "MAX_RECORD_BYTES", 1000)
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text("\n".join([good("G1"), '{"case_id": "' + "y" * 5000 + '"}', good("G3")]) + "\n",
                     encoding="utf-8")
    code, data = dry_run_json(str(jsonl))
    assert code == 1 and data["decided"] == 2 and "line longer" in reasons(data)[2]

    long_line = "," * 1500
    cells = ",".join(['"a\nb"'] * 400)  # one record of 400 lines, 2400 bytes
    csv_file = tmp_path / "c.csv"
    csv_file.write_text("\n".join([CSV_HEADER, csv_row("A1"), long_line, csv_row("A3"), cells]) + "\n",
                        encoding="utf-8")
    code, data = dry_run_json(str(csv_file))
    why = reasons(data)
    assert code == 1 and data["decided"] == 2
    assert "line longer" in why[3] and any("record longer" in r for r in why.values())

    header = tmp_path / "h.csv"
    header.write_text(CSV_HEADER + "," * 2000 + "\n" + csv_row("A1") + "\n", encoding="utf-8")
    result = run("dry-run", ZIBO, str(header))
    assert result.exit_code == 2 and "header" in result.stderr and str(header) in result.stderr


@pytest.mark.parametrize("name", ["c.jsonl", "c.csv", "c.txt"])
def test_a_line_without_end_is_read_in_pieces(tmp_path: Path, monkeypatch: Any, name: str) -> None:
    monkeypatch.setattr(casefile, "MAX_RECORD_BYTES", 1000)
    path = tmp_path / name
    first = CSV_HEADER + "\n" if name == "c.csv" else ""
    path.write_bytes(first.encode() + b"{" + b"z" * (5 << 20) + b"\n" + good("G2").encode() + b"\n")
    tracemalloc.start()
    try:
        records = list(iter_raw(str(path)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak  # the 5 MiB line is never held whole
    start = 2 if name == "c.csv" else 1
    assert records[0].line == start and records[0].error is not None and "longer" in records[0].error


def test_chunks_are_bounded_in_characters_too() -> None:
    rows = [RawCase(i, "x" * 1000) for i in range(100)]
    chunks = list(chunked(rows, 50, max_chars=10_000))
    assert [len(c) for c in chunks] == [10] * 10
    assert [r.line for c in chunks for r in c] == list(range(100))


# ---------------------------------------------------------------- bug 2: line endings, BOM


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("bom", [False, True])
def test_csv_line_endings_and_bom(tmp_path: Path, newline: str, bom: bool) -> None:
    lines = [CSV_HEADER + ",applicant_name", csv_row("A1") + ',"张\r\n三"', csv_row("A2") + ",x,extra",
             csv_row("A3") + ",李四"]
    path = tmp_path / "c.csv"
    path.write_bytes((("\ufeff" if bom else "") + newline.join(lines) + newline).encode("utf-8"))
    code, data = dry_run_json(str(path))
    assert code == 1 and data["decided"] == 2 and data["malformed"] == 1
    assert reasons(data).keys() == {4}  # the quoted line break in A1's name counts as a line in every style


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_jsonl_with_bom_and_crlf(tmp_path: Path, newline: str) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(("\ufeff" + newline.join([good("G1"), "{oops", good("G3")]) + newline).encode("utf-8"))
    code, data = dry_run_json(str(path))
    assert code == 1 and data["decided"] == 2 and list(reasons(data)) == [2]


# ---------------------------------------------------------------- bug 3: --as-of out of range


@pytest.mark.parametrize("value", ["9999-12-31T23:00-10:00", "0001-01-01T00:00+01:00", "1989-12-31",
                                   "2200-01-01T00:00", "not-a-date", ID])
def test_extreme_as_of_is_a_usage_error(tmp_path: Path, value: str) -> None:
    result = run("decide", ZIBO, "--request", str(ROOT / "examples" / "requests" / "pledge.json"),
                 "--as-of", value)
    assert result.exit_code == 2, result.output
    assert "--as-of" in result.output and "internal error" not in result.output and ID not in result.output
    cases = tmp_path / "c.jsonl"
    cases.write_text(good("G1") + "\n", encoding="utf-8")
    result = run("dry-run", ZIBO, str(cases), "--as-of", value)
    assert result.exit_code == 2 and "--as-of" in result.output


def test_as_of_at_the_edges_of_the_range_is_accepted() -> None:
    for value in ("1990-01-01", "2199-12-31T23:59", "2021-06-01T08:30:00+00:00"):
        result = run("decide", ZIBO, "--request", str(ROOT / "examples" / "requests" / "pledge.json"),
                     "--as-of", value, "--json")
        assert result.exit_code == 0, result.output


# ---------------------------------------------------------------- bug 4: decide redacts request errors


def test_decide_never_prints_an_id_number_from_a_request_error(tmp_path: Path) -> None:
    request = json.loads(good("x"))
    del request["case_id"]
    request["applicant"]["370399199001011234"] = 1
    path = tmp_path / "r.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    result = run("decide", ZIBO, "--request", str(path))
    assert result.exit_code == 2
    assert "370399199001011234" not in result.output and "Extra inputs" in result.stderr


def test_decide_redacts_whatever_the_request_error_says(tmp_path: Path, monkeypatch: Any) -> None:
    from nocert_rules.engine.core import Engine
    from nocert_rules.errors import RequestError

    def decide(self: Any, request: Any) -> Any:
        raise RequestError([("applicant.370399199001011234", "Extra inputs are not permitted")])

    monkeypatch.setattr(Engine, "decide", decide)
    result = run("decide", ZIBO, "--request", str(ROOT / "examples" / "requests" / "pledge.json"))
    assert result.exit_code == 2
    assert "370399199001011234" not in result.output and "applicant.370*" in result.stderr


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a": ' + "9" * 5000 + "}",
                                  '{"a": "\\udc00"}'])
def test_decide_with_a_hostile_request_file_exits_2(tmp_path: Path, text: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(text, encoding="utf-8")
    result = run("decide", ZIBO, "--request", str(path))
    assert result.exit_code == 2 and "bad JSON" in result.stderr and "internal error" not in result.stderr
