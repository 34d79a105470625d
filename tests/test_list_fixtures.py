"""The published-layout fixtures (tests/data/lists/, made up by make_lists.py): each imports with no
mapping, lints with no error and decides examples/-style requests; the review report and
--write-mapping say what was derived."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from nocert_rules import Engine, load_ruleset
from nocert_rules.cli.main import main
from nocert_rules.enums import Method
from nocert_rules.tools.list_import import import_list, load_mapping
from nocert_rules.tools.list_read import read_sheets

openpyxl = pytest.importorskip("openpyxl")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "lists"
FIXTURES = ["city-sections.xlsx", "by-department.xlsx", "district-gbk.csv"]
PERSON = {"kind": "person", "id_number": "370399196901199707", "name": "王芳", "credit": "normal"}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def city(tmp_path: Path) -> Path:
    folder = tmp_path / "zibo"
    shutil.copytree(ROOT / "rulesets" / "zibo", folder, ignore=shutil.ignore_patterns("tests"))
    (folder / "certificates.yaml").unlink()
    shutil.copy(ROOT / "rulesets" / "zibo" / "units.yaml", folder / "units.yaml")
    return folder


def test_the_committed_fixtures_are_what_the_script_writes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_lists", DATA / "make_lists.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for made in module.main(tmp_path):
        cells = [(s.name, s.cells) for s in read_sheets(made)]
        assert cells == [(s.name, s.cells) for s in read_sheets(DATA / made.name)], made.name


@pytest.mark.parametrize("name", FIXTURES)
def test_each_fixture_imports_with_no_mapping_lints_and_decides(tmp_path: Path, name: str) -> None:
    folder = city(tmp_path)
    code, out, err = run("import-list", str(DATA / name), "--out", str(folder / "certificates.yaml"))
    assert code == 0, err
    assert (folder / "review.html").is_file()
    lint_code, lint_out, lint_err = run("lint", str(folder), "--json")
    assert lint_code == 0 and json.loads(lint_out)["errors"] == [], lint_err
    rs = load_ruleset(folder)
    engine = Engine(rs)
    methods = set()
    for i, row in enumerate(rs.rows):
        decision = engine.decide({"request_id": f"REQ-{i}", "service_item": row.service_item_code,
                                  "certificate": row.certificate_id, "applicant": PERSON,
                                  "requested_at": "2021-06-01T10:00", "sharing_online": True})
        assert decision.trace, decision
        methods.add(decision.method)
    assert Method.DATA_SHARING in methods and Method.ABOLISH in methods


def test_the_city_list_by_sections(tmp_path: Path) -> None:
    result = import_list(DATA / "city-sections.xlsx", ruleset=city(tmp_path))
    assert result.ok, result.problems
    assert result.header_row == 3 and len(result.rows) == 6
    assert [r.issuer for r in result.rows] == ["淄博市公安局"] * 3 + ["淄博市民政局"] * 2 + ["淄博市人力资源和社会保障局"]
    assert {r.service_item_code for r in result.rows} >= {"370300-XK-0101"}  # full-width and trailing space
    assert [t for _, t in result.skipped][-1].startswith("注：")


def test_one_sheet_per_department(tmp_path: Path) -> None:
    result = import_list(DATA / "by-department.xlsx", ruleset=city(tmp_path))
    assert result.ok, result.problems
    assert result.sheets == ["淄博市市场监督管理局", "淄博市教育局"]  # 说明 has no table
    assert {(r.issuer, r.issuer_department) for r in result.rows} == {
        ("淄博市市场监督管理局", "market_regulation"), ("淄博市教育局", "education")}
    assert any(d.field == "issuer" and "sheet" in d.source for d in result.derived)


def test_a_gbk_csv_with_two_certificates_in_a_cell(tmp_path: Path) -> None:
    result = import_list(DATA / "district-gbk.csv", ruleset=city(tmp_path))
    assert result.ok, result.problems
    names = [r.certificate_name for r in result.rows if r.service_item_code == "370300-QR-0301"]
    assert names == ["出生医学证明", "户口簿"]


def test_the_review_report_shows_derived_values_abolished_rows_and_problems(tmp_path: Path) -> None:
    folder = city(tmp_path)
    report = tmp_path / "review.html"
    code, _, err = run("import-list", str(DATA / "city-sections.xlsx"), "--out", str(folder / "certificates.yaml"),
                       "--report", str(report))
    assert code == 0, err
    text = report.read_text(encoding="utf-8")
    assert 'class="derived" title="units.yaml: 淄博市公安局"' in text  # 开具单位部门 from units.yaml, highlighted
    assert "abolish.basis-below-rank（二(一)）" in text  # 《某某救助工作规程》 alone: abolished, and why
    assert "370300-JF-0104" in text.split("取消 / abolished by the rules")[1].split("推导值")[0]
    assert "<td class=\"\">直接取消</td>" in text  # 居住证明: listed as 直接取消, not 其他
    assert "注：本清单为测试用示例" in text
    # as .xlsx, for Excel, with the derived cells filled and commented
    xlsx = tmp_path / "review.xlsx"
    assert run("import-list", str(DATA / "city-sections.xlsx"), "--out", str(folder / "certificates.yaml"),
               "--report", str(xlsx))[0] == 0
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["清单", "推导值", "取消", "问题", "跳过"]
    ws = book["清单"]
    header = [c.value for c in ws[1]]
    dept = ws.cell(row=2, column=header.index("开具单位部门") + 1)
    assert dept.value == "public_security" and dept.fill.fgColor.rgb.endswith("FFF3C4") and dept.comment


def test_problems_go_into_the_report_and_nothing_is_written(tmp_path: Path) -> None:
    folder = city(tmp_path)
    path = tmp_path / "bad.csv"
    path.write_text("序号,证明名称,涉及的政务服务事项名称,事项编码,设定依据,开具单位,免提交方式,备注\n"
                    "1,户口簿,落户,370300-QR-0001,,市公安局,部门协查,\n", encoding="utf-8")
    code, _, err = run("import-list", str(path), "--out", str(folder / "certificates.yaml"))
    assert code == 1 and "bad.csv!G2" in err
    assert not (folder / "certificates.yaml").exists()
    assert (folder / "units.yaml").read_bytes() == (ROOT / "rulesets" / "zibo" / "units.yaml").read_bytes()
    text = (folder / "review.html").read_text(encoding="utf-8")
    assert "bad.csv!G2" in text and "rows are not decided" in text


def test_write_mapping_writes_what_was_inferred_and_it_reads_back(tmp_path: Path) -> None:
    folder = city(tmp_path)
    mapping = tmp_path / "mapping.yaml"
    code, _, err = run("import-list", str(DATA / "city-sections.xlsx"), "--out", str(folder / "certificates.yaml"),
                       "--write-mapping", str(mapping))
    assert code == 0, err
    loaded = load_mapping(mapping)
    assert loaded.sheet == "证明事项清单" and loaded.header_row == 3
    assert loaded.columns["涉及的政务服务\n事项名称"] == "service_item_name" and loaded.certificate_id_prefix == "ZM-"
    again = import_list(DATA / "city-sections.xlsx", loaded, ruleset=folder)
    assert again.ok and [r.certificate_id for r in again.rows] == [r.certificate_id for r in load_ruleset(folder).rows]
