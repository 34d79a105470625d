"""``import-list``: a published list in Excel (.xlsx) or CSV -> ``certificates.yaml``.

Reads the layouts list owners publish (``list_layout``): a title row or two above the header,
merged header cells, cells merged down several rows (an issuing unit written once for many
certificates: every row of the merged range gets it), a 序号 column, several certificates in one
cell separated by 、 or ；, methods written in Chinese. A mapping file (``--mapping``) adapts other
layouts::

    sheet: 清单                    # default: the first sheet whose header row has known headers
    header_row: 3                  # default: found (the first of the first 20 rows with 3 known headers)
    columns:                       # this file's header -> a ListRow field, or ignore
      证明事项名称（材料）: certificate_name
      联系电话: ignore
    methods: {部门协查: verification, 直接取消办理: abolish}
    defaults: {records: paper, issuer_department: civil_affairs}   # for columns the layout lacks
    certificate_id_prefix: ZB-     # no 证明编号 column: ids are prefix + 序号 (+ -k for the k-th in a cell)

Every problem is reported with ``sheet!cell`` (``清单!F37: 免提交方式 "部门协查" is not a known
method; known: …``); unmapped headers are problems too. Nothing is written unless the whole file
converts (``partial=True`` writes the rows that did); the file is written atomically.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nocert_rules.enums import ReplacementMethod, RowStatus
from nocert_rules.errors import NocertError
from nocert_rules.fileio import replace_atomically
from nocert_rules.policy.ruleset import CertificateList, ListRow
from nocert_rules.policy.versions import overlap
from nocert_rules.policy.yaml_source import load_located_yaml, validate_located
from nocert_rules.privacy import mask_text, printable
from nocert_rules.tools import list_layout as L

MISSING_EXCEL = (
    "读取 .xlsx 需要可选依赖 / reading .xlsx needs the optional extra: pip install 'nocert-rules[excel]' (openpyxl)"
)
HEADER_SCAN_ROWS = 20
MIN_KNOWN_HEADERS = 3
IGNORE = "ignore"
UNMARKED = {"否", "×", "✗", "0", "-", "—", "无"}
"""In a checkbox layout, a cell holding one of these does not choose its method."""


class ListImportError(NocertError):
    """The spreadsheet or the mapping cannot be read at all (exit 2)."""


class Mapping(BaseModel):
    """``--mapping mapping.yaml``: how to read a layout the defaults do not know."""

    model_config = ConfigDict(extra="forbid")
    sheet: str | None = None
    header_row: int | None = Field(default=None, ge=1)
    columns: dict[str, str] = Field(default_factory=dict)
    methods: dict[str, str] = Field(default_factory=dict)
    defaults: dict[str, Any] = Field(default_factory=dict)
    certificate_id_prefix: str | None = None


@dataclass
class Problem:
    """One problem at ``sheet!cell``. Cell text it quotes is masked like every output
    (an ID number typed into a list cell is never echoed) and control characters are escaped."""

    where: str  # sheet!cell, or sheet!12 for a whole row
    message: str

    def __post_init__(self) -> None:
        self.where = printable(mask_text(self.where, keep_credit_codes=True))
        self.message = printable(mask_text(self.message, keep_credit_codes=True))

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class ImportResult:
    rows: list[ListRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    sheet: str = ""
    header_row: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # header -> field

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------- reading cells


def _column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


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


@dataclass
class Sheet:
    name: str
    cells: list[list[str]]  # row-major, merged ranges filled from their top-left cell


def read_sheets(path: Path, reader: str = "auto") -> list[Sheet]:
    """Every sheet of an .xlsx (merged ranges filled), or the one table of a .csv.

    ``.xlsx`` is read with python-calamine when it is installed (8x faster than openpyxl on a
    10,000-row list, BENCHMARKS.md), else with openpyxl; ``reader`` forces one of them."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("gb18030")  # lists saved by Excel on Chinese Windows
            except UnicodeDecodeError:
                raise ListImportError(f"{path}: 既不是 UTF-8 也不是 GB18030 / neither UTF-8 nor GB18030") from None
        rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text, newline=""))]
        return [Sheet(path.name, rows)]
    if suffix not in (".xlsx", ".xlsm"):
        raise ListImportError(f"{path}: 只支持 .xlsx 与 .csv / only .xlsx and .csv are read")
    if reader in ("auto", "calamine"):
        try:
            import python_calamine
        except ImportError:
            if reader == "calamine":
                raise ListImportError("python-calamine is not installed") from None
        else:
            return _read_calamine(path, python_calamine)
    try:
        import openpyxl
    except ImportError:
        raise ListImportError(MISSING_EXCEL) from None
    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # noqa: BLE001 - a corrupt or foreign file: one line, no traceback
        raise ListImportError(f"{path}: 无法读取工作簿 / not a readable workbook ({type(exc).__name__})") from None
    sheets = []
    for ws in book.worksheets:
        cells = [[_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        ranges = [(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in ws.merged_cells.ranges]
        sheets.append(Sheet(ws.title, _fill_merged(cells, ranges)))
    return sheets


def _read_calamine(path: Path, calamine: Any) -> list[Sheet]:
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
        sheets = []
        for name in book.sheet_names:
            ws = book.get_sheet_by_name(name)
            cells = [[_text(v) for v in row] for row in ws.to_python(skip_empty_area=False)]
            ranges = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in (ws.merged_cell_ranges or [])]
            sheets.append(Sheet(name, _fill_merged(cells, ranges)))
    except Exception as exc:  # noqa: BLE001 - a corrupt or foreign file: one line, no traceback
        raise ListImportError(f"{path}: 无法读取工作簿 / not a readable workbook ({type(exc).__name__})") from None
    return sheets


def _fill_merged(cells: list[list[str]], ranges: list[tuple[int, int, int, int]]) -> list[list[str]]:
    """Every cell of a merged range (0-based, inclusive) takes the value of its top-left cell."""
    for r0, c0, r1, c1 in ranges:
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


def load_mapping(path: Path) -> Mapping:
    doc = load_located_yaml(path, str(path))
    mapping: Mapping = validate_located(Mapping, doc)
    fields = set(ListRow.model_fields)
    for header, target in mapping.columns.items():
        if target != IGNORE and target not in fields:
            raise doc.error(("columns", header), f"unknown field {target!r}; fields: {', '.join(sorted(fields))}, ignore")
    words = {m.value for m in ReplacementMethod} | {"abolish", "other"}
    for word, target in mapping.methods.items():
        if target not in words:
            raise doc.error(("methods", word), f"unknown method {target!r}; known: {', '.join(sorted(words))}")
    for key in mapping.defaults:
        if key not in fields:
            raise doc.error(("defaults", key), f"unknown field {key!r}")
    return mapping


# ---------------------------------------------------------------- the header


def _field_of(header: str, mapping: Mapping) -> str | None:
    if header in mapping.columns:
        return mapping.columns[header]
    norm = L.normalise_header(header)
    for key, target in mapping.columns.items():
        if L.normalise_header(key) == norm:
            return target
    if norm == L.SERIAL:
        return L.SERIAL
    if norm in L.KNOWN_HEADERS:
        return L.KNOWN_HEADERS[norm]
    if header in ListRow.model_fields:  # a column export-list names by its field
        return header
    return None


def _find_header(sheet: Sheet, mapping: Mapping) -> int | None:
    if mapping.header_row is not None:
        return mapping.header_row - 1 if mapping.header_row <= len(sheet.cells) else None
    for i, row in enumerate(sheet.cells[:HEADER_SCAN_ROWS]):
        known = {f for cell in row if cell and (f := _field_of(cell, mapping)) not in (None, IGNORE)}
        if len(known) >= MIN_KNOWN_HEADERS:
            return i
    return None


# ---------------------------------------------------------------- converting


def import_list(path: str | Path, mapping: Mapping | None = None, reader: str = "auto") -> ImportResult:
    """Convert the list in ``path``; every problem located at ``sheet!cell``. Writes nothing.
    ``reader``: see ``read_sheets``."""
    path = Path(path)
    mapping = mapping or Mapping()
    sheets = read_sheets(path, reader)
    result = ImportResult()
    chosen: tuple[Sheet, int] | None = None
    for sheet in sheets:
        if mapping.sheet is not None and sheet.name != mapping.sheet:
            continue
        header = _find_header(sheet, mapping)
        if header is not None:
            chosen = (sheet, header)
            break
    if chosen is None:
        where = f"{path.name}" + (f"!{mapping.sheet}" if mapping.sheet else "")
        if mapping.sheet is not None and mapping.sheet not in {s.name for s in sheets}:
            result.problems.append(Problem(where, f"没有名为 {mapping.sheet!r} 的工作表 / no such sheet; sheets: "
                                                  f"{', '.join(s.name for s in sheets)}"))
        else:
            result.problems.append(Problem(where, "找不到表头行 / no header row with at least "
                                                  f"{MIN_KNOWN_HEADERS} known headers ({'、'.join(h for _, h in L.COLUMNS[:6])} …) "
                                                  f"in the first {HEADER_SCAN_ROWS} rows; give header_row and columns in --mapping"))
        return result
    sheet, header_index = chosen
    result.sheet, result.header_row = sheet.name, header_index + 1
    _Converter(sheet, header_index, mapping, result).run()
    return result


class _Converter:
    def __init__(self, sheet: Sheet, header_index: int, mapping: Mapping, result: ImportResult) -> None:
        self.sheet = sheet
        self.header_index = header_index
        self.mapping = mapping
        self.result = result
        self.columns: dict[str, int] = {}  # field -> column index
        self.spans: dict[str, list[int]] = {}  # field -> its columns, when its header is merged across several
        self.checkboxes: dict[int, str] = {}  # column -> method word, for a checkbox layout of 免提交方式
        self.first_data_row = header_index + 1
        self.method_words = dict(L.METHOD_WORDS)
        self.abolish_words = {L.ABOLISH}
        self.other_words = {L.OTHER}
        for word, target in mapping.methods.items():
            if target == "abolish":
                self.abolish_words.add(word)
            elif target == "other":
                self.other_words.add(word)
            else:
                self.method_words[word] = ReplacementMethod(target)

    def cell(self, row: int, col: int) -> str:
        return f"{self.sheet.name}!{_column_letter(col)}{row + 1}"

    def problem(self, where: str, message: str) -> None:
        self.result.problems.append(Problem(where, message))

    def run(self) -> None:
        header = self.sheet.cells[self.header_index]
        for col, text in enumerate(header):
            if not text:
                continue
            target = _field_of(text, self.mapping)
            if target is None:
                self.problem(self.cell(self.header_index, col),
                             f"未识别的表头 / unmapped header {text!r}: map it in --mapping (columns: {{{text}: <field> | ignore}})")
                continue
            if target == IGNORE:
                continue
            if target in self.columns:
                if header[self.columns[target]] != text:
                    self.problem(self.cell(self.header_index, col), f"表头重复 / a second column for {target} ({text!r})")
                self.spans.setdefault(target, [self.columns[target]]).append(col)
                continue  # a header merged across columns
            self.columns[target] = col
            self.result.columns[text] = target
        self.find_checkboxes()
        required = ["certificate_name", "service_item_code", "service_item_name", "issuer"]
        missing = [f for f in required if f not in self.columns and f not in self.mapping.defaults]
        if "certificate_id" not in self.columns and self.mapping.certificate_id_prefix is None:
            missing.append("certificate_id")
        if "methods" not in self.columns and "status" not in self.columns:
            missing.append("methods")
        for f in missing:
            hint = " (or certificate_id_prefix in --mapping)" if f == "certificate_id" else ""
            self.problem(f"{self.sheet.name}!{self.header_index + 1}",
                         f"缺少列 / missing column {L.HEADER_OF.get(f, f)} ({f}){hint}")
        if missing:
            return
        self.rows()

    def find_checkboxes(self) -> None:
        """免提交方式 merged over several columns with a method under each (直接取消 | 数据共享 | …):
        the row below the header names the methods, and a mark (√) in a column chooses it."""
        cols = self.spans.get("methods")
        below = self.header_index + 1
        if not cols or below >= len(self.sheet.cells):
            return
        sub = self.sheet.cells[below]
        words = {c: sub[c].strip() if c < len(sub) else "" for c in cols}
        known = set(self.method_words) | self.abolish_words | self.other_words
        unknown = [c for c, w in words.items() if w not in known]
        for c in unknown:
            self.problem(self.cell(below, c), f"免提交方式 \"{words[c]}\" is not a known method / 不是已知的免提交方式; "
                                              f"known: {'、'.join([*L.KNOWN_METHOD_WORDS, *self.mapping.methods])}")
        self.checkboxes = {c: w for c, w in words.items() if c not in unknown}
        self.first_data_row = below + 1

    def marked(self, text: str) -> bool:
        return bool(text.strip()) and text.strip() not in UNMARKED

    def get(self, cells: list[str], name: str) -> str:
        col = self.columns.get(name)
        return cells[col].strip() if col is not None and col < len(cells) else ""

    def rows(self) -> None:
        for r in range(self.first_data_row, len(self.sheet.cells)):
            cells = self.sheet.cells[r]
            if not any(cells):
                continue
            if all(not cells[c] for f, c in self.columns.items() if f != L.SERIAL and c < len(cells)):
                continue  # a row with only a serial number (or a merged remnant)
            self.row(r, cells)
        self.cross_check()

    def row(self, r: int, cells: list[str]) -> None:
        data: dict[str, Any] = dict(self.mapping.defaults)
        problems_before = len(self.result.problems)
        for name, col in self.columns.items():
            if name in (L.SERIAL, "certificate_id", "certificate_name", "service_item_code", "service_item_name"):
                continue
            text = cells[col].strip() if col < len(cells) else ""
            if name == "methods" and self.checkboxes:
                text = "、".join(w for c, w in self.checkboxes.items() if c < len(cells) and self.marked(cells[c]))
            if not text:
                continue
            try:
                data[name] = self.value(name, text, data)
            except ValueError as exc:
                self.problem(self.cell(r, col), str(exc))
        if "status" not in data:
            data["status"] = RowStatus.ABOLISHED.value if data.pop("_abolished", False) else RowStatus.RETAINED.value
        data.pop("_abolished", None)
        certificates = self.split_pairs(r, cells, "certificate_id", "certificate_name")
        items = self.split_pairs(r, cells, "service_item_code", "service_item_name")
        if len(self.result.problems) > problems_before or certificates is None or items is None:
            return
        for code, item_name in items:
            for cert_id, cert_name in certificates:
                row_data = {**data, "service_item_code": code, "service_item_name": item_name,
                            "certificate_id": cert_id, "certificate_name": cert_name}
                try:
                    self.result.rows.append(ListRow.model_validate(row_data))
                except ValidationError as exc:
                    for err in exc.errors():
                        loc = [str(p) for p in err["loc"]]
                        col = self.columns.get(loc[0]) if loc else None
                        where = self.cell(r, col) if col is not None else f"{self.sheet.name}!{r + 1}"
                        field_name = L.HEADER_OF.get(loc[0], loc[0]) if loc else "行 row"
                        msg = str(err["msg"]).removeprefix("Value error, ")
                        if err["type"] == "missing":
                            msg = "必填 / required (no column and no default in --mapping)"
                        self.problem(where, f"{field_name}: {msg}")
                    return

    def split_pairs(self, r: int, cells: list[str], id_field: str, name_field: str) -> list[tuple[str, str]] | None:
        """The (id, name) pairs of one row: several in one cell when the ids say so."""
        ids_text, names_text = self.get(cells, id_field), self.get(cells, name_field)
        id_col, name_col = self.columns.get(id_field), self.columns.get(name_field)
        if not names_text and name_field in self.mapping.defaults:
            names_text = str(self.mapping.defaults[name_field])
        if not ids_text and id_field in self.mapping.defaults:
            ids_text = str(self.mapping.defaults[id_field])
        if not names_text:
            self.problem(self.cell(r, name_col) if name_col is not None else f"{self.sheet.name}!{r + 1}",
                         f"{L.HEADER_OF[name_field]} 为空 / is empty")
            return None
        if id_col is None and id_field == "certificate_id":
            names = [n for n in L.SEPARATORS.split(names_text) if n]
            serial = self.get(cells, L.SERIAL) or str(r + 1)
            prefix = self.mapping.certificate_id_prefix or ""
            base = f"{prefix}{serial.zfill(4) if serial.isdigit() else serial}"
            return [(base if len(names) == 1 else f"{base}-{k}", n) for k, n in enumerate(names, start=1)]
        if not ids_text:
            self.problem(self.cell(r, id_col) if id_col is not None else f"{self.sheet.name}!{r + 1}",
                         f"{L.HEADER_OF[id_field]} 为空 / is empty")
            return None
        ids = [i for i in L.SEPARATORS.split(ids_text) if i]
        if len(ids) == 1:
            return [(ids[0], names_text)]  # one id: the name is whole, even with a 、 in it
        names = [n for n in L.SEPARATORS.split(names_text) if n]
        if len(names) != len(ids):
            self.problem(self.cell(r, name_col) if name_col is not None else f"{self.sheet.name}!{r + 1}",
                         f"{L.HEADER_OF[id_field]} 有 {len(ids)} 项而 {L.HEADER_OF[name_field]} 有 {len(names)} 项 / "
                         f"{len(ids)} ids but {len(names)} names in one cell (separate both with 、 or ；)")
            return None
        return list(zip(ids, names, strict=True))

    def value(self, name: str, text: str, data: dict[str, Any]) -> Any:
        if name == "methods":
            words = [w for w in L.METHOD_SEPARATORS.split(text) if w]
            methods: list[str] = []
            for word in words:
                if word in self.abolish_words:
                    data["_abolished"] = True
                elif word in self.other_words:
                    continue
                elif word in self.method_words:
                    methods.append(self.method_words[word].value)
                else:
                    known = "、".join([*L.KNOWN_METHOD_WORDS, *self.mapping.methods])
                    raise ValueError(f"免提交方式 \"{word}\" is not a known method / 不是已知的免提交方式; known: {known}")
            return methods
        if name == "records":
            if text in L.RECORD_WORDS:
                return L.RECORD_WORDS[text].value
            return text  # an English key; the row's validation says if it is not one
        if name == "status":
            return L.STATUS_WORDS[text].value if text in L.STATUS_WORDS else text
        if name == "on_the_spot":
            if text.lower() not in L.ON_THE_SPOT_WORDS:
                raise ValueError(f"即办件应填“{L.YES}”或“{L.NO}” / 即办件 is {L.YES} (yes) or {L.NO} (no)")
            return L.ON_THE_SPOT_WORDS[text.lower()]
        if name == "risk_categories":
            out = []
            for part in (p for p in L.SEPARATORS.split(text) if p):
                m = L.RISK_WITH_KEY.match(part)
                out.append(m.group(1) if m else part)
            return out
        if name in ("legal_basis", "verification_limit") and text[:1] in "[{":
            try:
                return json.loads(text)  # typed bases, dated limits (as export-list writes them)
            except ValueError:
                if name == "verification_limit":
                    raise ValueError("核验时限不是有效的 JSON / 核验时限 is not valid JSON") from None
                return text
        if name == "verification_limit":
            m = L.LIMIT.match(text)
            if not m:
                raise ValueError("核验时限应写作 / write 核验时限 as \"3个工作日；依据：…\" or \"30分钟；依据：…\"")
            amount, unit, basis = int(m.group(1)), m.group(2), m.group(3).strip()
            key = "working_minutes" if "分钟" in unit else "working_days"
            return {key: amount, "basis": basis}
        if name in ListRow.model_fields and name not in L.HEADER_OF:
            # a column export-list named by its field (a field added after this module was written)
            if text[:1] in "[{":
                try:
                    return json.loads(text)
                except ValueError:
                    return text
        return text

    def cross_check(self) -> None:
        seen: dict[tuple[str, str], list[ListRow]] = {}
        for row in self.result.rows:
            if any(overlap(other, row) for other in seen.get(row.key, ())):
                self.problem(f"{self.sheet.name}", f"清单行重复 / duplicate row for service item {row.service_item_code} "
                                                   f"and certificate {row.certificate_id}")
            seen.setdefault(row.key, []).append(row)


# ---------------------------------------------------------------- writing


def dump_rows(rows: list[ListRow], source: str) -> str:
    """``certificates.yaml`` text: the rows, every field written, in the model's order."""
    body = [row.model_dump(mode="json") for row in rows]
    for item in body:
        if item.get("note") is None:
            item.pop("note", None)
        if item.get("on_the_spot") is False:
            item.pop("on_the_spot", None)  # the default: rows stay as a list owner writes them
    text = yaml.safe_dump({"rows": body}, allow_unicode=True, sort_keys=False, width=10_000)
    return f"# 由 nocert-rules import-list 从 {source} 生成 / generated by nocert-rules import-list from {source}\n{text}"


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    CertificateList.model_validate(yaml.safe_load(text))  # never write what the loader would refuse
    replace_atomically(path, text.encode("utf-8"))


__all__ = ["ImportResult", "ListImportError", "Mapping", "Problem", "dump_rows", "import_list", "load_mapping",
           "read_sheets", "write_atomically"]
