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

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nocert_rules.enums import ReplacementMethod, RowStatus
from nocert_rules.fileio import replace_atomically
from nocert_rules.policy.ruleset import CertificateList, ListRow
from nocert_rules.policy.units import UNITS_NAME, UnitsFile, dump_units, load_units_file, unit_key
from nocert_rules.policy.versions import overlap
from nocert_rules.policy.yaml_source import load_located_yaml, validate_located
from nocert_rules.privacy import mask_text, printable
from nocert_rules.tools import list_layout as L
from nocert_rules.tools.basis_text import parse_bases
from nocert_rules.tools.list_derive import Derivation, Derived
from nocert_rules.tools.list_read import Limits, ListImportError, Sheet, read_sheets

HEADER_SCAN_ROWS = 20
MIN_KNOWN_HEADERS = 3
IGNORE = "ignore"
UNMARKED = {"否", "×", "✗", "0", "-", "—", "无"}
"""In a checkbox layout, a cell holding one of these does not choose its method."""


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
    sheet: str = ""  # the first sheet read
    header_row: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # header -> field
    sheets: list[str] = field(default_factory=list)  # every sheet read
    origins: list[str] = field(default_factory=list)  # rows[i] came from origins[i] (sheet!row)
    derived: list[Derived] = field(default_factory=list)  # every value no cell held
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (sheet!row, text): title, section, note rows
    derivation: Derivation = field(default_factory=Derivation)

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


def import_list(path: str | Path, mapping: Mapping | None = None, reader: str = "auto", *,
                ruleset: Path | None = None, limits: Limits | None = None) -> ImportResult:
    """Convert the list in ``path``; every problem located at ``sheet!cell``. Writes nothing.

    Every sheet with a header row is read (``mapping.sheet``: that one only). ``ruleset``: the
    folder the list is for; its ``units.yaml`` (and its parents') and its current list give what
    the table lacks (``list_derive``). ``reader`` and ``limits``: see ``list_read.read_sheets``."""
    path = Path(path)
    mapping = mapping or Mapping()
    sheets = read_sheets(path, reader, limits)
    result = ImportResult(derivation=Derivation.for_ruleset(ruleset))
    if mapping.certificate_id_prefix is not None:
        result.derivation.units.doc.certificate_id_prefix = mapping.certificate_id_prefix
    for sheet in sheets:
        if mapping.sheet is not None and sheet.name != mapping.sheet:
            continue
        header = _find_header(sheet, mapping)
        if header is None:
            continue
        if not result.sheets:
            result.sheet, result.header_row = sheet.name, header + 1
        result.sheets.append(sheet.name)
        _Converter(sheet, header, mapping, result).run()
    if not result.sheets:
        where = f"{path.name}" + (f"!{mapping.sheet}" if mapping.sheet else "")
        if mapping.sheet is not None and mapping.sheet not in {s.name for s in sheets}:
            result.problems.append(Problem(where, f"没有名为 {mapping.sheet!r} 的工作表 / no such sheet; sheets: "
                                                  f"{', '.join(s.name for s in sheets)}"))
        else:
            result.problems.append(Problem(where, "找不到表头行 / no header row with at least "
                                                  f"{MIN_KNOWN_HEADERS} known headers ({'、'.join(h for _, h in L.COLUMNS[:6])} …) "
                                                  f"in the first {HEADER_SCAN_ROWS} rows; give header_row and columns in --mapping"))
        return result
    _cross_check(result)
    result.derived = result.derivation.derived
    return result


