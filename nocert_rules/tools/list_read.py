"""Reading a list's cells from .xlsx / .xlsm / .xls / .et / .csv, within limits (issue 25, row 6).

Before any parser sees a workbook, its size is checked: an .xlsx is a zip, and its central
directory (``zipfile``) gives each part's compressed and declared size; every part is then
decompressed in chunks up to the limit (a part that says less than it holds fails its CRC), and
the rows of each sheet are counted (``<row`` tags) before the reader builds any of them. A file
past ``Limits`` is refused with a ``ListImportError`` naming the part and the limit; anything the
reader raises (a corrupt file, a Rust panic, a MemoryError) becomes one too, never a traceback.

``.xlsx`` is read with python-calamine when installed (8x faster than openpyxl on a 10,000-row
list, BENCHMARKS.md), else with openpyxl; .xls and .et (WPS; the BIFF format calamine reads) need
calamine. A CSV is UTF-8 (with or without BOM), else GB18030 (which GBK is a subset of).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from nocert_rules.errors import NocertError
from nocert_rules.fileio import from_csv_cell
from nocert_rules.privacy import mask_text, printable

MISSING_EXCEL = (
    "读取 .xlsx 需要可选依赖 / reading .xlsx needs the optional extra: pip install 'nocert-rules[excel]' (openpyxl)"
)
ZIP_SUFFIXES = (".xlsx", ".xlsm")
BIFF_SUFFIXES = (".xls", ".et")
CHUNK = 1 << 20
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]{1,3})(\d{1,9}):([A-Z]{1,3})(\d{1,9})"')


class ListImportError(NocertError):
    """The spreadsheet or the mapping cannot be read at all (exit 2)."""


@dataclass(frozen=True)
class Limits:
    """What a list file may hold before it is read (defaults: far above any published list)."""

    max_file_bytes: int = 64 << 20
    max_unzipped_bytes: int = 256 << 20
    max_rows: int = 200_000
    max_columns: int = 1_000


@dataclass
class Sheet:
    name: str
    cells: list[list[str]]  # row-major, merged ranges filled from their top-left cell


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _refuse(path: Path, zh: str, en: str) -> ListImportError:
    return ListImportError(printable(mask_text(f"{path.name}: {zh} / {en}", keep_credit_codes=True)))


def check_zip(path: Path, limits: Limits) -> dict[str, int]:
    """The rows of each worksheet part of the .xlsx at ``path``, after checking its sizes."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _refuse(path, "无法读取工作簿", f"not a readable workbook (not a zip: {exc})") from None
    rows: dict[str, int] = {}
    with archive:
        infos = archive.infolist()
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_unzipped_bytes:
            raise _refuse(path, f"解压后 {declared:,} 字节，超过上限 {limits.max_unzipped_bytes:,}",
                          f"unzips to {declared:,} bytes, over the limit of {limits.max_unzipped_bytes:,}")
        total = 0
        for info in infos:
            is_sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
            count, tail = 0, b""
            try:
                with archive.open(info) as part:
                    while chunk := part.read(CHUNK):
                        total += len(chunk)
                        if total > limits.max_unzipped_bytes:
                            raise _refuse(path, f"{info.filename} 解压后超过上限 {limits.max_unzipped_bytes:,} 字节",
                                          f"{info.filename} unzips past the limit of {limits.max_unzipped_bytes:,} bytes")
                        if is_sheet:
                            window = tail + chunk
                            count += _rows_in(window) - _rows_in(tail)
                            if b"mergeCell " in window:
                                _check_merges(path, info.filename, window, limits)
                            tail = window[-80:]
                            if count > limits.max_rows:
                                raise _refuse(path, f"{info.filename} 超过 {limits.max_rows:,} 行",
                                              f"{info.filename} has more than {limits.max_rows:,} rows")
            except ListImportError:
                raise
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
                raise _refuse(path, f"{info.filename} 已损坏", f"{info.filename} is corrupt ({exc})") from None
            if is_sheet:
                rows[info.filename] = count
    return rows


def _rows_in(xml: bytes) -> int:
    """``<row …>`` tags in ``xml`` (with or without a namespace prefix such as ``x:``)."""
    return xml.count(b"<row ") + xml.count(b"<row>") + xml.count(b":row ")


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _check_merges(path: Path, part: str, xml: bytes, limits: Limits) -> None:
    """A merged range past the limits, refused before a reader fills it (openpyxl makes a cell of each)."""
    for m in _MERGE.finditer(xml):
        if int(m.group(4)) > limits.max_rows or _column_number(m.group(3)) > limits.max_columns:
            ref = f"{m.group(1).decode()}{m.group(2).decode()}:{m.group(3).decode()}{m.group(4).decode()}"
            raise _refuse(path, f"{part} 的合并单元格 {ref} 超出 {limits.max_rows:,} 行或 {limits.max_columns:,} 列",
                          f"{part}: the merged range {ref} reaches past {limits.max_rows:,} rows or "
                          f"{limits.max_columns:,} columns")


