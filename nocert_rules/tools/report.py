"""A self-contained HTML report of a dry-run: the summary tables and an inline SVG chart.

One file, no JavaScript, no CDN, no external fonts or images: it can be mailed or archived
as it is. Every text that comes from the ruleset or the cases is escaped. The chart is a
horizontal stacked bar per issuing unit (出具单位), one colour per method, with a native SVG
``<title>`` tooltip on each segment.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from nocert_rules.enums import Method
from nocert_rules.models import SHANGHAI
from nocert_rules.policy.wording import RulesetWording
from nocert_rules.tools.dryrun import deadline_label, format_hours, format_minutes

METHOD_COLOURS: dict[str, str] = {
    "ABOLISH": "#7f8c8d",
    "APPLICANT_PROVIDED": "#e67e22",
    "DATA_SHARING": "#2e86de",
    "PLEDGE": "#27ae60",
    "VERIFICATION": "#8e44ad",
    "PROXY": "#c0392b",
}

_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;
margin:2em auto;max-width:1180px;color:#222;line-height:1.5;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:2em;border-bottom:2px solid #ddd;padding-bottom:.2em}
.meta{color:#555}.meta td{padding:0 1.2em 0 0}
table.data{border-collapse:collapse;margin:.6em 0;font-size:.92em}
table.data th,table.data td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
table.data th{background:#f4f6f8}
table.data td.num,table.data th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.ok{color:#1e8449;font-weight:bold}.bad{color:#c0392b;font-weight:bold}
.swatch{display:inline-block;width:.9em;height:.9em;border-radius:2px;margin-right:.3em;vertical-align:-.1em}
.bar{display:inline-block;height:.8em;background:#2e86de;vertical-align:middle}
.small{font-size:.85em;color:#666}
svg text{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif}
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _num(n: int | float) -> str:
    return f"{n:,}"


def _table(headers: list[tuple[str, bool]], rows: list[list[tuple[str, bool]]]) -> str:
    """Cells are (already-escaped html, numeric?)."""
    head = "".join(f'<th class="num">{h}</th>' if num else f"<th>{h}</th>" for h, num in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if num else f"<td>{c}</td>" for c, num in row) + "</tr>"
        for row in rows
    )
    return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _label(method: str, wording: RulesetWording) -> str:
    """``告知承诺 PLEDGE``: the method's Chinese label in the ruleset's ``wording``, and its name."""
    return f"{wording.method(Method(method)).zh} {method}"


def issuer_chart(issuers: list[dict[str, Any]], methods: list[str], wording: RulesetWording, *,
                 width: int = 1120) -> str:
    """An inline SVG: one horizontal stacked bar per issuing unit, methods as segments (named in
    the ruleset's ``wording``)."""
    label_w, right_pad, row_h, bar_h = 400, 70, 26, 18
    top = 56 + 22 * (sum(30 + 8 * len(m) + 14 * len(wording.method(Method(m)).zh) for m in methods) // (width - 20))
    plot_w = width - label_w - right_pad
    biggest = max((e["total"] for e in issuers), default=1) or 1
    height = top + row_h * len(issuers) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="max-width:100%;height:auto" role="img" '
        'aria-labelledby="chart-title">',
        '<title id="chart-title">各出具单位的处理方式 / Methods per issuing unit</title>',
    ]
    x, y_legend = 10.0, 8
    for method in methods:  # legend, wrapping to a new row when full
        text = _label(method, wording)
        item_w = 30 + sum(14 if ord(ch) > 0x2E80 else 7.8 for ch in text)
        if x + item_w > width - 10:
            x, y_legend = 10.0, y_legend + 22
        parts.append(f'<rect x="{x:.0f}" y="{y_legend}" width="14" height="14" '
                     f'fill="{METHOD_COLOURS.get(method, "#999")}"/>')
        parts.append(f'<text x="{x + 19:.0f}" y="{y_legend + 12}" font-size="13">{_e(text)}</text>')
        x += item_w
    # scale ticks
    for k in range(5):
        value = biggest * k / 4
        tx = label_w + plot_w * k / 4
        parts.append(f'<line x1="{tx:.1f}" y1="{top - 6}" x2="{tx:.1f}" y2="{height - 26}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{tx:.1f}" y="{height - 10}" font-size="11" fill="#777" text-anchor="middle">{value:,.0f}</text>')
    for i, entry in enumerate(issuers):
        y = top + i * row_h
        name = entry["issuer"]
        shown = name if len(name) <= 28 else name[:27] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h - 4}" font-size="13" text-anchor="end">'
                     f"<title>{_e(name)}</title>{_e(shown)}</text>")
        x0 = float(label_w)
        for method in methods:
            n = entry["methods"].get(method, 0)
            if not n:
                continue
            w = plot_w * n / biggest
            parts.append(
                f'<rect x="{x0:.1f}" y="{y}" width="{max(w, 0.5):.1f}" height="{bar_h}" '
                f'fill="{METHOD_COLOURS.get(method, "#999")}"><title>{_e(name)} — {_e(_label(method, wording))}: '
                f"{_num(n)}</title></rect>"
            )
            x0 += w
        parts.append(f'<text x="{x0 + 6:.1f}" y="{y + bar_h - 4}" font-size="12" fill="#333">{_num(entry["total"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(data: dict[str, Any], wording: RulesetWording, *, generated_at: datetime | None = None) -> str:
    """The whole report as one HTML string (``data`` is ``DryRunResult.to_dict()``; ``wording``:
    the manifest ``wording`` of the run's ruleset, which names the methods)."""
    out = _head(data, generated_at or datetime.now(SHANGHAI))
    out += _methods(data, wording)
    out += _pledges(data["pledge_blocked"])
    out += _deadlines(data["deadlines"])
    out += _listings(data)
    out.append('<p class="small">由 nocert-rules 生成；个人信息仅以脱敏形式出现 / generated by nocert-rules; '
               "personal data appears masked only.</p></body></html>")
    return "\n".join(out)


def _head(data: dict[str, Any], now: datetime) -> list[str]:
    """The document's head and the run's facts: ruleset, cases, rows, when, the result."""
    rs = data["ruleset"]
    exp, errs = data["expected"], data["errors"]
    problems = exp["mismatched"] + errs["count"]
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>试运行报告 Dry-run report — {_e(rs['name'])} {_e(rs['version'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>“无证明城市”规则试运行报告 <span class=\"small\">/ Dry-run report</span></h1>",
        '<table class="meta">',
        f"<tr><td>规则集 Ruleset</td><td>{_e(rs['name'])} {_e(rs['version'])} "
        f"<span class=\"small\">sha256 {_e(rs['sha256'])}</span></td></tr>",
        f"<tr><td>案例文件 Cases</td><td>{_e(data['cases_file'])}</td></tr>",
    ]
    if data.get("as_of"):
        out.append(f"<tr><td>申请时间 As of</td><td>{_e(data['as_of'])}</td></tr>")
    out += [
        f"<tr><td>行数 Rows</td><td>{_num(data['rows'])}（已决定 decided {_num(data['decided'])}，"
        f"格式错误 malformed {_num(data['malformed'])}；在清单内 listed {_num(data['listed'])}，"
        f"不在清单 not listed {_num(data['not_listed'])}）</td></tr>",
        f"<tr><td>生成时间 Generated</td><td>{_e(now.strftime('%Y-%m-%d %H:%M'))}"
        f"（用时 {data['elapsed_seconds']:.1f} s，jobs {data['jobs']}）</td></tr>",
        "<tr><td>结论 Result</td><td>"
        + ('<span class="ok">通过 OK</span>' if not problems else
           f'<span class="bad">需要处理 needs attention：预期不符 {_num(exp["mismatched"])} mismatches，'
           f'格式错误 {_num(errs["count"])} malformed rows</span>')
        + "</td></tr></table>",
    ]
    return out


def _methods(data: dict[str, Any], wording: RulesetWording) -> list[str]:
    """The chart per issuing unit, the methods with their shares, the issuer x method table."""
    decided = data["decided"] or 1
    methods = list(data["methods"])
    return [
        '<h2 id="chart">各出具单位的处理方式 / Methods per issuing unit</h2>',
        issuer_chart(data["issuers"], methods, wording),
        '<h2 id="methods">处理方式 / Methods</h2>',
        _table(
            [("方式 Method", False), ("件数 Cases", True), ("占比 Share", True), ("", False)],
            [[(f'<span class="swatch" style="background:{METHOD_COLOURS.get(m, "#999")}"></span>{_e(_label(m, wording))}', False),
              (_num(n), True), (f"{100 * n / decided:.1f}%", True),
              (f'<span class="bar" style="width:{300 * n / decided:.0f}px;background:{METHOD_COLOURS.get(m, "#999")}"></span>', False)]
             for m, n in data["methods"].items()],
        ),
        '<h2 id="issuers">出具单位 × 处理方式 / Issuing unit × method</h2>',
        _table(
            [("出具单位 Issuer", False)] + [(_e(_label(m, wording)), True) for m in methods] + [("合计 Total", True)],
            [[(_e(e["issuer"]), False)] + [(_num(e["methods"][m]) if e["methods"].get(m) else "·", True) for m in methods]
             + [(_num(e["total"]), True)] for e in data["issuers"]],
        ),
    ]


def _pledges(pb: dict[str, Any]) -> list[str]:
    return [
        f'<h2 id="pledges">告知承诺被阻止 / Pledges blocked: {_num(pb["cases"])} 件 cases</h2>',
        '<p class="small">清单允许告知承诺、但被规则阻止的案例（一个案例可被多条规则阻止） / cases where the list '
        "allowed a pledge but a rule blocked it (a case may be blocked by several rules)</p>",
        _table(
            [("规则 Rule", False), ("理由 Reason", False), ("次数 Times", True)],
            [[(_e(b["rule"]), False), (_e(b["reason"]), False), (_num(b["count"]), True)] for b in pb["by_rule"]],
        ),
    ]


def _deadlines(deadlines: list[dict[str, Any]]) -> list[str]:
    kinds = {"verification_reply": "核验回复<br>verification", "post_check": "事后核查<br>post-check"}
    return [
        '<h2 id="deadlines">期限分布 / Deadlines</h2>',
        '<p class="small">距到期的工作时间（仅计办公时间）与日历时间 / working time (office hours only) and '
        "calendar time from the request to the due moment</p>",
        _table(
            [("类型 Kind", False), ("规则 Rule", False), ("条款 Clause", False), ("件数 Cases", True),
             ("最短 Min", True), ("中位 Median", True), ("最长 Max", True), ("日历最长 Max calendar", True)],
            [[(kinds.get(d["kind"]) or _e(d["kind"]), False), (_e(deadline_label(d["rule"])), False), (f"<span style=\"white-space:nowrap\">{_e(d['clause'])}</span>", False),
              (_num(d["count"]), True), (_e(format_minutes(d["working_minutes"]["min"])), True),
              (_e(format_minutes(d["working_minutes"]["median"])), True),
              (_e(format_minutes(d["working_minutes"]["max"])), True),
              (_e(format_hours(d["calendar_hours"]["max"])), True)] for d in deadlines],
        ),
    ]


def _listings(data: dict[str, Any]) -> list[str]:
    """Warnings, the expected-method check with its mismatches, the malformed rows."""
    exp, errs = data["expected"], data["errors"]
    out = ['<h2 id="warnings">提示 / Warnings</h2>']
    if data["warnings"]:
        out.append(_table([("件数 Cases", True), ("内容 Text", False)],
                          [[(_num(w["count"]), True), (_e(w["text"]), False)] for w in data["warnings"]]))
    else:
        out.append("<p>无 / none</p>")
    out.append(f'<h2 id="expected">预期方式核对 / Expected methods: 核对 {_num(exp["checked"])}，'
               f'一致 {_num(exp["matched"])}，不符 {_num(exp["mismatched"])}</h2>')
    if exp["mismatches"]:
        out.append(_table([("案例 Case", False), ("行 Line", True), ("预期 Expected", False), ("实际 Got", False)],
                          [[(_e(m["case_id"] or "-"), False), (str(m["line"]), True), (_e(m["expected"]), False),
                            (_e(m["got"]), False)] for m in exp["mismatches"]]))
        if exp["mismatched"] > len(exp["mismatches"]):
            out.append(f'<p class="small">仅列前 {len(exp["mismatches"])} 项 / first {len(exp["mismatches"])} shown</p>')
    out.append(f'<h2 id="errors">格式错误的行 / Malformed rows: {_num(errs["count"])}</h2>')
    if errs["rows"]:
        out.append(_table([("行 Line", True), ("案例 Case", False), ("原因 Reason", False)],
                          [[(str(e["line"]), True), (_e(e["case_id"] or "-"), False), (_e(e["reason"]), False)]
                           for e in errs["rows"]]))
        if errs["count"] > len(errs["rows"]):
            out.append(f'<p class="small">仅列前 {len(errs["rows"])} 行 / first {len(errs["rows"])} shown</p>')
    return out


__all__ = ["METHOD_COLOURS", "issuer_chart", "render_html"]