def _cross_check(result: ImportResult) -> None:
    seen: dict[tuple[str, str], list[ListRow]] = {}
    for row, origin in zip(result.rows, result.origins, strict=True):
        if any(overlap(other, row) for other in seen.get(row.key, ())):
            result.problems.append(Problem(origin, f"清单行重复 / duplicate row for service item {row.service_item_code} "
                                                   f"and certificate {row.certificate_id}"))
        seen.setdefault(row.key, []).append(row)


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
        self.memo: dict[tuple[str, str], tuple[Any, bool]] = {}  # (field, cell text) -> (value, 直接取消)
        self.codes: dict[str, str] = {}  # 事项编码 as typed -> cleaned
        self.derive = result.derivation
        self.section_issuer: str | None = None  # a section row naming a unit ("一、市公安局（3项）")
        self.sheet_issuer: str | None = None  # no 开具单位 column: the sheet's name, when it names a unit
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
        self.map_header(self.sheet.cells[self.header_index])
        self.find_checkboxes()
        if "issuer" not in self.columns and "issuer" not in self.mapping.defaults and \
                (self.derive.units.find(self.sheet.name) or L.UNIT_NAME.search(self.sheet.name)):
            self.sheet_issuer = self.sheet.name
        missing = self.missing_columns()
        for f in missing:
            self.problem(f"{self.sheet.name}!{self.header_index + 1}",
                         f"缺少列 / missing column {L.HEADER_OF.get(f, f)} ({f})")
        if not missing:
            self.rows()

    def missing_columns(self) -> list[str]:
        """The fields the sheet needs and neither a column nor a default (nor the sheet's name) gives."""
        required = ["certificate_name", "service_item_code", "service_item_name"]
        missing = [f for f in required if f not in self.columns and f not in self.mapping.defaults]
        if "issuer" not in self.columns and "issuer" not in self.mapping.defaults and self.sheet_issuer is None:
            missing.append("issuer")
        if "methods" not in self.columns and "status" not in self.columns:
            missing.append("methods")
        return missing

    def map_header(self, header: list[str]) -> None:
        """Each header cell to its field (``--mapping`` or the published names); unmapped and
        repeated headers are problems at their cells, a header merged across columns a span."""
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
                self.skip(r, cells)
                continue  # a row with only a serial number, a note beside the table, or a merged remnant
            if self.merged_across(cells):
                self.skip(r, cells)  # one text merged across the row: a title, a section or a note
                continue
            self.row(r, cells)

    def merged_across(self, cells: list[str]) -> bool:
        """One text in every filled cell (a title, section or note merged across the row)."""
        first = next((c for c in cells if c), "")
        name_col = self.columns.get("certificate_name")
        if name_col is not None and name_col < len(cells) and cells[name_col] not in ("", first):
            return False  # the usual row: decided without looking at every cell
        filled = [c for c in cells if c]
        return len(filled) > 1 and all(c == first for c in filled)

    def skip(self, r: int, cells: list[str]) -> None:
        """A row that is not a certificate: kept in the report; a section naming a unit sets the issuer."""
        text = next((c.strip() for c in cells if c.strip()), "")
        if not text or text.isdigit():
            return
        self.result.skipped.append((f"{self.sheet.name}!{r + 1}", text))
        name = L.SECTION_NUMBER.sub("", L.SECTION_COUNT.sub("", text)).strip()
        if self.derive.units.find(name) or L.UNIT_NAME.search(name):
            self.section_issuer = name

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
                data[name] = self.cell_value(name, text, r, col, data)
            except ValueError as exc:
                self.problem(self.cell(r, col), str(exc))
        if "status" not in data:
            data["status"] = RowStatus.ABOLISHED.value if data.pop("_abolished", False) else RowStatus.RETAINED.value
        data.pop("_abolished", None)
        self.derive_unit(r, data)
        certificates = self.split_pairs(r, cells, "certificate_id", "certificate_name", data)
        items = self.split_pairs(r, cells, "service_item_code", "service_item_name", data)
        if len(self.result.problems) > problems_before or certificates is None or items is None:
            return
        for code, item_name in items:
            for cert_id, cert_name in certificates:
                row_data = {**data, "service_item_code": code, "service_item_name": item_name,
                            "certificate_id": cert_id, "certificate_name": cert_name}
                row_data.pop("_unit", None)
                if not self.add_row(r, row_data):
                    return

    def add_row(self, r: int, row_data: dict[str, Any]) -> bool:
        """One list row from sheet row ``r``; its problems at their cells (False) if it is not valid."""
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
            return False
        self.result.origins.append(f"{self.sheet.name}!{r + 1}")
        return True

    def where(self, r: int, name: str) -> str:
        col = self.columns.get(name)
        return self.cell(r, col) if col is not None else f"{self.sheet.name}!{r + 1}"

    def derive_unit(self, r: int, data: dict[str, Any]) -> None:
        """issuer, issuer_department, records and sharing_source the row's cells do not give (list_derive)."""
        if "issuer" not in data:
            issuer = self.section_issuer or self.sheet_issuer
            if issuer is None:
                return  # the row's validation reports the missing 开具单位
            data["issuer"] = issuer
            self.derive.note(self.where(r, "issuer"), "issuer", issuer,
                             "由分节标题得出 / from the section's title" if issuer == self.section_issuer
                             else "由工作表名称得出 / from the sheet's name")
        unit, origin = self.derive.unit(str(data["issuer"]))
        data["_unit"] = unit
        where = self.where(r, "issuer")
        if "issuer_department" not in data:
            data["issuer_department"] = unit.department
            self.derive.note(where, "issuer_department", unit.department, origin, unit.review)
        if "records" not in data:
            records, why, flagged = self.derive.records(unit)
            data["records"] = records.value
            self.derive.note(where, "records", records.value, why, flagged)
        if ReplacementMethod.DATA_SHARING.value in data.get("methods", []) and not data.get("sharing_source"):
            source, why, flagged = self.derive.sharing_source(unit)
            data["sharing_source"] = source
            self.derive.note(where, "sharing_source", source, why, flagged)

    def split_pairs(self, r: int, cells: list[str], id_field: str, name_field: str,
                    data: dict[str, Any]) -> list[tuple[str, str]] | None:
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
            return self.derived_ids(r, names_text, data.get("_unit"))
        if id_field == "service_item_code":
            ids_text = self.clean_codes(r, ids_text)
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

    def derived_ids(self, r: int, names_text: str, unit: Any) -> list[tuple[str, str]] | None:
        """No 证明编号 column: each certificate of the cell gets its stable id (``list_derive``)."""
        if unit is None:
            return None
        pairs = []
        for n in (n for n in L.SEPARATORS.split(names_text) if n):
            cid, why = self.derive.certificate_id(n, unit)
            self.derive.note(self.where(r, "certificate_name"), "certificate_id", cid, f"{n}: {why}")
            pairs.append((cid, n))
        return pairs

    def clean_codes(self, r: int, text: str) -> str:
        """事项编码 with full-width characters and spaces normalised (reported where it changed)."""
        clean = self.codes.get(text)
        if clean is None:
            clean = self.codes[text] = L.clean_code(text)
        if clean != text:
            self.derive.note(self.where(r, "service_item_code"), "service_item_code", clean,
                             "全角字符与空格已规范 / full-width characters and spaces normalised")
        return clean

    def cell_value(self, name: str, text: str, r: int, col: int, data: dict[str, Any]) -> Any:
        """``value`` (or ``bases``) of a cell, the same text converted once per import: a list repeats
        its methods, units and bases on row after row."""
        key = (name, text)
        hit = self.memo.get(key)
        if hit is None:
            scratch: dict[str, Any] = {}
            if name == "legal_basis" and text[:1] not in "[{":
                hit = (self.parse(text), False)
            else:
                hit = (self.value(name, text, scratch), bool(scratch.get("_abolished")))
            self.memo[key] = hit
        value, abolished = hit
        if abolished:
            data["_abolished"] = True
        if name == "legal_basis" and isinstance(value, tuple):
            return self.bases(self.cell(r, col), value)
        return value

    def parse(self, text: str) -> Any:
        """设定依据 in words -> typed bases (``basis_text``); text with no 《title》 stays one plain
        (unranked) basis, as written."""
        parsed = parse_bases(text, self.derive.ranks)
        if len(parsed) == 1 and "《" not in text:
            return text
        return tuple(parsed)

    def bases(self, where: str, parsed: tuple[Any, ...]) -> Any:
        """The parsed bases of one cell, each rank reported with its rule."""
        for p in parsed:
            self.derive.note(where, "legal_basis", f"{p.basis.text}: {p.basis.rank.value if p.basis.rank else '未定级'}",
                             p.rule, review=p.basis.rank is None)
        return [p.basis for p in parsed]

    def value(self, name: str, text: str, data: dict[str, Any]) -> Any:
        """A cell's text as the field ``name`` takes it (``data``: the row so far)."""
        if name == "methods":
            return self.methods_value(text, data)
        if name in ("legal_basis", "verification_limit") and text[:1] in "[{":
            try:
                return json.loads(text)  # typed bases, dated limits (as export-list writes them)
            except ValueError:
                if name == "verification_limit":
                    raise ValueError("核验时限不是有效的 JSON / 核验时限 is not valid JSON") from None
                return text
        parse = _CELL_VALUES.get(name)
        if parse is not None:
            return parse(text)
        if name in ListRow.model_fields and name not in L.HEADER_OF and text[:1] in "[{":
            # a column export-list named by its field (a field added after this module was written)
            try:
                return json.loads(text)
            except ValueError:
                return text
        return text

    def methods_value(self, text: str, data: dict[str, Any]) -> list[str]:
        """免提交方式: the methods named; 取消 words mark the row abolished (``data["_abolished"]``)."""
        methods: list[str] = []
        for word in (w for w in L.METHOD_SEPARATORS.split(text) if w):
            if word in self.abolish_words:
                data["_abolished"] = True
            elif word in self.method_words:
                methods.append(self.method_words[word].value)
            elif word not in self.other_words:
                known = "、".join([*L.KNOWN_METHOD_WORDS, *self.mapping.methods])
                raise ValueError(f"免提交方式 \"{word}\" is not a known method / 不是已知的免提交方式; known: {known}")
        return methods


