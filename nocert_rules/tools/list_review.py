"""The review report ``import-list`` writes beside the YAML (HTML or .xlsx, the list owner's choice).

For the people who own the list (司法局, 行政审批服务局), not for YAML readers: each imported row as
the ruleset decides it (its methods in order, the method a plain request gets, the rules that
fired with their clauses), every value the importer derived or defaulted highlighted with why,
every row the rules abolish and why, the rows skipped (titles, sections, notes) and every problem
with its cell. Sheets (or sections): 清单 (rows), 推导值 (derived values), 取消 (abolished rows),
问题 (problems), 跳过 (skipped rows).
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from nocert_rules.enums import RowStatus
from nocert_rules.fileio import replace_atomically
from nocert_rules.policy.ruleset import ListRow, Ruleset
from nocert_rules.privacy import mask_text, printable
from nocert_rules.tools import list_layout as L
from nocert_rules.tools.list_derive import Derived
from nocert_rules.tools.list_import import ImportResult

REVIEW_APPLICANT = {"kind": "person", "id_number": "110101199003070012"}
"""The applicant of the plain request each row is decided for (a made-up, valid ID number: the
report masks it like every output; the decision depends on the row and the rules, not on it)."""

ROW_HEADERS = ["来源 / from", "证明编号", "证明名称", "事项编码", "涉及的政务服务事项名称", "开具单位", "开具单位部门",
               "档案形态", "共享来源", "设定依据", "免提交方式（顺序）", "状态", "决定 / decided", "规则与条款 / rules"]
ROW_FIELDS = [None, "certificate_id", "certificate_name", "service_item_code", "service_item_name", "issuer",
              "issuer_department", "records", "sharing_source", "legal_basis", "methods", "status", None, None]


@dataclass
class ReportCell:
    text: str
    derived: str | None = None  # why the importer gave it (highlighted)
    review: bool = False


@dataclass
class Review:
    source: str
    rows: list[list[ReportCell]] = field(default_factory=list)
    abolished: list[list[str]] = field(default_factory=list)
    derived: list[list[str]] = field(default_factory=list)
    problems: list[list[str]] = field(default_factory=list)
    skipped: list[list[str]] = field(default_factory=list)
    note: str = ""


def _safe(text: Any) -> str:
    return printable(mask_text(str(text), keep_credit_codes=True))


def _row_of(where: str) -> tuple[str, str]:
    """``清单!F12`` -> (``清单``, ``12``)."""
    sheet, _, cell = where.rpartition("!")
    return sheet, "".join(ch for ch in cell if ch.isdigit())


def _basis(row: ListRow) -> str:
    return "；".join(f"{b.text}（{b.rank.value if b.rank else '未定级'}）" for b in row.bases)


def _decide(engine: Any, row: ListRow) -> tuple[str, str, bool]:
    """The method a plain request for ``row`` gets, the rules and clauses that fired, and whether it abolishes."""
    if engine is None:
        return "", "", False
    from nocert_rules.enums import Method

    day = row.valid_from or date.today()
    request = {"request_id": "REVIEW", "service_item": row.service_item_code, "certificate": row.certificate_id,
               "applicant": REVIEW_APPLICANT, "requested_at": datetime.combine(day, time(10)).isoformat(),
               "sharing_online": True}
    decision = engine.decide(request)
    steps = [f"{s.rule_id}（{s.citation.clause_id}）" if s.citation else s.rule_id for s in decision.trace
             if not s.rule_id.startswith("engine.")]
    label = engine.ruleset.manifest.wording.method(decision.method).zh
    return f"{label} {decision.method.value}", "；".join(steps), decision.method is Method.ABOLISH


def build(result: ImportResult, source: str, ruleset: Ruleset | None) -> Review:
    """The report's content (``ruleset``: the folder's ruleset with the imported list, to decide each row)."""
    review = Review(source)
    engine = None
    if ruleset is not None:
        from nocert_rules.engine.core import Engine

        engine = Engine(ruleset)
    else:
        review.note = ("规则集未加载（有问题或缺少 manifest），未作决定 / the ruleset was not loaded (problems, or no "
                       "manifest): rows are not decided")
    by_row: dict[tuple[str, str, str], list[Derived]] = {}  # (sheet, row number, field) -> derived values
    for d in result.derived:
        by_row.setdefault((*_row_of(d.where), d.field), []).append(d)
        review.derived.append([d.where, d.field, _safe(d.value), d.source, "待确认 review" if d.review else ""])
    for row, origin in zip(result.rows, result.origins, strict=True):
        sheet, number = _row_of(origin)
        decided, rules, abolished = _decide(engine, row)
        values = {
            "certificate_id": row.certificate_id, "certificate_name": row.certificate_name,
            "service_item_code": row.service_item_code, "service_item_name": row.service_item_name,
            "issuer": row.issuer, "issuer_department": row.issuer_department,
            "records": L.WORD_OF_RECORD[row.records], "sharing_source": row.sharing_source or "",
            "legal_basis": _basis(row),
            "methods": "、".join([L.ABOLISH] * (row.status is RowStatus.ABOLISHED)
                                + [L.WORD_OF_METHOD[m] for m in row.methods]) or L.OTHER,
            "status": L.WORD_OF_STATUS[row.status],
        }
        cells = []
        for name in ROW_FIELDS:
            if name is None:
                continue
            notes = by_row.get((sheet, number, name), [])
            if name == "certificate_id":
                notes = [d for d in notes if d.value == row.certificate_id]
            cells.append(ReportCell(_safe(values[name]), "；".join(d.source for d in notes) or None,
                                    any(d.review for d in notes)))
        review.rows.append([ReportCell(origin), *cells, ReportCell(decided), ReportCell(rules)])
        if abolished:
            review.abolished.append([origin, row.certificate_id, _safe(row.certificate_name), row.service_item_code,
                                     _basis(row) or "无设定依据 / no legal basis", rules])
    review.problems = [[p.where, p.message] for p in result.problems]
    review.skipped = [[where, _safe(text)] for where, text in result.skipped]
    return review


# ---------------------------------------------------------------- HTML

_CSS = """body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:2em}
td,th{border:1px solid #bbb;padding:3px 6px;vertical-align:top;font-size:13px}th{background:#eee}
td.derived{background:#fff3c4}td.review{background:#ffd0c8;font-weight:bold}.legend span{padding:2px 8px}"""


def _html_table(headers: list[str], rows: list[list[ReportCell]] | list[list[str]]) -> str:
    out = ["<table><tr>", *(f"<th>{html.escape(h)}</th>" for h in headers), "</tr>"]
    for row in rows:
        out.append("<tr>")
        for cell in row:
            if isinstance(cell, ReportCell):
                cls = "review" if cell.review else "derived" if cell.derived else ""
                title = f' title="{html.escape(cell.derived)}"' if cell.derived else ""
                out.append(f'<td class="{cls}"{title}>{html.escape(cell.text)}</td>')
            else:
                out.append(f"<td>{html.escape(str(cell))}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def render_html(review: Review) -> str:
    parts = [f"<!doctype html><html lang=zh><meta charset=utf-8><title>导入审核 {html.escape(review.source)}</title>",
             f"<style>{_CSS}</style><h1>清单导入审核 / import review: {html.escape(review.source)}</h1>",
             f"<p>{len(review.rows)} 行 rows；{len(review.derived)} 个推导值 derived values；"
             f"{len(review.abolished)} 行取消 abolished；{len(review.problems)} 个问题 problems</p>",
             '<p class=legend><span style="background:#fff3c4">推导或默认值 / derived or defaulted (hover: why)</span> '
             '<span style="background:#ffd0c8">待确认 / to review</span></p>']
    if review.note:
        parts.append(f"<p><b>{html.escape(review.note)}</b></p>")
    parts += ["<h2>问题 / problems</h2>", _html_table(["单元格 / cell", "问题 / problem"], review.problems),
              "<h2>清单 / rows as decided</h2>", _html_table(ROW_HEADERS, review.rows),
              "<h2>取消 / abolished by the rules</h2>",
              _html_table(["来源 / from", "证明编号", "证明名称", "事项编码", "设定依据", "规则与条款 / rules"], review.abolished),
              "<h2>推导值 / derived values</h2>",
              _html_table(["单元格 / cell", "字段 / field", "值 / value", "依据 / why", ""], review.derived),
              "<h2>跳过的行 / skipped rows (titles, sections, notes)</h2>",
              _html_table(["行 / row", "内容 / text"], review.skipped), "</html>"]
    return "\n".join(parts)


# ---------------------------------------------------------------- xlsx


def render_xlsx(review: Review) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    fills = {"derived": PatternFill("solid", fgColor="FFF3C4"), "review": PatternFill("solid", fgColor="FFD0C8")}

    def sheet(title: str, headers: list[str], rows: list[list[ReportCell]] | list[list[str]]) -> None:
        ws = book.create_sheet(title)
        ws.freeze_panes = "A2"
        head = []
        for h in headers:
            c = WriteOnlyCell(ws, value=h)
            c.font = bold
            head.append(c)
        ws.append(head)
        for row in rows:
            out = []
            for cell in row:
                text = cell.text if isinstance(cell, ReportCell) else str(cell)
                c = WriteOnlyCell(ws, value=text)
                c.data_type = "s"  # text, never a formula
                if isinstance(cell, ReportCell) and cell.derived:
                    c.fill = fills["review" if cell.review else "derived"]
                    c.comment = Comment(cell.derived, "import-list")
                out.append(c)
            ws.append(out)

    sheet("清单", ROW_HEADERS, review.rows)
    sheet("推导值", ["单元格 / cell", "字段 / field", "值 / value", "依据 / why", ""], review.derived)
    sheet("取消", ["来源 / from", "证明编号", "证明名称", "事项编码", "设定依据", "规则与条款 / rules"], review.abolished)
    sheet("问题", ["单元格 / cell", "问题 / problem"], review.problems)
    sheet("跳过", ["行 / row", "内容 / text"], review.skipped)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_report(path: Path, review: Review) -> None:
    """Write the report (.html or .xlsx by ``path``'s suffix) atomically."""
    if path.suffix.lower() == ".xlsx":
        replace_atomically(path, render_xlsx(review))
    else:
        replace_atomically(path, render_html(review).encode("utf-8"))


__all__ = ["REVIEW_APPLICANT", "Review", "build", "render_html", "render_xlsx", "write_report"]