def _decode_csv(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")  # lists saved by Excel or WPS on Chinese Windows (GBK is a subset)
    except UnicodeDecodeError:
        raise _refuse(path, "既不是 UTF-8 也不是 GB18030/GBK", "neither UTF-8 nor GB18030/GBK") from None


def read_sheets(path: Path, reader: str = "auto", limits: Limits | None = None) -> list[Sheet]:
    """Every sheet of a workbook (merged ranges filled), or the one table of a .csv, within ``limits``."""
    limits = limits or Limits()
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _refuse(path, "无法读取", f"cannot be read ({exc.strerror})") from None
    if size > limits.max_file_bytes:
        raise _refuse(path, f"文件 {size:,} 字节，超过上限 {limits.max_file_bytes:,}",
                      f"the file has {size:,} bytes, over the limit of {limits.max_file_bytes:,}")
    if suffix == ".csv":
        text = _decode_csv(path, path.read_bytes())
        rows = []
        for row in csv.reader(io.StringIO(text, newline="")):
            rows.append([from_csv_cell(cell.strip()) for cell in row])  # export-list's ' before a formula character
            if len(rows) > limits.max_rows:
                raise _refuse(path, f"超过 {limits.max_rows:,} 行", f"more than {limits.max_rows:,} rows")
        return [Sheet(path.name, rows)]
    if suffix not in ZIP_SUFFIXES + BIFF_SUFFIXES:
        raise _refuse(path, "只支持 .xlsx .xlsm .xls .et 与 .csv", "only .xlsx, .xlsm, .xls, .et and .csv are read")
    if suffix in ZIP_SUFFIXES:
        check_zip(path, limits)
    if reader in ("auto", "calamine"):
        try:
            import python_calamine
        except ImportError:
            if reader == "calamine" or suffix in BIFF_SUFFIXES:
                raise ListImportError(f"{path.name}: python-calamine is not installed (pip install "
                                      "'nocert-rules[excel]')") from None
        else:
            return _guarded(path, lambda current: _read_calamine(path, python_calamine, limits, current))
    try:
        import openpyxl
    except ImportError:
        raise ListImportError(MISSING_EXCEL) from None
    return _guarded(path, lambda current: _read_openpyxl(path, openpyxl, limits, current))


def _guarded(path: Path, read: Any) -> list[Sheet]:
    """``read()``, with whatever the reader raises (panics and MemoryError included) as one error."""
    current: list[str] = []
    try:
        return read(current)  # type: ignore[no-any-return]
    except (KeyboardInterrupt, SystemExit, ListImportError):
        raise
    except BaseException as exc:  # noqa: BLE001 - a reader's panic is a BaseException (pyo3 PanicException)
        where = f"工作表 {current[-1]} " if current else ""
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        sheet = f" at sheet {current[-1]}" if current else ""
        raise _refuse(path, f"{where}无法读取工作簿",
                      f"not a readable workbook{sheet} ({type(exc).__name__}{': ' + detail if detail else ''})") from None


def _read_openpyxl(path: Path, openpyxl: Any, limits: Limits, current: list[str]) -> list[Sheet]:
    book = openpyxl.load_workbook(path, data_only=True)
    sheets = []
    for ws in book.worksheets:
        current.append(ws.title)
        cells = [[_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        ranges = [(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in ws.merged_cells.ranges]
        sheets.append(Sheet(ws.title, _fill_merged(path, ws.title, cells, ranges, limits)))
    return sheets


def _read_calamine(path: Path, calamine: Any, limits: Limits, current: list[str]) -> list[Sheet]:
    with path.open("rb") as handle:  # by content, not by suffix: an .et saved as BIFF reads as .xls
        book = calamine.CalamineWorkbook.from_filelike(handle)
        sheets = []
        for name in book.sheet_names:
            current.append(name)
            ws = book.get_sheet_by_name(name)
            if ws.total_height > limits.max_rows:
                raise _refuse(path, f"{name} 超过 {limits.max_rows:,} 行", f"sheet {name} has more than "
                                                                            f"{limits.max_rows:,} rows")
            cells = [[v.strip() if type(v) is str else _text(v) for v in row]
                     for row in ws.to_python(skip_empty_area=False)]
            ranges = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in (ws.merged_cell_ranges or [])]
            sheets.append(Sheet(name, _fill_merged(path, name, cells, ranges, limits)))
    return sheets


def _fill_merged(path: Path, sheet: str, cells: list[list[str]], ranges: list[tuple[int, int, int, int]],
                 limits: Limits) -> list[list[str]]:
    """Every cell of a merged range (0-based, inclusive) takes the value of its top-left cell."""
    for r0, c0, r1, c1 in ranges:
        if r1 >= limits.max_rows or c1 >= limits.max_columns:
            raise _refuse(path, f"工作表 {sheet} 的合并单元格超出 {limits.max_rows:,} 行或 {limits.max_columns:,} 列",
                          f"sheet {sheet}: a merged range reaches past {limits.max_rows:,} rows or "
                          f"{limits.max_columns:,} columns")
        if r0 >= len(cells) or c0 >= len(cells[r0]):
            continue
        top = cells[r0][c0]
        while len(cells) <= r1:
            cells.append([])
        for r in range(r0, r1 + 1):
            row = cells[r]
            while len(row) <= c1:
                row.append("")
            for c in range(c0, c1 + 1):
                row[c] = top
    return cells


__all__ = ["Limits", "ListImportError", "MISSING_EXCEL", "Sheet", "check_zip", "read_sheets"]
