"""``export-list``: a ruleset's list as the list owner reads it, in Excel (.xlsx) or CSV.

Sheet 清单: 序号 and the columns of ``list_layout.COLUMNS`` (Chinese headers, one row per certificate,
methods in Chinese: 直接取消 / 数据共享 / 告知承诺 / 部门核验 / 其他), header frozen, column widths set.
Sheet 规则: every policy rule with its method, effect, condition, and the clause it cites with the
clause's text. ``import-list`` of the export gives back exactly the ruleset's rows.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from nocert_rules.enums import RowStatus
from nocert_rules.fileio import csv_cell, replace_atomically
from nocert_rules.policy.ruleset import ListRow, Ruleset
from nocert_rules.tools import list_layout as L

MISSING_EXCEL = (
    "写 .xlsx 需要可选依赖 / writing .xlsx needs the optional extra: pip install 'nocert-rules[excel]' (openpyxl)"
)
LIST_SHEET = "清单"
RULES_SHEET = "规则"
RULE_HEADERS = ["规则编号", "处理方式", "作用", "条件", "条款", "条款原文", "理由"]
WIDTHS = {"序号": 6, "证明编号": 14, "证明名称": 28, "涉及的政务服务事项名称": 30, "事项编码": 18, "设定依据": 40,
          "开具单位": 28, "开具单位部门": 14, "免提交方式": 20, "共享来源": 28, "档案形态": 10, "风险类别": 28,
          "状态": 8, "核验时限": 40, "备注": 40, "即办件": 8}
RULE_WIDTHS = [26, 12, 8, 48, 14, 60, 48]


def extra_fields() -> list[str]:
    """ListRow fields this layout has no Chinese column for (added later): exported under their own name."""
    return [f for f in ListRow.model_fields if f not in L.HEADER_OF]


def headers() -> list[str]:
    return [L.SERIAL, *(h for _, h in L.COLUMNS), *extra_fields()]


def _method_words(row: ListRow) -> list[str]:
    """The 替代方式 cell's words: 取消 for an abolished row, then the row's methods in order."""
    words = [L.ABOLISH] if row.status is RowStatus.ABOLISHED else []
    words.extend(L.WORD_OF_METHOD[m] for m in row.methods)
    return words or [L.OTHER]


def _limit_text(row: ListRow) -> str:
    """The verification limit: its words when it is one undated limit, else JSON."""
    limit = row.verification_limit
    if limit is None:
        return ""
    if not isinstance(limit, list) and limit.valid_from is None and limit.valid_until is None:
        return L.format_limit(limit.working_days, limit.working_minutes, limit.basis)
    return json.dumps(_jsonable(limit), ensure_ascii=False)


def row_cells(ruleset: Ruleset, serial: int, row: ListRow) -> list[Any]:
    labels = ruleset.manifest.pledge_policy.risk_categories
    # Typed legal bases and dated or several limits are written as JSON (import-list reads them back).
    basis: Any = row.legal_basis
    if basis is not None and not isinstance(basis, str):
        basis = json.dumps(_jsonable(basis), ensure_ascii=False)
    cells: dict[str, Any] = {
        "certificate_id": row.certificate_id,
        "certificate_name": row.certificate_name,
        "service_item_name": row.service_item_name,
        "service_item_code": row.service_item_code,
        "legal_basis": basis or "",
        "issuer": row.issuer,
        "issuer_department": row.issuer_department,
        "methods": "、".join(_method_words(row)),
        "sharing_source": row.sharing_source or "",
        "records": L.WORD_OF_RECORD[row.records],
        "risk_categories": "、".join(f"{labels[k]}（{k}）" if k in labels else k for k in row.risk_categories),
        "status": L.WORD_OF_STATUS[row.status],
        "verification_limit": _limit_text(row),
        "valid_from": row.valid_from.isoformat() if row.valid_from else "",
        "valid_until": row.valid_until.isoformat() if row.valid_until else "",
        "note": row.note or "",
        "on_the_spot": L.YES if row.on_the_spot else L.NO,
    }
    out: list[Any] = [serial, *(cells[f] for f, _ in L.COLUMNS)]
    for name in extra_fields():
        value = getattr(row, name)
        if value is None:
            out.append("")
        elif isinstance(value, str | int | float):
            out.append(value if not isinstance(value, bool) else json.dumps(value))
        else:
            out.append(json.dumps(_jsonable(value), ensure_ascii=False))
    return out


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def rule_cells(ruleset: Ruleset) -> list[list[str]]:
    out = []
    for rule in ruleset.rules:
        clause = ruleset.clauses.get(rule.clause)
        out.append([
            rule.id,
            f"{ruleset.manifest.wording.method(rule.method).zh} {rule.method.value}",
            "提供 offer" if rule.effect == "offer" else "阻止 block",
            json.dumps(rule.when, ensure_ascii=False),
            rule.clause,
            clause.text if clause else "",
            rule.reason,
        ])
    return out


def export_list(ruleset: Ruleset, out: str | Path) -> int:
    """Write the list (and, for .xlsx, the rules sheet) to ``out`` atomically; the rows written.

    Text is never a formula (issue 25, row 7): in .xlsx every text cell is a string cell; in CSV a
    cell starting with ``=`` ``+`` ``-`` ``@`` TAB or CR gets a leading ``'`` (``fileio.csv_cell``), which
    import-list takes off again."""
    out = Path(out)
    table = [headers(), *(row_cells(ruleset, i, row) for i, row in enumerate(ruleset.rows, start=1))]
    suffix = out.suffix.lower()
    if suffix == ".csv":
        buffer = io.StringIO(newline="")
        csv.writer(buffer).writerows([[csv_cell(v) if isinstance(v, str) else v for v in row] for row in table])
        replace_atomically(out, ("\ufeff" + buffer.getvalue()).encode("utf-8"))  # BOM: Excel opens it as UTF-8
        return len(ruleset.rows)
    if suffix != ".xlsx":
        raise ValueError(f"{out}: 只能写 .xlsx 或 .csv / only .xlsx or .csv")
    replace_atomically(out, _xlsx(table, [RULE_HEADERS, *rule_cells(ruleset)]))
    return len(ruleset.rows)


def _xlsx(table: list[list[Any]], rules: list[list[Any]]) -> bytes:
    """The workbook, streamed (openpyxl write-only mode): header bold, frozen and filtered, widths set."""
    try:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter
    except ImportError:
        raise ImportError(MISSING_EXCEL) from None
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    centre = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for title, rows, widths in ((LIST_SHEET, table, [WIDTHS.get(h, 20) for h in table[0]]),
                                (RULES_SHEET, rules, RULE_WIDTHS)):
        ws = book.create_sheet(title)
        for col, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(col)].width = width
        ws.freeze_panes = "A2"
        if title == LIST_SHEET:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(rows[0]))}{len(rows)}"
        head = []
        for text in rows[0]:
            cell = WriteOnlyCell(ws, value=text)
            cell.font, cell.alignment = bold, centre
            head.append(cell)
        ws.append(head)
        for values in rows[1:]:
            ws.append([_text_cell(ws, v, WriteOnlyCell) if isinstance(v, str) and v[:1] == "=" else v
                       for v in values])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text_cell(ws: Any, text: str, cell_type: Any) -> Any:
    """A cell openpyxl would store as a formula (text starting with ``=``), stored as text."""
    cell = cell_type(ws, value=text)
    cell.data_type = "s"
    return cell


__all__ = ["export_list", "headers", "row_cells", "rule_cells"]