def _records_value(text: str) -> str:
    """档案形式: a Chinese word, or an English key (the row's validation says if it is not one)."""
    return L.RECORD_WORDS[text].value if text in L.RECORD_WORDS else text


def _status_value(text: str) -> str:
    return L.STATUS_WORDS[text].value if text in L.STATUS_WORDS else text


def _on_the_spot_value(text: str) -> bool:
    if text.lower() not in L.ON_THE_SPOT_WORDS:
        raise ValueError(f"即办件应填“{L.YES}”或“{L.NO}” / 即办件 is {L.YES} (yes) or {L.NO} (no)")
    return L.ON_THE_SPOT_WORDS[text.lower()]


def _risks_value(text: str) -> list[str]:
    """风险类别: each part's key (``标签（key）`` or the key alone)."""
    out = []
    for part in (p for p in L.SEPARATORS.split(text) if p):
        m = L.RISK_WITH_KEY.match(part)
        out.append(m.group(1) if m else part)
    return out


def _limit_value(text: str) -> dict[str, Any]:
    """核验时限 in words: ``3个工作日；依据：…`` or ``30分钟；依据：…``."""
    m = L.LIMIT.match(text)
    if not m:
        raise ValueError("核验时限应写作 / write 核验时限 as \"3个工作日；依据：…\" or \"30分钟；依据：…\"")
    amount, unit, basis = int(m.group(1)), m.group(2), m.group(3).strip()
    key = "working_minutes" if "分钟" in unit else "working_days"
    return {key: amount, "basis": basis}


