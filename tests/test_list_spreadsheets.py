"""import-list / export-list: the list in Excel and CSV, written by the tests themselves."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nocert_rules import load_ruleset
from nocert_rules.cli.main import main
from nocert_rules.enums import RecordKind, ReplacementMethod, RowStatus
from nocert_rules.policy.legal_basis import LegalRank
from nocert_rules.tools.list_import import ListImportError, Mapping, import_list, read_sheets

openpyxl = pytest.importorskip("openpyxl")

ROOT = Path(__file__).resolve().parent.parent
ZIBO = ROOT / "rulesets" / "zibo"
PUBLISHED = ["序号", "证明名称", "涉及的政务服务事项名称", "事项编码", "设定依据", "开具单位", "免提交方式", "备注"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def published_sheet(path: Path, rows: list[list[object]], *, extra_header: list[str] | None = None) -> Path:
    """A list as published: a merged title row, then the header, then the rows."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "清单"
    header = PUBLISHED + (extra_header or [])
    ws.append(["淄博市证明事项免提交清单（第一批）"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(header)
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def write_mapping(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


DEFAULTS = """\
certificate_id_prefix: ZB-
defaults: {records: paper, issuer_department: general, sharing_source: 电子证照库}
"""


# ---------------------------------------------------------------- round trip


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_then_import_reproduces_the_rows_exactly(tmp_path: Path, suffix: str) -> None:
    """(.xlsx read with python-calamine where installed; test_both_xlsx_readers… checks openpyxl agrees)"""
    sheet = tmp_path / f"list{suffix}"
    code, out, _ = run("export-list", str(ZIBO), "--out", str(sheet))
    assert code == 0, out
    folder = tmp_path / "rs"
    shutil.copytree(ZIBO, folder)
    (folder / "certificates.yaml").unlink()
    code, out, err = run("import-list", str(sheet), "--out", str(folder / "certificates.yaml"))
    assert code == 0, err
    assert "91" in out  # 90 pairs, one with two dated versions (契税完税凭证)
    assert load_ruleset(folder).rows == load_ruleset(ZIBO).rows


def test_export_reads_as_a_list_owner_expects(tmp_path: Path) -> None:
    sheet = tmp_path / "list.xlsx"
    assert run("export-list", str(ZIBO), "--out", str(sheet))[0] == 0
    book = openpyxl.load_workbook(sheet)
    ws = book["清单"]
    header = [c.value for c in ws[1]]
    assert header[:8] == ["序号", "证明编号", "证明名称", "涉及的政务服务事项名称", "事项编码", "设定依据", "开具单位", "开具单位部门"]
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["C"].width >= 20
    rs = load_ruleset(ZIBO)
    assert ws.max_row == len(rs.rows) + 1
    methods = {ws.cell(row=r, column=header.index("免提交方式") + 1).value for r in range(2, ws.max_row + 1)}
    assert {"直接取消", "数据共享", "数据共享、部门核验", "其他"} <= methods
    rules = book["规则"]
    ids = [rules.cell(row=r, column=1).value for r in range(2, rules.max_row + 1)]
    assert ids == [rule.id for rule in rs.rules]
    first = rs.rules[0]
    assert rules.cell(row=2, column=5).value == first.clause
    assert rules.cell(row=2, column=6).value == rs.clauses[first.clause].text


# ---------------------------------------------------------------- published layouts


def test_published_layout_with_merged_cells_and_several_certificates_in_one_cell(tmp_path: Path) -> None:
    sheet = published_sheet(tmp_path / "published.xlsx", [
        [1, "户口簿、居民身份证", "城乡居民养老保险参保登记", "370300-SB-0001", "", "淄博市公安局", "数据共享", "两证合并"],
        [2, "无犯罪记录证明", "出租汽车驾驶员从业资格", "370300-JT-0002", "《道路运输条例》", None, "部门核验；告知承诺", None],
        [3, "出生医学证明", "新生儿落户", "370300-GA-0003", "", "淄博市卫生健康委员会", "直接取消", ""],
    ])
    book = openpyxl.load_workbook(sheet)
    book["清单"].merge_cells("F3:F4")  # the issuing unit written once for rows 1 and 2
    book.save(sheet)
    out = tmp_path / "certificates.yaml"
    code, stdout, err = run("import-list", str(sheet), "--out", str(out), "--mapping", write_mapping(tmp_path, DEFAULTS))
    assert code == 0, err
    folder = tmp_path / "rs"
    shutil.copytree(ZIBO, folder)
    shutil.copy(out, folder / "certificates.yaml")
    rows = load_ruleset(folder).rows
    assert [r.certificate_name for r in rows] == ["户口簿", "居民身份证", "无犯罪记录证明", "出生医学证明"]
    ids = [r.certificate_id for r in rows]
    assert all(re.fullmatch(r"ZB-[0-9A-F]{10}", i) for i in ids) and len(set(ids)) == 4  # derived: prefix + hash
    hukou, _, record, birth = rows
    assert hukou.methods == [ReplacementMethod.DATA_SHARING] and hukou.note == "两证合并"
    assert hukou.legal_basis is None and hukou.records is RecordKind.PAPER
    assert record.issuer == "淄博市公安局"  # filled down from the merged cell
    assert record.methods == [ReplacementMethod.VERIFICATION, ReplacementMethod.PLEDGE]
    assert [(b.instrument, b.rank) for b in record.bases] == [("《道路运输条例》", LegalRank.ADMINISTRATIVE_REGULATION)]
    assert record.status is RowStatus.RETAINED
    assert birth.status is RowStatus.ABOLISHED and birth.methods == []


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_checkbox_layout_under_a_merged_method_header(tmp_path: Path, reader: str) -> None:
    if reader == "calamine":
        pytest.importorskip("python_calamine")
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "清单"
    ws.append(["序号", "证明编号", "证明名称", "涉及的政务服务事项名称", "事项编码", "开具单位", "免提交方式", None, None, None, None])
    ws.append([None, None, None, None, None, None, "直接取消", "数据共享", "告知承诺", "部门核验", "其他"])
    for col in "ABCDEF":
        ws.merge_cells(f"{col}1:{col}2")
    ws.merge_cells("G1:K1")
    ws.append([1, "ZM-1", "婚姻状况证明", "不动产登记", "370300-QR-0001", "民政局", None, "√", "√", None, None])
    ws.append([2, "ZM-2", "居住证明", "入学登记", "370300-JY-0001", "公安局", "√", None, None, None, None])
    ws.append([3, "ZM-3", "亲属关系证明", "入学登记", "370300-JY-0001", "公安局", None, None, None, None, "√"])
    path = tmp_path / "boxes.xlsx"
    book.save(path)
    result = import_list(path, Mapping(defaults={"records": "electronic", "issuer_department": "x", "sharing_source": "库"}),
                         reader=reader)
    assert result.problems == []
    marriage, residence, kin = result.rows
    assert marriage.methods == [ReplacementMethod.DATA_SHARING, ReplacementMethod.PLEDGE]
    assert residence.status is RowStatus.ABOLISHED and residence.methods == []
    assert kin.status is RowStatus.RETAINED and kin.methods == []


# ---------------------------------------------------------------- problems, located


def test_every_problem_is_reported_with_sheet_and_cell_and_nothing_is_written(tmp_path: Path) -> None:
    sheet = published_sheet(tmp_path / "bad.xlsx", [
        [1, "婚姻状况证明", "不动产登记", "370300-QR-0001", "", "民政局", "数据共享", "", "0533-1"],
        [2, "无犯罪记录证明", "从业资格", "370300-JT-0002", "", "公安局", "部门协查", "", ""],
        [3, "出生医学证明", "落户", "", "", "卫健委", "直接取消", "", ""],
    ], extra_header=["联系电话"])
    out = tmp_path / "certificates.yaml"
    out.write_text("previous: content\n", encoding="utf-8")
    code, stdout, err = run("import-list", str(sheet), "--out", str(out), "--mapping", write_mapping(tmp_path, DEFAULTS))
    assert code == 1
    assert '清单!I2: 未识别的表头 / unmapped header \'联系电话\'' in err
    assert '清单!G4: 免提交方式 "部门协查" is not a known method' in err
    assert "known: 直接取消、数据共享、告知承诺、部门核验、其他" in err
    assert "清单!D5: 事项编码 为空 / is empty" in err
    assert "nothing written" in err
    assert out.read_text(encoding="utf-8") == "previous: content\n"


def test_partial_writes_the_rows_that_convert(tmp_path: Path) -> None:
    sheet = published_sheet(tmp_path / "bad.xlsx", [
        [1, "婚姻状况证明", "不动产登记", "370300-QR-0001", "", "民政局", "数据共享", ""],
        [2, "无犯罪记录证明", "从业资格", "370300-JT-0002", "", "公安局", "部门协查", ""],
    ])
    out = tmp_path / "certificates.yaml"
    code, stdout, err = run("import-list", str(sheet), "--out", str(out), "--partial",
                            "--mapping", write_mapping(tmp_path, DEFAULTS))
    assert code == 1 and "清单!G4" in err
    text = out.read_text(encoding="utf-8")
    assert "婚姻状况证明" in text and "无犯罪记录证明" not in text


def test_mapping_adapts_another_layout(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Sheet1"
    ws.append(["编号", "证明事项名称（材料）", "事项名称", "事项编码", "出具单位", "办理方式", "联系电话"])
    ws.append(["A-1", "婚姻状况证明", "不动产登记", "370300-QR-0001", "民政局", "部门协查", "0533"])
    path = tmp_path / "other.xlsx"
    book.save(path)
    mapping = write_mapping(tmp_path, """\
columns: {编号: certificate_id, 证明事项名称（材料）: certificate_name, 联系电话: ignore}
methods: {部门协查: verification}
defaults: {records: paper, issuer_department: civil_affairs}
""")
    out = tmp_path / "certificates.yaml"
    code, _, err = run("import-list", str(path), "--out", str(out), "--mapping", mapping, "--json")
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    assert "certificate_id: A-1" in text and "- verification" in text


def test_a_bad_mapping_names_its_file_and_line(tmp_path: Path) -> None:
    sheet = published_sheet(tmp_path / "l.xlsx", [])
    mapping = write_mapping(tmp_path, "columns:\n  编号: certificate_number\n")
    code, _, err = run("import-list", str(sheet), "--out", str(tmp_path / "c.yaml"), "--mapping", mapping)
    assert code == 2
    assert "mapping.yaml:2" in err and "certificate_number" in err


def test_ids_and_names_must_pair_up(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("证明编号,证明名称,涉及的政务服务事项名称,事项编码,开具单位,免提交方式\n"
                    "ZM-1、ZM-2,户口簿,落户,370300-GA-0001,公安局,数据共享\n", encoding="utf-8")
    result = import_list(path, Mapping(defaults={"records": "paper", "issuer_department": "x", "sharing_source": "库"}))
    assert [str(p) for p in result.problems] == [
        "l.csv!B2: 证明编号 有 2 项而 证明名称 有 1 项 / 2 ids but 1 names in one cell (separate both with 、 or ；)"]


def test_csv_saved_by_excel_in_gb18030_is_read(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes(("证明编号,证明名称,涉及的政务服务事项名称,事项编码,开具单位,免提交方式\n"
                      "ZM-1,户口簿,落户,370300-GA-0001,公安局,数据共享\n").encode("gb18030"))
    result = import_list(path, Mapping(defaults={"records": "paper", "issuer_department": "x", "sharing_source": "库"}))
    assert result.problems == [] and result.rows[0].certificate_name == "户口簿"


def test_no_header_row_is_one_clear_problem(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    result = import_list(path)
    assert len(result.problems) == 1 and "no header row" in str(result.problems[0])


def test_missing_openpyxl_is_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = published_sheet(tmp_path / "l.xlsx", [])
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    monkeypatch.setitem(sys.modules, "python_calamine", None)
    with pytest.raises(ListImportError, match=r"nocert-rules\[excel\]"):
        read_sheets(path)


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_an_unreadable_workbook_is_one_clear_error(tmp_path: Path, reader: str) -> None:
    if reader == "calamine":
        pytest.importorskip("python_calamine")
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ListImportError, match="not a readable workbook"):
        read_sheets(path, reader=reader)
    code, _, err = run("import-list", str(path), "--out", str(tmp_path / "c.yaml"))
    assert code == 2 and "not a readable workbook" in err


def test_rows_are_validated_like_the_loader_does(tmp_path: Path) -> None:
    sheet = published_sheet(tmp_path / "l.xlsx", [
        [1, "营业执照", "食品经营许可", "370300-XK-0001", "", "市场监管局", "部门核验、部门核验", ""],
    ])
    # a method twice: refused by ListRow's own check, at its cell
    result = import_list(sheet, Mapping(certificate_id_prefix="Z", defaults={"records": "paper", "issuer_department": "x"}))
    assert len(result.problems) == 1
    assert result.problems[0].where == "清单!G3"
    assert "a method is listed twice" in result.problems[0].message


def test_problems_never_echo_an_id_number_typed_into_a_cell(tmp_path: Path) -> None:
    person = "370399199001011234"
    path = tmp_path / "l.csv"
    path.write_text("证明编号,证明名称,涉及的政务服务事项名称,事项编码,开具单位,免提交方式\n"
                    f"ZM-1,户口簿,落户,370300-GA-0001,公安局,{person}\n", encoding="utf-8")
    result = import_list(path, Mapping(defaults={"records": "paper", "issuer_department": "x"}))
    assert len(result.problems) == 1
    text = str(result.problems[0])
    assert "l.csv!F2" in text and person not in text and "370*************34" in text


def test_both_xlsx_readers_see_the_same_cells_merged_ranges_included(tmp_path: Path) -> None:
    pytest.importorskip("python_calamine")
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "清单"
    ws["C3"] = "清单标题"
    ws.merge_cells("C3:H3")
    ws["C4"] = "序号"
    ws["D4"] = 1
    ws["E4"] = 2.5
    ws["F5"] = "淄博市公安局"
    ws.merge_cells("F5:F8")  # reaches past the last row with data
    second = book.create_sheet("规则")
    second["A1"] = "x"
    path = tmp_path / "m.xlsx"
    book.save(path)
    fast = read_sheets(path, reader="calamine")
    slow = read_sheets(path, reader="openpyxl")
    assert [s.name for s in fast] == [s.name for s in slow] == ["清单", "规则"]

    def cells(sheets: list) -> list[list[list[str]]]:
        return [[[c for c in row] + [""] * (8 - len(row)) for row in s.cells[:8]] for s in sheets[:1]]

    assert cells(fast) == cells(slow)
    assert fast[0].cells[2][2:8] == ["清单标题"] * 6
    assert [fast[0].cells[r][5] for r in range(4, 8)] == ["淄博市公安局"] * 4
    assert fast[0].cells[3][2:5] == ["序号", "1", "2.5"]


def test_openpyxl_reader_round_trips_too(tmp_path: Path) -> None:
    sheet = tmp_path / "list.xlsx"
    assert run("export-list", str(ZIBO), "--out", str(sheet))[0] == 0
    result = import_list(sheet, reader="openpyxl")
    assert result.problems == [] and result.rows == load_ruleset(ZIBO).rows


def test_export_list_json(tmp_path: Path) -> None:
    code, out, _ = run("export-list", str(ZIBO), "--out", str(tmp_path / "l.csv"), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["rows"] == len(load_ruleset(ZIBO).rows) and doc["out"].endswith("l.csv")


def test_the_on_the_spot_column_round_trips_and_is_checked(tmp_path: Path) -> None:
    """即办件 (issue 13, finding 7): export-list writes 是 / 否, import-list reads them back."""
    sheet = tmp_path / "list.xlsx"
    assert run("export-list", str(ZIBO), "--out", str(sheet))[0] == 0
    ws = openpyxl.load_workbook(sheet)["清单"]
    header = [c.value for c in ws[1]]
    col = header.index("即办件") + 1
    marked = {(ws.cell(row=r, column=header.index("事项编码") + 1).value, ws.cell(row=r, column=col).value)
              for r in range(2, ws.max_row + 1)}
    assert ("370300-QR-0003", "是") in marked and ("370300-QR-0002", "否") in marked
    result = import_list(sheet)
    assert result.ok
    assert {r.key for r in result.rows if r.on_the_spot} == {("370300-QR-0003", "ZM-GJ-0001")}
    ws.cell(row=2, column=col).value = "也许"
    ws.parent.save(sheet)
    bad = import_list(sheet)
    assert any(p.where.endswith(f"{openpyxl.utils.get_column_letter(col)}2") and "即办件" in p.message
               for p in bad.problems)