_CELL_VALUES: dict[str, Callable[[str], Any]] = {
    "records": _records_value,
    "status": _status_value,
    "on_the_spot": _on_the_spot_value,
    "risk_categories": _risks_value,
    "verification_limit": _limit_value,
}
"""The fields whose cell text is read into another form (the others are taken as written)."""


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


def units_text(result: ImportResult, folder: Path) -> str | None:
    """``folder/units.yaml`` with the units this import met for the first time (None: none new).
    The folder's own file only: a district's new units go to the district, never to its city."""
    if not result.derivation.new_units:
        return None
    path = folder / UNITS_NAME
    own = load_units_file(path) if path.is_file() else UnitsFile()
    known = {unit_key(u.name) for u in own.units}
    own.units.extend(u for u in result.derivation.new_units if unit_key(u.name) not in known)
    text = yaml.safe_dump(dump_units(own), allow_unicode=True, sort_keys=False, width=10_000)
    return ("# 开具单位 / issuing units (nocert_rules.policy.units); review: true = 由 import-list 新增，待确认 / "
            f"added by import-list, to confirm\n{text}")


def inferred_mapping(result: ImportResult) -> str:
    """``--write-mapping``: the mapping this import inferred (sheet, header row, columns, id prefix),
    for the list owner to edit and pass back with ``--mapping``."""
    doc: dict[str, Any] = {}
    if len(result.sheets) == 1:
        doc["sheet"] = result.sheet
        doc["header_row"] = result.header_row
    doc["columns"] = {h: f for h, f in result.columns.items() if f != L.SERIAL}  # 序号 is always known
    doc["methods"] = {}
    doc["defaults"] = {}
    doc["certificate_id_prefix"] = result.derivation.units.prefix
    Mapping.model_validate(doc)
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=10_000)
    return ("# 由 import-list 推断的映射 / the mapping import-list inferred; edit and re-run with --mapping\n"
            "# columns: 表头 -> 字段 (or ignore); methods: 词 -> data_sharing|pledge|verification|abolish|other\n" + text)


__all__ = ["ImportResult", "Limits", "ListImportError", "Mapping", "Problem", "Sheet", "dump_rows", "import_list",
           "inferred_mapping", "load_mapping", "read_sheets", "units_text", "write_atomically"]
